// The TLS module (imageupdater-tls.so): Poco::NetSSL sessions over OpenSSL contexts made by
// TlsContext. Loaded by load_tls_module(); see tls_module.hpp for why it is separate.
#include "common/http/tls_module.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "common/http/socket_timeouts.hpp"
#include "common/http/tls_context.hpp"

namespace common::http::detail {
namespace {

using util::ErrorKind;

// Balances Poco::Net::initializeSSL()/uninitializeSSL() (reference counted by Poco).
struct SslLibrary {
  SslLibrary() { Poco::Net::initializeSSL(); }
  ~SslLibrary() { Poco::Net::uninitializeSSL(); }
  SslLibrary(const SslLibrary&) = delete;
  SslLibrary& operator=(const SslLibrary&) = delete;
};

// The OpenSSL errors queued by the calling thread, as one line, and the queue cleared.
std::string openssl_errors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out;
}

class OpenSslStream final : public TlsServerStream {
public:
  explicit OpenSslStream(SSL* ssl) : m_ssl(ssl) {}
  ~OpenSslStream() override {
    // No close_notify exchange: the caller closes the socket (a peer that is gone must not make
    // this block or raise SIGPIPE).
    SSL_set_quiet_shutdown(m_ssl, 1);
    SSL_free(m_ssl);
  }
  OpenSslStream(const OpenSslStream&) = delete;
  OpenSslStream& operator=(const OpenSslStream&) = delete;

  Io handshake() override { return result(SSL_accept(m_ssl)); }
  Io read(char* buffer, std::size_t size, std::size_t& got) override {
    got = 0;
    const int rc = SSL_read_ex(m_ssl, buffer, size, &got);
    return rc == 1 ? Io::ok : result(rc);
  }
  Io write(const char* buffer, std::size_t size, std::size_t& put) override {
    put = 0;
    const int rc = SSL_write_ex(m_ssl, buffer, size, &put);
    return rc == 1 ? Io::ok : result(rc);
  }
  std::string last_error() const override { return m_error; }

private:
  Io result(int rc) {
    if (rc == 1) {
      return Io::ok;
    }
    switch (SSL_get_error(m_ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return Io::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Io::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return Io::closed;
    case SSL_ERROR_SYSCALL:
      m_error = "connection closed or failed (" + openssl_errors() + ")";
      return Io::closed;
    default:
      m_error = openssl_errors();
      return Io::error;
    }
  }
  SSL* m_ssl;
  std::string m_error;
};

class OpenSslServerContext final : public TlsServerContext {
public:
  explicit OpenSslServerContext(SSL_CTX* ctx) : m_ctx(ctx) {}
  ~OpenSslServerContext() override { SSL_CTX_free(m_ctx); }
  OpenSslServerContext(const OpenSslServerContext&) = delete;
  OpenSslServerContext& operator=(const OpenSslServerContext&) = delete;
  std::unique_ptr<TlsServerStream> wrap(int fd) const override {
    SSL* ssl = SSL_new(m_ctx);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
      SSL_free(ssl);
      ERR_clear_error();
      return nullptr;
    }
    return std::make_unique<OpenSslStream>(ssl);
  }

private:
  SSL_CTX* m_ctx;
};

class PocoTlsConnector final : public TlsConnector {
public:
  // `library` first: initialised before the context is made, released after it is gone.
  PocoTlsConnector(std::unique_ptr<SslLibrary> library, std::shared_ptr<TlsContext> context)
      : m_library(std::move(library)), m_context(std::move(context)) {}

  // Poco 1.11 can connect a session itself, but then it does not bound the TLS handshake (a peer
  // that accepts and stays silent blocks it for several read timeouts), so the handshake is
  // driven here. The session has no host of its own, which also disables Poco's silent
  // reconnect-and-resend.
  std::unique_ptr<Poco::Net::HTTPClientSession> open(const Url& url,
                                                     std::chrono::milliseconds timeout) override {
    const Poco::Net::SocketAddress address(url.host, url.port);
    // The session must be made around the unconnected socket (it refuses a connected one); it
    // shares the socket, which is then connected here.
    Poco::Net::SecureStreamSocket socket(Poco::Net::Context::Ptr(m_context->context(), true));
    auto session = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
    socket.setPeerHostName(url.host); // SNI and the host name check
    socket.setLazyHandshake(true);
    socket.connect(address, to_timespan(timeout));
    socket.setNoDelay(true);
    // Poco 1.11 throws TimeoutException when a handshake read/write outlasts the socket timeouts.
    set_timeouts(socket, true, timeout);
    if (socket.completeHandshake() != 1) {
      throw Poco::Net::SSLConnectionUnexpectedlyClosedException("during the TLS handshake");
    }
    // completeHandshake() checks the chain (our verify callback); the name is checked here.
    // With VERIFY_NONE (insecure_skip_verify) Poco skips this check.
    socket.verifyPeerCertificate(url.host);
    return session;
  }

  std::optional<util::Error> verification_error(const Poco::Exception& e, const std::string& what,
                                                const Url& url) override {
    const std::string detail = " (" + e.displayText() + ")";
    const auto make = [&](ErrorKind kind, const std::string& text) {
      return util::Error{kind, what + ": " + text};
    };
    // OpenSSL only says "certificate verify failed"; the callback recorded why.
    if (auto reason = m_context->take_failure()) {
      return make(ErrorKind::auth, "TLS certificate of " + url.host + " not trusted: " + *reason);
    }
    if (dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::InvalidCertificateException*>(&e) != nullptr) {
      return make(ErrorKind::auth,
                  "TLS certificate is not valid for host name " + url.host + detail);
    }
    if (dynamic_cast<const Poco::Net::SSLContextException*>(&e) != nullptr) {
      return make(ErrorKind::internal, "TLS setup failed" + detail);
    }
    if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr &&
        e.displayText().find("certificate verify failed") != std::string::npos) {
      return make(ErrorKind::auth, "TLS certificate of " + url.host + " not trusted" + detail);
    }
    return std::nullopt;
  }

private:
  std::unique_ptr<SslLibrary> m_library;
  std::shared_ptr<TlsContext> m_context;
};

class PocoTlsModule final : public TlsModule {
public:
  util::Result<std::shared_ptr<TlsConnector>>
  connector(const TlsOptions& tls, const std::string& system_ca) const override {
    auto library = std::make_unique<SslLibrary>();
    auto context = TlsContext::make(tls, system_ca);
    if (!context) {
      return std::unexpected(context.error());
    }
    return std::make_shared<PocoTlsConnector>(std::move(library), std::move(*context));
  }

  bool is_closed_connection(const Poco::Exception& e) const override {
    return dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr;
  }

  bool is_tls_error(const Poco::Exception& e) const override {
    return dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr;
  }

  void clear_errors() const override { clear_openssl_errors(); }

  util::Result<std::unique_ptr<TlsServerContext>>
  server_context(const std::string& cert_file, const std::string& key_file) const override {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    const auto failed =
        [&](const std::string& what) -> util::Result<std::unique_ptr<TlsServerContext>> {
      const std::string why = openssl_errors();
      SSL_CTX_free(ctx);
      return util::fail(ErrorKind::invalid_input, "cannot load TLS certificate " + cert_file +
                                                      " and key " + key_file + ": " + what +
                                                      (why.empty() ? "" : " (" + why + ")"));
    };
    if (ctx == nullptr) {
      return failed("no TLS context");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:@STRENGTH") != 1) {
      return failed("cipher list");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
      return failed("the certificate chain");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return failed("the private key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return failed("the key does not match the certificate");
    }
    return std::unique_ptr<TlsServerContext>(std::make_unique<OpenSslServerContext>(ctx));
  }
};

} // namespace
} // namespace common::http::detail

// The module's one exported symbol (everything else is hidden: -fvisibility=hidden).
extern "C" __attribute__((visibility("default"))) const common::http::detail::TlsModule*
imageupdater_tls_module_v1() {
  // Stateless, constant: the one object the module hands out.
  static const common::http::detail::PocoTlsModule k_module;
  return &k_module;
}
