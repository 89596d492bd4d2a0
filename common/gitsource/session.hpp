// Internal to common::gitsource: one conversation with a remote through libgit2 (connect, list
// refs, download into the mirror), with the callbacks that enforce the auth policy and the
// deadline, and the TCP reachability check that bounds connecting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/gitsource/git.hpp"
#include "common/gitsource/gitsource.hpp"
#include "common/gitsource/refs.hpp"
#include "common/gitsource/remote_url.hpp"
#include "common/util/error.hpp"

namespace common::gitsource::detail {

using Deadline = std::chrono::steady_clock::time_point;

struct SessionConfig {
  RemoteUrl url;
  std::string display; // canonical_url(url)
  Auth auth;           // validated (validate_request)
  std::string ca_pem;  // the content of auth.ca_file, "" when none
  Deadline deadline;
  std::chrono::milliseconds timeout{0}; // for messages
  std::vector<std::string> secrets;     // never to appear in a message
};

struct Advertisement {
  std::vector<RemoteRef> refs; // "^{}" entries folded into RemoteRef::peeled
  std::string head_target;     // where HEAD points ("refs/heads/main"), "" when not advertised
};

class Session {
public:
  // An in-memory remote for config.url in `repo` (no instead-of rewriting, no configured
  // refspecs, no proxy), connected for fetching: TLS certificate / ssh host key and
  // credentials are checked here. Errors as described in gitsource.hpp.
  static util::Result<Session> connect(git_repository* repo, SessionConfig config);

  Session(Session&&) noexcept;
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // The refs the remote advertised when connecting.
  util::Result<Advertisement> list();

  // Downloads what `refspecs` name and updates the mirror's refs accordingly (no tags beyond
  // the refspecs, no pruning, no FETCH_HEAD).
  util::Result<void> download(const std::vector<std::string>& refspecs);

  struct State; // the callbacks' payload (session.cpp)

private:
  Session(std::unique_ptr<State> state, GitPtr<git_remote> remote);
  util::Error failure(int code, std::string_view what);

  std::unique_ptr<State> m_state; // the callbacks' payload: its address must not change
  GitPtr<git_remote> m_remote;
};

// A TCP connection to host:port (every address it resolves to, in turn) within the deadline,
// closed at once. transient naming `display` when none connects or the deadline passes.
util::Result<void> check_reachable(const std::string& host, std::uint16_t port, Deadline deadline,
                                   std::chrono::milliseconds timeout, const std::string& display);

} // namespace common::gitsource::detail
