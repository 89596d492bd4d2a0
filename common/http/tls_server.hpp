// The TLS side of a server, for common/server: a listening socket that speaks TLS, made by the
// TLS module (tls_module.hpp says why TLS lives in a module loaded on first use).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/util/error.hpp"

namespace Poco::Net {
class ServerSocket;
} // namespace Poco::Net

namespace common::http {

// A socket listening on host:port (port 0 = any) whose connections speak TLS 1.2 or later with
// the certificate chain in `cert_file` and the private key in `key_file` (PEM); clients are not
// asked for certificates. The handshake happens on a connection's first read, so a slow client
// holds a worker thread (within its timeouts), never the accepting thread. Fails with internal
// when the TLS module cannot be loaded, invalid_input when the certificate or key cannot be
// loaded (or do not match), transient when the address cannot be bound.
util::Result<std::unique_ptr<Poco::Net::ServerSocket>>
tls_server_socket(const std::string& host, std::uint16_t port, const std::string& cert_file,
                  const std::string& key_file);

} // namespace common::http
