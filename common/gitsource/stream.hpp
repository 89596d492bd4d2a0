// Internal to common::gitsource: the sockets libgit2 uses, bounded by the deadline of the git
// session on the calling thread. libgit2 1.5 has no socket timeout, so a server that accepts a
// connection and then stays silent held a worker for minutes; this stream (registered as
// libgit2's standard socket stream, which its HTTP(S), git:// and ssh transports all open)
// connects, reads and writes against the session's deadline, and a watchdog shuts the socket
// down at the deadline for libssh2, which reads the descriptor itself.
#pragma once

#include <chrono>

namespace common::gitsource::detail {

// Registers the stream with libgit2 (after git_libgit2_init(); again after a re-init).
// Process-wide by nature: libgit2's stream registry is.
void install_deadline_stream();

// The sockets take the deadline of util::ThreadDeadline on the thread that opens them (a socket
// opened outside one gets 60 s from its connect).

} // namespace common::gitsource::detail
