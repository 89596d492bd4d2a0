// The TLS side of a server, for common/server: non-blocking TLS connections over sockets the
// server owns, made by the TLS module (tls_module.hpp says why TLS lives in a module loaded on
// first use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/util/error.hpp"

namespace common::http {

namespace detail {
// One TLS connection of a server, over a non-blocking socket the caller owns (and closes after
// destroying this). Every call does what it can without blocking and says what it waits for.
class TlsServerStream {
public:
  enum class Io { ok, want_read, want_write, closed, error };
  virtual ~TlsServerStream() = default;
  virtual Io handshake() = 0;
  // Reads up to `size` bytes into `buffer`; `got` is set when ok.
  virtual Io read(char* buffer, std::size_t size, std::size_t& got) = 0;
  // Writes up to `size` bytes; `put` is set when ok (may be less than size).
  virtual Io write(const char* buffer, std::size_t size, std::size_t& put) = 0;
  // The reason of the last error, for logs (never data).
  virtual std::string last_error() const = 0;
};

// A server's TLS setting: TLS 1.2 or later, the PEM certificate chain and key; no client
// certificates.
class TlsServerContext {
public:
  virtual ~TlsServerContext() = default;
  virtual std::unique_ptr<TlsServerStream> wrap(int fd) const = 0;
};

} // namespace detail

// A context for non-blocking TLS server connections (tls_module.hpp loads the module on first
// use): TLS 1.2 or later with the PEM chain in `cert_file` and the key in `key_file`; clients
// are not asked for certificates. Fails with internal when the TLS module cannot be loaded,
// invalid_input when the certificate or key cannot be loaded (or do not match).
util::Result<std::unique_ptr<detail::TlsServerContext>>
tls_server_context(const std::string& cert_file, const std::string& key_file);

} // namespace common::http
