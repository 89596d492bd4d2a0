// The real http::Client, over Poco::Net 1.11 (HTTP/1.1, keep-alive, TLS through OpenSSL).
//
// Connections: one small pool of idle keep-alive connections per origin, shared by every
// thread that calls send() (the pool is guarded by a mutex; a connection is used by one request
// at a time, so send() may be called concurrently). A connection goes back to the pool only when
// its response was read to the end and the server allows keep-alive. An idle connection the
// server has closed (readable while idle) or older than idle_timeout is dropped when taken.
//
// Retry once: if a REUSED connection fails while the request is being sent, or is closed
// before any of the response head arrived (the server closed it while idle), a GET or HEAD is
// sent again, once, on a fresh connection. Any other method fails with transient ("kept-alive
// connection failed") and is never replayed; timeouts and malformed responses are never
// retried. Poco's own silent reconnect-and-resend is disabled. Callers do their own retries
// (backoff, 429/5xx) on top.
//
// Timeouts (Limits): connect_timeout bounds the TCP connect and, separately, the TLS handshake
// (DNS resolution is not bounded: it is a blocking getaddrinfo()). read_timeout bounds the wait
// for the response head, each read of the body and the whole body.
//
// TLS: certificates are verified by default (chain against the system bundle plus the origin's
// extra CA; then the host name, IP addresses included, against the certificate's SAN). A failure
// is ErrorKind::auth naming the host and the reason ("self-signed certificate", "not valid for
// host name ..."). TLS 1.2 at least, SNI sent. Each distinct TLS setting gets its own OpenSSL
// context; nothing is installed in Poco's SSLManager (no global handlers or default contexts).
//
// Response headers: Poco's parser (1.11, ListMap) keeps names in the order they first appear
// and groups a repeated name's values right after its first occurrence, in received order. So
// every value of Link or WWW-Authenticate is kept, in order; only the interleaving of different
// names may differ from the wire. Names keep the case the server sent. Poco's limits on the
// response head (100 fields, 8 KiB per value) fail with too_large.
//
// Request headers are sent as given, except Content-Length, Transfer-Encoding and Connection
// (the client frames the body itself: Content-Length for any body and for POST/PUT/PATCH).
// Host and User-Agent are added unless present.
//
// SIGPIPE: writing to a connection the peer closed would raise SIGPIPE; send() blocks it in the
// calling thread for its duration and discards the one it caused (no process-wide change).
//
// Streaming (open()): a fresh connection per stream, never pooled; the deadline (read_timeout)
// and cancel() both shut the socket down, which ends a blocked read at once. A stream must not
// outlive the client that opened it.
//
// Client certificates (TlsOptions): loaded into the origin's context; a certificate or key
// that does not load, or a key that does not match, fails the first request to that origin
// with invalid_input naming the file (or "client certificate PEM data"), never the key.
//
// Not supported: redirects (never followed; see Client), proxies (HTTP(S)_PROXY is ignored),
// HTTP/2, response compression (no Accept-Encoding is sent).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "common/http/client.hpp"
#include "common/util/error.hpp"

namespace common::http {

struct TlsOptions {
  // A PEM file of CA certificates trusted for this origin in addition to the system bundle.
  std::string ca_file;
  // No chain and no host name verification at all. Never the default; callers should log it.
  bool insecure_skip_verify = false;
  // CA certificates as PEM text (a kubeconfig's certificate-authority-data), trusted in addition
  // to ca_file.
  std::string ca_pem = {};
  // A client certificate (chain) and its private key, presented when the server asks: each as
  // a PEM file or as PEM text (not both). Both parts or neither.
  std::string client_cert_file = {};
  std::string client_key_file = {};
  std::string client_cert_pem = {};
  std::string client_key_pem = {};

  bool operator==(const TlsOptions&) const = default;
};

struct ClientOptions {
  // Sent as User-Agent unless the request sets one.
  std::string user_agent = "imageupdater";
  // Per-origin TLS settings, keyed by "https://host[:port]" (normalised: the port may be left
  // out, the host is case-insensitive). Origins not listed verify against the system bundle.
  std::map<std::string, TlsOptions> tls;
  // The system CA bundle. Empty: $SSL_CERT_FILE when set and not empty, else
  // /etc/ssl/certs/ca-certificates.crt. A missing bundle is not an error by itself: only the
  // per-origin CAs are trusted then.
  std::string system_ca_file;
  // Idle keep-alive connections kept per origin; 0 disables reuse.
  std::size_t max_idle_per_origin = 4;
  // Idle connections older than this are closed instead of reused.
  std::chrono::milliseconds idle_timeout{30000};
};

// $SSL_CERT_FILE when set and not empty, else /etc/ssl/certs/ca-certificates.crt.
std::string default_ca_file();

class PocoClient final : public Client {
public:
  // Validates the options: every `tls` key must be an https origin (no path beyond "/", no
  // query) and every ca_file must be a readable file, else invalid_input naming the key or the
  // file (likewise client_cert_file and client_key_file; a certificate without its key, or a
  // key without its certificate, or a file and PEM text for the same part, is invalid_input
  // too). Poco's SSL library is initialised on the first https request and uninitialised in the
  // destructor (initializeSSL()/uninitializeSSL(), reference counted by Poco).
  static util::Result<std::unique_ptr<PocoClient>> create(ClientOptions options);

  ~PocoClient() override;
  PocoClient(const PocoClient&) = delete;
  PocoClient& operator=(const PocoClient&) = delete;

  // See Client::send and the file comment. Also fails with invalid_input for a method that is
  // not an upper-case token, a header name that is not a token or a value with CR/LF/NUL, and
  // non-positive timeouts. Error messages name the method and the URL without its query
  // (to_display; never header values or query strings, which may hold signatures);
  // a truncated body (connection closed before Content-Length bytes) is transient.
  util::Result<Response> send(const Request& request, const Limits& limits) override;
  // See Client::open and the file comment; validates the request like send().
  util::Result<std::unique_ptr<ResponseStream>> open(const Request& request,
                                                     const Limits& limits) override;

  // Idle connections currently pooled, over all origins (for tests and metrics).
  std::size_t idle_connections() const;

private:
  struct Impl;
  explicit PocoClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::http
