#include "common/http/poco_client.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <sys/socket.h>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include "common/http/socket_timeouts.hpp"
#include "common/http/tls_module.hpp"
#include "common/http/url.hpp"
#include "common/util/sigpipe_guard.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"
#include "common/util/watchdog.hpp"

namespace common::http {
namespace {

using detail::set_timeouts;
using detail::TlsConnector;
using detail::TlsModule;
using detail::to_timespan;
using util::ErrorKind;
using util::SigpipeGuard;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_chunk = std::size_t{64} << 10;

using util::iequals;

bool is_token(std::string_view s) {
  static constexpr std::string_view k_extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           k_extra.find(c) != std::string_view::npos;
  });
}

// The key under which connectors for equal settings are shared (it holds PEM text when the
// options do: it stays in memory, like the options themselves, and is never printed).
std::string tls_key(const TlsOptions& tls) {
  std::string key = tls.insecure_skip_verify ? std::string("insecure")
                                             : "verify:" + tls.ca_file + '\0' + tls.ca_pem;
  for (const std::string* part :
       {&tls.client_cert_file, &tls.client_key_file, &tls.client_cert_pem, &tls.client_key_pem}) {
    key += '\0';
    key += *part;
  }
  return key;
}

// A pooled connection; `tls` outlives `session`, whose SSL objects point back to it.
struct Connection {
  std::shared_ptr<TlsConnector> tls; // null for plain HTTP
  const TlsModule* module = nullptr; // the module that made `tls`
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  Clock::time_point idle_since{};
  bool reused = false;
};

// Where an exchange failed: before the response head arrived (nothing of the response was
// read, so a GET/HEAD on a reused connection may be retried) or after.
enum class Phase { send, head, body };

struct Failure {
  util::Error error;
  bool retryable = false;
};

} // namespace

struct PocoClient::Impl {
  ClientOptions options;
  std::string system_ca;
  mutable std::mutex mutex;
  // Loaded on the first https origin (tls_module.hpp), never before: a process that talks only
  // to plain-HTTP loopback registries, or to none (warm cache), never loads OpenSSL.
  const TlsModule* tls_module = nullptr;
  std::map<std::string, std::shared_ptr<TlsConnector>> connectors; // by tls_key()
  std::map<std::string, std::vector<Connection>> idle;             // by origin, most recent last
  // Declared last, destroyed first: no socket of a connection above outlives its guard.
  util::Watchdog watchdog; // the response's deadline, whatever the peer sends

  util::Result<std::shared_ptr<TlsConnector>> connector_for(const Url& url);
  util::Result<Connection> acquire(const Url& url, bool fresh);
  void release(const std::string& origin, Connection connection);
  std::optional<Failure> exchange(Connection& connection, const Url& url, const Request& request,
                                  const Limits& limits, Response& response, bool& keep);
};

util::Result<std::shared_ptr<TlsConnector>> PocoClient::Impl::connector_for(const Url& url) {
  const auto it = options.tls.find(origin(url));
  const TlsOptions tls = it == options.tls.end() ? TlsOptions{} : it->second;
  const std::string key = tls_key(tls);
  const TlsModule* module = nullptr;
  {
    const std::lock_guard lock(mutex);
    if (const auto found = connectors.find(key); found != connectors.end()) {
      return found->second;
    }
    if (tls_module == nullptr) {
      auto loaded = detail::load_tls_module();
      if (!loaded) {
        return std::unexpected(loaded.error());
      }
      tls_module = *loaded;
    }
    module = tls_module;
  }
  // Loading a CA bundle takes tens of milliseconds: not under the pool's lock. Failures are not
  // cached (the file may be fixed); a connector built twice by racing threads is harmless.
  auto made = module->connector(tls, system_ca);
  if (!made) {
    return std::unexpected(made.error());
  }
  const std::lock_guard lock(mutex);
  return connectors.try_emplace(key, std::move(*made)).first->second;
}

util::Result<Connection> PocoClient::Impl::acquire(const Url& url, bool fresh) {
  std::vector<Connection> stale; // closed outside the lock (TLS shutdown writes to the socket)
  {
    const std::lock_guard lock(mutex);
    const auto it = idle.find(origin(url));
    while (!fresh && it != idle.end() && !it->second.empty()) {
      Connection c = std::move(it->second.back());
      it->second.pop_back();
      bool alive = false;
      try {
        // An idle HTTP/1.1 connection has nothing to read: readable means the server closed
        // it (EOF) or sent garbage. Either way it cannot carry a request.
        alive = Clock::now() - c.idle_since < options.idle_timeout && c.session->connected() &&
                !c.session->socket().poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ |
                                                                 Poco::Net::Socket::SELECT_ERROR);
      } catch (const Poco::Exception&) {
        alive = false;
      }
      if (alive) {
        c.reused = true;
        return c;
      }
      stale.push_back(std::move(c));
    }
  }
  stale.clear();

  // A fresh connection is opened by exchange(), where its failures are mapped like the rest.
  Connection c;
  if (url.scheme == "https") {
    auto tls = connector_for(url);
    if (!tls) {
      return std::unexpected(tls.error());
    }
    c.tls = std::move(*tls);
    const std::lock_guard lock(mutex);
    c.module = tls_module; // set by connector_for()
  }
  return c;
}

void PocoClient::Impl::release(const std::string& key, Connection connection) {
  connection.idle_since = Clock::now();
  connection.reused = false;
  std::optional<Connection> dropped; // closed outside the lock
  const std::lock_guard lock(mutex);
  if (options.max_idle_per_origin == 0) {
    dropped = std::move(connection);
    return;
  }
  auto& list = idle[key];
  if (list.size() >= options.max_idle_per_origin) {
    dropped = std::move(list.front()); // keep the most recent ones
    list.erase(list.begin());
  }
  list.push_back(std::move(connection));
}

namespace {

bool is_timeout(const Poco::Exception& e) {
  return dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr;
}

// The peer closed or reset the connection. `tls` is the module when the connection is TLS.
bool is_closed_connection(const Poco::Exception& e, const TlsModule* tls) {
  return dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionAbortedException*>(&e) != nullptr ||
         (tls != nullptr && tls->is_closed_connection(e));
}

// Maps a Poco exception to an Error. `what` is "METHOD url"; no header value ever reaches it.
// `connector` and `module` are null for plain HTTP.
Failure map_exception(const Poco::Exception& e, const std::string& what, const Url& url,
                      TlsConnector* connector, const TlsModule* module, Phase phase,
                      const Limits& limits) {
  const std::string detail = " (" + e.displayText() + ")";
  const auto make = [&](ErrorKind kind, const std::string& text) {
    return Failure{util::Error{kind, what + ": " + text}, false};
  };
  if (connector != nullptr) {
    if (auto error = connector->verification_error(e, what, url)) {
      return Failure{std::move(*error), false};
    }
  }
  if (is_timeout(e)) {
    switch (phase) {
    case Phase::send:
      return make(ErrorKind::transient,
                  "timed out connecting or sending the request (connect timeout " +
                      std::to_string(limits.connect_timeout.count()) + " ms)");
    case Phase::head:
      return make(ErrorKind::transient, "timed out waiting for the response (read timeout " +
                                            std::to_string(limits.read_timeout.count()) + " ms)");
    case Phase::body:
      return make(ErrorKind::transient, "timed out reading the response body (read timeout " +
                                            std::to_string(limits.read_timeout.count()) + " ms)");
    }
  }
  if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&e) != nullptr) {
    return make(ErrorKind::transient, "connection refused" + detail);
  }
  if (dynamic_cast<const Poco::Net::DNSException*>(&e) != nullptr) {
    return make(ErrorKind::transient, "cannot resolve host " + url.host + detail);
  }
  if (is_closed_connection(e, module)) {
    return make(ErrorKind::transient, "connection closed by the server" + detail);
  }
  if (dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr) {
    // Poco's header parser limits: "Too many header fields", "Field name too long", ...
    const std::string text = e.displayText();
    const bool limit =
        text.find("Too many") != std::string::npos || text.find("too long") != std::string::npos;
    return make(limit ? ErrorKind::too_large : ErrorKind::transient,
                std::string(limit ? "response head over Poco's limits" : "malformed response") +
                    detail);
  }
  if (module != nullptr && module->is_tls_error(e)) {
    return make(ErrorKind::transient, "TLS failure" + detail);
  }
  if (dynamic_cast<const Poco::IOException*>(&e) != nullptr) {
    return make(ErrorKind::transient, "I/O error" + detail);
  }
  return make(ErrorKind::internal, "unexpected error" + detail);
}

bool has_body_framing(const Poco::Net::HTTPResponse& response, bool head) {
  const int status = static_cast<int>(response.getStatus());
  return head || status < 200 || status == 204 || status == 304 || response.hasContentLength() ||
         response.getChunkedTransferEncoding();
}

} // namespace

namespace {

// Opens a connection, TLS handshake included (by the connector); each step waits at most
// `timeout` (DNS resolution excepted). The session has no host of its own, which disables
// Poco's silent reconnect-and-resend: the retry rule is ours alone.
std::unique_ptr<Poco::Net::HTTPClientSession> open_session(const Url& url, TlsConnector* tls,
                                                           std::chrono::milliseconds timeout) {
  if (tls != nullptr) {
    return tls->open(url, timeout);
  }
  const Poco::Net::SocketAddress address(url.host, url.port);
  Poco::Net::StreamSocket socket;
  auto session = std::make_unique<Poco::Net::HTTPClientSession>(socket);
  socket.connect(address, to_timespan(timeout));
  socket.setNoDelay(true);
  return session;
}

// Sends the request head and body on `session`.
void write_request(Poco::Net::HTTPClientSession& session, const Request& request, const Url& url,
                   const std::string& user_agent) {
  Poco::Net::HTTPRequest out(request.method, request_target(url), Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : request.headers) {
    // Framing and connection management are ours.
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection")) {
      continue;
    }
    out.add(name, value);
  }
  if (!out.has("Host")) {
    out.setHost(authority(url));
  }
  if (!out.has("User-Agent") && !user_agent.empty()) {
    out.set("User-Agent", user_agent);
  }
  const bool sends_body = !request.body.empty() || request.method == "POST" ||
                          request.method == "PUT" || request.method == "PATCH";
  if (sends_body) {
    out.setContentLength64(static_cast<Poco::Int64>(request.body.size()));
  }
  std::ostream& body_out = session.sendRequest(out);
  if (!request.body.empty()) {
    body_out.exceptions(std::ios::badbit);
    body_out.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
    body_out.flush();
  }
}

} // namespace

std::optional<Failure> PocoClient::Impl::exchange(Connection& connection, const Url& url,
                                                  const Request& request, const Limits& limits,
                                                  Response& response, bool& keep) {
  const std::string what = request.method + " " + to_display(url); // never the query
  const auto fail = [&](ErrorKind kind, const std::string& text) {
    return Failure{util::Error{kind, what + ": " + text}, false};
  };
  const bool head = request.method == "HEAD";
  Phase phase = Phase::send;
  keep = false;
  const TlsModule* module = connection.module;
  if (module != nullptr) {
    module->clear_errors(); // Poco describes failures from the thread's error queue
  }
  std::optional<util::Watchdog::Guard> guard; // armed once the request is sent
  const auto timed_out = [&]() -> std::optional<Failure> {
    if (!guard || !guard->fired()) {
      return std::nullopt;
    }
    keep = false;
    return fail(ErrorKind::transient,
                std::string(phase == Phase::body ? "timed out reading the response body"
                                                 : "timed out waiting for the response head") +
                    " (" + std::to_string(limits.read_timeout.count()) +
                    " ms for the whole response, head and body)");
  };
  try {
    if (!connection.session) {
      connection.session = open_session(url, connection.tls.get(), limits.connect_timeout);
      connection.session->setKeepAlive(options.max_idle_per_origin > 0);
    }
    auto& session = *connection.session;
    const bool tls = connection.tls != nullptr;
    set_timeouts(session.socket(), tls, limits.read_timeout);

    write_request(session, request, url, options.user_agent);

    phase = Phase::head;
    // One deadline for the head and the body together, enforced by shutting the socket down:
    // Poco's timeouts are per read, and a peer dripping a byte at a time never trips them.
    const auto exchange_deadline = Clock::now() + limits.read_timeout;
    guard.emplace(watchdog.arm(session.socket().impl()->sockfd(), exchange_deadline));
    Poco::Net::HTTPResponse in;
    std::istream& body_in = session.receiveResponse(in);
    response.status = static_cast<int>(in.getStatus());
    response.headers.clear();
    for (const auto& [name, value] : in) {
      response.headers.emplace_back(name, value);
    }

    phase = Phase::body;
    response.body.clear();
    const bool expects_body =
        !head && response.status >= 200 && response.status != 204 && response.status != 304;
    std::optional<std::size_t> length;
    if (expects_body && in.hasContentLength()) {
      const Poco::Int64 announced = in.getContentLength64();
      if (announced < 0 || static_cast<std::uint64_t>(announced) > limits.max_body) {
        return fail(ErrorKind::too_large, "response body of " + std::to_string(announced) +
                                              " bytes is over the limit of " +
                                              std::to_string(limits.max_body) + " bytes");
      }
      length = static_cast<std::size_t>(announced);
      response.body.reserve(*length);
    }
    if (expects_body) {
      // Straight from the stream buffer, one refill at a time: istream::read() would block
      // until a whole chunk arrived, so a slow drip could outlast the body deadline.
      std::streambuf& buffer = *body_in.rdbuf();
      const auto deadline = exchange_deadline;
      while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= std::chrono::milliseconds::zero()) {
          return fail(ErrorKind::transient, "timed out reading the response body (read timeout " +
                                                std::to_string(limits.read_timeout.count()) +
                                                " ms for the whole body)");
        }
        set_timeouts(session.socket(), tls, std::min(left, limits.read_timeout));
        if (buffer.sgetc() == std::char_traits<char>::eof()) { // one refill; Poco throws
          break;
        }
        // Never more than one byte past the limit in memory.
        const auto buffered =
            static_cast<std::size_t>(std::max<std::streamsize>(buffer.in_avail(), 1));
        const std::size_t want =
            std::min({buffered, k_chunk, limits.max_body + 1 - response.body.size()});
        const std::size_t old = response.body.size();
        response.body.resize(old + want);
        const auto got =
            buffer.sgetn(response.body.data() + old, static_cast<std::streamsize>(want));
        response.body.resize(old + static_cast<std::size_t>(std::max<std::streamsize>(got, 0)));
        if (response.body.size() > limits.max_body) {
          return fail(ErrorKind::too_large, "response body is over the limit of " +
                                                std::to_string(limits.max_body) + " bytes");
        }
      }
      if (length && response.body.size() != *length) {
        return fail(ErrorKind::transient, "connection closed after " +
                                              std::to_string(response.body.size()) + " of " +
                                              std::to_string(*length) + " body bytes");
      }
      response.body.shrink_to_fit();
    }
    if (auto late = timed_out()) {
      return late;
    }
    keep = in.getKeepAlive() && has_body_framing(in, head) && session.connected();
    return std::nullopt;
  } catch (const Poco::Exception& e) {
    if (auto late = timed_out()) {
      if (module != nullptr) {
        module->clear_errors();
      }
      return late;
    }
    Failure failure = map_exception(e, what, url, connection.tls.get(), module, phase, limits);
    if (module != nullptr) {
      module->clear_errors();
    }
    // A reused connection that failed while the request was sent, or closed before any of the
    // response arrived: the server had closed it while it was idle. Timeouts are excluded (the
    // server is slow, not gone), and so are malformed responses (something did arrive).
    const bool stale =
        connection.reused &&
        ((phase == Phase::send && !is_timeout(e) && dynamic_cast<const Poco::IOException*>(&e)) ||
         (phase == Phase::head && is_closed_connection(e, module)));
    if (stale) {
      failure.error = util::Error{ErrorKind::transient,
                                  what + ": kept-alive connection failed, the server probably " +
                                      "closed it (" + e.displayText() + ")"};
    }
    failure.retryable = stale && (request.method == "GET" || request.method == "HEAD");
    return failure;
  } catch (const std::ios_base::failure& e) {
    return fail(ErrorKind::transient, std::string("stream failure (") + e.what() + ")");
  } catch (const std::bad_alloc&) {
    return fail(ErrorKind::too_large, "out of memory");
  }
}

namespace {

util::Result<void> validate(const Request& request, const Limits& limits) {
  const auto bad = [](std::string text) { return util::fail(ErrorKind::invalid_input, text); };
  if (request.method.empty() ||
      !std::ranges::all_of(request.method, [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return bad("invalid HTTP method for " + redact_url(request.url) +
               " (an upper-case token is required)");
  }
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) {
      return bad(request.method + " " + redact_url(request.url) + ": invalid header name \"" +
                 name + "\"");
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      // The value is never printed: it may be a credential.
      return bad(request.method + " " + redact_url(request.url) + ": header " + name +
                 " has a value with CR, LF or NUL");
    }
  }
  if (limits.connect_timeout <= std::chrono::milliseconds::zero() ||
      limits.read_timeout <= std::chrono::milliseconds::zero()) {
    return bad(request.method + " " + redact_url(request.url) + ": timeouts must be positive");
  }
  return {};
}

} // namespace

std::string default_ca_file() {
  const char* env = std::getenv("SSL_CERT_FILE"); // NOLINT(concurrency-mt-unsafe): read only
  if (env != nullptr && *env != '\0') {
    return env;
  }
  return "/etc/ssl/certs/ca-certificates.crt";
}

util::Result<std::unique_ptr<PocoClient>> PocoClient::create(ClientOptions options) {
  std::map<std::string, TlsOptions> tls;
  for (const auto& [key, value] : options.tls) {
    auto url = parse_url(key);
    if (!url || url->scheme != "https" || url->path != "/" || !url->query.empty()) {
      return util::fail(ErrorKind::invalid_input,
                        "TLS settings key \"" + redact_url(key) +
                            "\" is not an https origin (https://host[:port])");
    }
    std::error_code ec;
    for (const auto& [file, what] : {std::pair{&value.ca_file, "CA file "},
                                     std::pair{&value.client_cert_file, "client certificate "},
                                     std::pair{&value.client_key_file, "client key "}}) {
      if (!file->empty() && !std::filesystem::is_regular_file(*file, ec)) {
        return util::fail(ErrorKind::invalid_input,
                          what + *file + " for " + origin(*url) + " is not a file");
      }
    }
    const bool cert = !value.client_cert_file.empty() || !value.client_cert_pem.empty();
    const bool key_given = !value.client_key_file.empty() || !value.client_key_pem.empty();
    if (cert != key_given || (!value.client_cert_file.empty() && !value.client_cert_pem.empty()) ||
        (!value.client_key_file.empty() && !value.client_key_pem.empty())) {
      return util::fail(ErrorKind::invalid_input,
                        "TLS settings for " + origin(*url) +
                            ": a client certificate needs its key (each as a file or as PEM "
                            "text, not both)");
    }
    tls[origin(*url)] = value;
  }
  options.tls = std::move(tls);
  auto impl = std::make_unique<Impl>();
  impl->system_ca = options.system_ca_file.empty() ? default_ca_file() : options.system_ca_file;
  impl->options = std::move(options);
  return std::unique_ptr<PocoClient>(new PocoClient(std::move(impl)));
}

PocoClient::PocoClient(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

PocoClient::~PocoClient() {
  // Closing idle TLS connections writes close_notify, maybe to a peer that is gone.
  const SigpipeGuard sigpipe;
  m_impl.reset();
}

std::size_t PocoClient::idle_connections() const {
  const std::lock_guard lock(m_impl->mutex);
  std::size_t n = 0;
  for (const auto& [key, list] : m_impl->idle) {
    n += list.size();
  }
  return n;
}

util::Result<Response> PocoClient::send(const Request& request, const Limits& limits) {
  IU_TRY(validate(request, limits));
  auto url = parse_url(request.url);
  if (!url) {
    return util::fail(ErrorKind::invalid_input, request.method + " " + url.error().message);
  }
  const SigpipeGuard sigpipe;
  const std::string key = origin(*url);
  for (int attempt = 0;; ++attempt) {
    auto connection = m_impl->acquire(*url, attempt > 0);
    if (!connection) {
      return util::fail(connection.error().kind, request.method + " " + to_display(*url) + ": " +
                                                     connection.error().message);
    }
    Response response;
    bool keep = false;
    auto failure = m_impl->exchange(*connection, *url, request, limits, response, keep);
    if (!failure) {
      if (keep) {
        m_impl->release(key, std::move(*connection));
      }
      return response;
    }
    if (!failure->retryable || attempt > 0) {
      return std::unexpected(std::move(failure->error));
    }
    // The failed connection is dropped here; retry once on a fresh one.
  }
}

namespace {

// A response whose body is read as it arrives. Members are destroyed in reverse order: the
// watchdog guard first, then the session (its socket), then the TLS connector it points to.
class PocoResponseStream final : public ResponseStream {
public:
  PocoResponseStream(Connection connection, std::istream& body, int status, Headers headers,
                     util::Watchdog::Guard guard, std::string what, Url url, Limits limits,
                     Clock::time_point deadline)
      : m_connection(std::move(connection)), m_body(body), m_status(status),
        m_headers(std::move(headers)), m_what(std::move(what)), m_url(std::move(url)),
        m_limits(limits), m_deadline(deadline),
        m_fd(m_connection.session->socket().impl()->sockfd()), m_guard(std::move(guard)) {}

  int status() const override { return m_status; }
  const Headers& headers() const override { return m_headers; }

  util::Result<std::string> read(std::size_t max) override {
    if (m_cancelled.load() || m_ended) {
      return std::string();
    }
    const auto timed_out = [&] {
      m_ended = true;
      return util::fail(ErrorKind::transient, m_what + ": stream deadline passed (read timeout " +
                                                  std::to_string(m_limits.read_timeout.count()) +
                                                  " ms)");
    };
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now());
    if (left <= std::chrono::milliseconds::zero() || m_guard.fired()) {
      return timed_out();
    }
    const SigpipeGuard sigpipe;
    const TlsModule* module = m_connection.module;
    try {
      set_timeouts(m_connection.session->socket(), m_connection.tls != nullptr, left);
      std::streambuf& buffer = *m_body.rdbuf();
      if (buffer.sgetc() == std::char_traits<char>::eof()) { // one refill; Poco throws
        m_ended = true;
        if (m_guard.fired() && !m_cancelled.load()) {
          return timed_out();
        }
        return std::string();
      }
      const auto buffered =
          static_cast<std::size_t>(std::max<std::streamsize>(buffer.in_avail(), 1));
      std::string out(std::min(buffered, std::max<std::size_t>(max, 1)), '\0');
      const auto got = buffer.sgetn(out.data(), static_cast<std::streamsize>(out.size()));
      out.resize(static_cast<std::size_t>(std::max<std::streamsize>(got, 0)));
      return out;
    } catch (const Poco::Exception& e) {
      m_ended = true;
      if (module != nullptr) {
        module->clear_errors();
      }
      if (m_cancelled.load()) {
        return std::string();
      }
      if (m_guard.fired()) {
        return timed_out();
      }
      return std::unexpected(
          map_exception(e, m_what, m_url, m_connection.tls.get(), module, Phase::body, m_limits)
              .error);
    } catch (const std::ios_base::failure& e) {
      m_ended = true;
      return util::fail(ErrorKind::transient, m_what + ": stream failure (" + e.what() + ")");
    }
  }

  void cancel() override {
    if (!m_cancelled.exchange(true)) {
      ::shutdown(m_fd, SHUT_RDWR); // a blocked read returns at once; the fd stays open
    }
  }

private:
  Connection m_connection;
  std::istream& m_body; // owned by the session
  int m_status;
  Headers m_headers;
  std::string m_what;
  Url m_url;
  Limits m_limits;
  Clock::time_point m_deadline;
  int m_fd;
  bool m_ended = false;
  std::atomic<bool> m_cancelled{false};
  util::Watchdog::Guard m_guard; // destroyed first
};

} // namespace

util::Result<std::unique_ptr<ResponseStream>> PocoClient::open(const Request& request,
                                                               const Limits& limits) {
  IU_TRY(validate(request, limits));
  auto url = parse_url(request.url);
  if (!url) {
    return util::fail(ErrorKind::invalid_input, request.method + " " + url.error().message);
  }
  const SigpipeGuard sigpipe;
  const std::string what = request.method + " " + to_display(*url); // never the query
  auto connection = m_impl->acquire(*url, true);
  if (!connection) {
    return util::fail(connection.error().kind, what + ": " + connection.error().message);
  }
  Connection& c = *connection;
  const TlsModule* module = c.module;
  if (module != nullptr) {
    module->clear_errors();
  }
  Phase phase = Phase::send;
  std::optional<util::Watchdog::Guard> guard;
  const auto deadline_passed = [&] {
    return util::fail(ErrorKind::transient,
                      what + ": timed out waiting for the response head (read timeout " +
                          std::to_string(limits.read_timeout.count()) + " ms)");
  };
  try {
    c.session = open_session(*url, c.tls.get(), limits.connect_timeout);
    c.session->setKeepAlive(false);
    auto& session = *c.session;
    set_timeouts(session.socket(), c.tls != nullptr, limits.read_timeout);
    write_request(session, request, *url, m_impl->options.user_agent);
    phase = Phase::head;
    const auto deadline = Clock::now() + limits.read_timeout;
    guard.emplace(m_impl->watchdog.arm(session.socket().impl()->sockfd(), deadline));
    Poco::Net::HTTPResponse in;
    std::istream& body = session.receiveResponse(in);
    if (guard->fired()) {
      return deadline_passed();
    }
    Headers headers;
    for (const auto& [name, value] : in) {
      headers.emplace_back(name, value);
    }
    const int status = static_cast<int>(in.getStatus());
    return std::unique_ptr<ResponseStream>(
        std::make_unique<PocoResponseStream>(std::move(c), body, status, std::move(headers),
                                             std::move(*guard), what, *url, limits, deadline));
  } catch (const Poco::Exception& e) {
    if (module != nullptr) {
      module->clear_errors();
    }
    if (guard && guard->fired()) {
      return deadline_passed();
    }
    return std::unexpected(map_exception(e, what, *url, c.tls.get(), module, phase, limits).error);
  } catch (const std::ios_base::failure& e) {
    return util::fail(ErrorKind::transient, what + ": stream failure (" + e.what() + ")");
  }
}

} // namespace common::http
