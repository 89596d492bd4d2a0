// An event-driven front end: one thread owns every connection (epoll, non-blocking sockets, TLS
// through the TLS module) and reads whole requests before a worker sees them; workers only run
// handlers. So a client that is slow to send (a head dripped a byte at a time, a connection that
// never speaks, a TLS client that never says hello) holds a few bytes of memory and a file
// descriptor until its deadline, never a worker, and health probes are answered by the loop
// itself whatever the workers are doing.
#include "common/server/server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "common/api/status.hpp"
#include "common/http/tls_server.hpp"
#include "common/server/http1.hpp"
#include "common/util/strings.hpp"

namespace common::server {

namespace {

using Clock = std::chrono::steady_clock;
using http::detail::TlsServerStream;
using Io = TlsServerStream::Io;

constexpr std::size_t k_read_chunk = 64u << 10;
constexpr std::size_t k_linger_bytes = 64u << 20;
constexpr auto k_linger_time = std::chrono::seconds(2);

// Methods outside the known set share one label value, so a client cannot grow the series.
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) {
      return method;
    }
  }
  return "other";
}

// What one exchange did, for the metrics and the request log.
struct Outcome {
  std::string method;
  std::string path;
  std::string route; // template ("GET /healthz", "POST /kapis/.../imageupdaters"), "other"
  int code = 0;
  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
  std::string principal;
  std::string client;
  bool quiet = false; // probes and scrapes: logged at debug
};

enum class State {
  handshake, // TLS: waiting for the client's hello and the handshake
  idle,      // between requests (keep-alive): nothing of the next request read yet
  head,      // reading a request head
  body,      // reading a request body
  waiting,   // a worker has the request
  writing,   // sending the response
  lingering, // response sent, closing: reading and dropping what the client still sends
};

struct Connection {
  int fd = -1;
  std::string client; // the peer's address, for limits and logs
  std::unique_ptr<TlsServerStream> tls;
  State state = State::head;
  Clock::time_point deadline;
  std::string in;
  std::string out;
  std::size_t out_at = 0;
  http1::RequestHead head;
  http1::ChunkedDecoder chunks;
  api::HttpRequest request;
  std::uint64_t body_left = 0;
  bool head_method = false;
  bool close_after = false;
  bool peer_closed = false;
  int served = 0;
  std::size_t lingered = 0;
  Outcome outcome;
  Clock::time_point started;
  std::uint32_t events = 0; // the epoll interest set
};

enum class Kind { api, probe, scrape, file };

struct Job {
  int fd;
  Kind kind;
  api::HttpRequest request;
};

struct Done {
  int fd;
  api::HttpResponse response;
};

} // namespace

struct Server::Impl {
  Options options;
  api::ImageUpdaterApi& api;
  metrics::Counter* requests = nullptr;
  metrics::Histogram* latency = nullptr;

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::uint16_t port = 0;
  std::unique_ptr<http::detail::TlsServerContext> tls;

  // Loop thread only.
  std::map<int, Connection> connections;
  std::map<std::string, std::size_t> per_client;

  // Shared with the workers.
  std::mutex mutex;
  std::condition_variable work;
  std::deque<Job> jobs;
  std::deque<Done> done;
  std::size_t busy = 0; // jobs taken by workers and not yet done
  bool stop_workers = false;
  std::atomic<bool> stopping{false};

  std::thread loop;
  std::vector<std::thread> workers;
  bool stopped = false;

  Impl(Options o, api::ImageUpdaterApi& a) : options(std::move(o)), api(a) {}
  ~Impl() {
    for (auto& [fd, c] : connections) {
      c.tls.reset();
      ::close(fd);
    }
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  // ---- the loop ----

  void run() {
    std::vector<epoll_event> events(256);
    bool listening = true;
    while (true) {
      if (stopping.load() && listening) {
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
        ::close(listen_fd);
        listen_fd = -1;
        listening = false;
        // Connections between requests have nothing in progress: closed now.
        std::vector<int> idle;
        for (auto& [fd, c] : connections) {
          if (c.state == State::idle || c.state == State::handshake ||
              (c.state == State::head && c.in.empty())) {
            idle.push_back(fd);
          }
        }
        for (int fd : idle) {
          close_connection(fd);
        }
      }
      if (!listening && in_flight() == 0) {
        return;
      }
      const int n =
          ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms());
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
        if (fd == listen_fd) {
          accept_all();
        } else if (fd == wake_fd) {
          std::uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
          collect_done();
        } else if (auto it = connections.find(fd); it != connections.end()) {
          serve_events(it->second, ev);
        }
      }
      expire();
    }
  }

  std::size_t in_flight() const {
    std::size_t n = 0;
    for (const auto& [fd, c] : connections) {
      n += c.state == State::waiting || c.state == State::writing || c.state == State::body ||
                   (c.state == State::head && !c.in.empty())
               ? 1
               : 0;
    }
    return n;
  }

  int wait_ms() const {
    auto next = Clock::now() + std::chrono::milliseconds(200);
    for (const auto& [fd, c] : connections) {
      if (c.state != State::waiting && c.deadline < next) {
        next = c.deadline;
      }
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left + 1, 0, 200));
  }

  void interest(Connection& c, std::uint32_t events) {
    if (c.events == events) {
      return;
    }
    epoll_event e{};
    e.events = events;
    e.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &e);
    c.events = events;
  }

  void accept_all() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return; // EAGAIN, or out of descriptors: the backlog keeps the rest
      }
      char host[NI_MAXHOST] = "?";
      ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST);
      const std::string client = host;
      std::size_t& mine = per_client[client];
      if (connections.size() >= options.max_connections ||
          mine >= options.max_connections_per_client) {
        // Over a limit: refused at once (a reset, no worker, no buffer).
        const linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd);
        if (mine == 0) {
          per_client.erase(client);
        }
        continue;
      }
      ++mine;
      Connection c;
      c.fd = fd;
      c.client = client;
      c.deadline = Clock::now() + options.head_timeout;
      if (tls) {
        c.tls = tls->wrap(fd);
        if (!c.tls) {
          ::close(fd);
          --mine;
          continue;
        }
        c.state = State::handshake;
      }
      epoll_event e{};
      e.events = EPOLLIN | EPOLLRDHUP;
      e.data.fd = fd;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &e);
      c.events = e.events;
      connections.emplace(fd, std::move(c));
    }
  }

  void close_connection(int fd) {
    auto it = connections.find(fd);
    if (it == connections.end()) {
      return;
    }
    it->second.tls.reset();
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    if (auto pc = per_client.find(it->second.client); pc != per_client.end() && --pc->second == 0) {
      per_client.erase(pc);
    }
    connections.erase(it);
  }

  // Reads what is there (bounded); false when the connection is to be closed.
  bool read_some(Connection& c, std::size_t room) {
    char buffer[k_read_chunk];
    while (room > 0) {
      const std::size_t want = std::min(room, sizeof buffer);
      std::size_t got = 0;
      if (c.tls) {
        const Io io = c.tls->read(buffer, want, got);
        if (io == Io::want_read) {
          return true;
        }
        if (io == Io::want_write) {
          interest(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
          return true;
        }
        if (io != Io::ok) {
          c.peer_closed = true;
          return true;
        }
      } else {
        const ssize_t n = ::recv(c.fd, buffer, want, 0);
        if (n < 0) {
          return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
        if (n == 0) {
          c.peer_closed = true;
          return true;
        }
        got = static_cast<std::size_t>(n);
      }
      if (c.state == State::lingering) {
        c.lingered += got;
      } else {
        c.in.append(buffer, got);
      }
      room -= std::min(room, got);
    }
    return true;
  }

  void serve_events(Connection& c, std::uint32_t ev) {
    const int fd = c.fd;
    if (c.state == State::handshake) {
      const Io io = c.tls->handshake();
      if (io == Io::ok) {
        c.state = State::head;
        interest(c, EPOLLIN | EPOLLRDHUP);
      } else if (io == Io::want_read) {
        interest(c, EPOLLIN | EPOLLRDHUP);
        return;
      } else if (io == Io::want_write) {
        interest(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        return;
      } else {
        close_connection(fd);
        return;
      }
    }
    if (c.state == State::writing) {
      if ((ev & (EPOLLOUT | EPOLLIN)) != 0) {
        write_some(c);
      }
      return;
    }
    if (c.state == State::waiting) {
      if ((ev & (EPOLLHUP | EPOLLERR)) != 0) {
        c.peer_closed = true; // the answer is dropped when it comes
      }
      return;
    }
    if (c.state == State::lingering) {
      if (!read_some(c, k_read_chunk) || c.peer_closed || c.lingered > k_linger_bytes) {
        close_connection(fd);
      }
      return;
    }
    // idle, head, body: read, then advance as far as the bytes allow.
    const std::size_t room = c.state == State::body ? options.max_body_bytes + 2 * k_read_chunk
                                                    : options.max_head_bytes + k_read_chunk;
    if (!read_some(c, room > c.in.size() ? std::max<std::size_t>(room - c.in.size(), 1) : 1)) {
      close_connection(fd);
      return;
    }
    advance(c);
    if (connections.count(fd) != 0 && c.peer_closed && c.state != State::waiting &&
        c.state != State::writing) {
      close_connection(fd);
    }
  }

  // Moves a connection through head and body as far as its buffered bytes go.
  void advance(Connection& c) {
    if (c.state == State::idle) {
      if (c.in.empty()) {
        return;
      }
      c.state = State::head;
      c.deadline = Clock::now() + options.head_timeout; // from the first byte of this request
    }
    if (c.state == State::head) {
      if (c.in.empty()) {
        return;
      }
      auto parsed = http1::parse_head(c.in, options.max_head_bytes);
      if (parsed.error) {
        c.started = Clock::now();
        c.outcome = Outcome{};
        c.outcome.client = c.client;
        respond(c,
                api::status_response(parsed.error->status,
                                     parsed.error->status == 431 ? "RequestHeaderFieldsTooLarge"
                                                                 : "BadRequest",
                                     "malformed request: " + parsed.error->message),
                true);
        return;
      }
      if (!parsed.head) {
        return;
      }
      begin_request(c, std::move(*parsed.head));
      if (c.state != State::body) {
        return;
      }
    }
    if (c.state == State::body) {
      read_body(c);
    }
  }

  void begin_request(Connection& c, http1::RequestHead head) {
    c.started = Clock::now();
    c.in.erase(0, head.size);
    c.head = std::move(head);
    c.chunks = http1::ChunkedDecoder();
    c.outcome = Outcome{};
    c.outcome.client = c.client;
    c.outcome.method = c.head.method;
    c.head_method = c.head.method == "HEAD";
    c.request = api::HttpRequest{};
    c.request.method = c.head.method;
    c.request.headers = c.head.headers;
    try {
      const Poco::URI uri(c.head.target);
      c.request.path = uri.getPath(); // percent-decoded
      for (const auto& [name, value] : uri.getQueryParameters()) {
        c.request.query[name] = value; // decoded; the last value of a name wins
      }
    } catch (const Poco::Exception& e) {
      respond(c,
              api::status_response(400, "BadRequest", "malformed request URI: " + e.displayText()),
              true);
      return;
    }
    c.outcome.path = c.request.path;
    const Kind kind = kind_of(c.request);
    c.outcome.route = kind == Kind::probe || kind == Kind::scrape ? "GET " + c.request.path
                      : kind == Kind::file ? "GET " + options.files_prefix + "{path}"
                                           : api::ImageUpdaterApi::route_of(c.request);
    c.outcome.quiet = kind == Kind::probe || kind == Kind::scrape;
    const bool has_body = c.head.chunked || c.head.content_length.value_or(0) > 0;
    // Answered before any body byte is read: a denied or oversized request never costs its body.
    if (kind == Kind::api && !options.serve_api) {
      respond(
          c,
          api::status_response(404, "NotFound", "the server could not find the requested resource"),
          has_body);
      return;
    }
    if (kind == Kind::api) {
      if (auto denied = api.precheck(c.request)) {
        c.outcome.principal = denied->principal;
        respond(c, *denied, has_body);
        return;
      }
    }
    if (c.head.content_length && *c.head.content_length > options.max_body_bytes) {
      respond(c,
              api::status_response(413, "RequestEntityTooLarge",
                                   "request body larger than " +
                                       std::to_string(options.max_body_bytes) + " bytes"),
              true);
      return;
    }
    if (kind == Kind::probe && !has_body) {
      respond(c, api::HttpResponse{200, "text/plain", "ok", {}, {}}, false);
      return;
    }
    c.body_left = c.head.content_length.value_or(0);
    c.state = State::body;
    c.deadline = Clock::now() + options.read_timeout; // the whole body
    if (has_body && c.head.expect_continue) {
      queue_raw(c, "HTTP/1.1 100 Continue\r\n\r\n");
    }
  }

  Kind kind_of(const api::HttpRequest& r) const {
    const bool get = r.method == "GET" || r.method == "HEAD";
    if (get && (r.path == "/healthz" || r.path == "/readyz")) {
      return Kind::probe;
    }
    if (get && r.path == "/metrics" && options.metrics != nullptr && options.expose_metrics) {
      return Kind::scrape;
    }
    if (get && options.serve_api && options.files && !options.files_prefix.empty() &&
        r.path.starts_with(options.files_prefix)) {
      return Kind::file;
    }
    return Kind::api;
  }

  void read_body(Connection& c) {
    if (c.head.chunked) {
      std::size_t consumed = 0;
      std::string error;
      bool too_large = false;
      const auto step =
          c.chunks.feed(c.in, consumed, c.request.body, options.max_body_bytes, error, too_large);
      c.in.erase(0, consumed);
      if (step == http1::ChunkedDecoder::Step::error) {
        respond(c,
                too_large
                    ? api::status_response(413, "RequestEntityTooLarge",
                                           "request body larger than " +
                                               std::to_string(options.max_body_bytes) + " bytes")
                    : api::status_response(400, "BadRequest", "malformed request: " + error),
                true);
        return;
      }
      if (step == http1::ChunkedDecoder::Step::need_more) {
        return;
      }
    } else {
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(c.body_left, c.in.size()));
      c.request.body.append(c.in, 0, take);
      c.in.erase(0, take);
      c.body_left -= take;
      if (c.body_left > 0) {
        return;
      }
    }
    c.outcome.bytes_in = c.request.body.size();
    dispatch(c);
  }

  void dispatch(Connection& c) {
    const Kind kind = kind_of(c.request);
    if (kind == Kind::probe) {
      respond(c, api::HttpResponse{200, "text/plain", "ok", {}, {}}, false);
      return;
    }
    {
      const std::lock_guard lock(mutex);
      if (jobs.size() >= static_cast<std::size_t>(options.max_queued)) {
        // Every worker busy and the queue full: say so rather than wait without bound.
        respond(c, api::status_response(503, "ServiceUnavailable", "the server is busy"), false);
        return;
      }
      jobs.push_back(Job{c.fd, kind, std::move(c.request)});
    }
    work.notify_one();
    c.state = State::waiting;
    interest(c, EPOLLRDHUP);
  }

  void collect_done() {
    std::deque<Done> ready;
    {
      const std::lock_guard lock(mutex);
      ready.swap(done);
    }
    for (Done& d : ready) {
      auto it = connections.find(d.fd);
      if (it == connections.end() || it->second.state != State::waiting) {
        continue;
      }
      Connection& c = it->second;
      c.outcome.principal = d.response.principal;
      respond(c, d.response, false);
    }
  }

  void queue_raw(Connection& c, const std::string& bytes) {
    c.out.append(bytes);
    flush(c);
  }

  // Sends what it can of c.out; true when all of it went.
  bool flush(Connection& c) {
    while (c.out_at < c.out.size()) {
      std::size_t put = 0;
      if (c.tls) {
        const Io io = c.tls->write(c.out.data() + c.out_at, c.out.size() - c.out_at, put);
        if (io == Io::want_write || io == Io::want_read) {
          return false;
        }
        if (io != Io::ok) {
          c.peer_closed = true;
          c.out_at = c.out.size();
          return true;
        }
      } else {
        const ssize_t n =
            ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return false;
          }
          c.peer_closed = true;
          c.out_at = c.out.size();
          return true;
        }
        put = static_cast<std::size_t>(n);
      }
      c.out_at += put;
    }
    c.out.clear();
    c.out_at = 0;
    return true;
  }

  // Answers the current request. `close` ends the connection after the answer (a framing error,
  // an unread body, a denied request whose body was not read).
  void respond(Connection& c, const api::HttpResponse& response, bool close) {
    c.close_after = close || c.peer_closed || !c.head.keep_alive || stopping.load() ||
                    ++c.served >= options.max_keep_alive_requests ||
                    options.max_keep_alive_requests <= 0;
    c.outcome.code = response.status;
    c.outcome.bytes_out = response.body.size();
    c.out.append(http1::serialize(response, c.head_method, !c.close_after));
    c.state = State::writing;
    c.deadline = Clock::now() + options.write_timeout;
    write_some(c);
  }

  void write_some(Connection& c) {
    const int fd = c.fd;
    if (!flush(c)) {
      interest(c, EPOLLOUT | EPOLLRDHUP);
      return;
    }
    record(c);
    if (c.peer_closed) {
      // Closed by expire() right after: nothing here may erase the connection while a caller
      // still holds it.
      c.state = State::lingering;
      c.deadline = Clock::now();
      return;
    }
    if (c.close_after) {
      // The client may still be sending (an unread body): closing with unread data would make
      // the kernel reset the connection, which can destroy the answer before the client reads
      // it. So the sending side is closed and what still comes is read and dropped, bounded.
      if (!c.tls) {
        ::shutdown(fd, SHUT_WR);
      }
      c.state = State::lingering;
      c.in.clear();
      c.deadline = Clock::now() + k_linger_time;
      interest(c, EPOLLIN | EPOLLRDHUP);
      return;
    }
    c.state = State::idle;
    c.head = http1::RequestHead{};
    c.deadline = Clock::now() + options.keep_alive_timeout;
    interest(c, EPOLLIN | EPOLLRDHUP);
    advance(c); // a pipelined request already read
  }

  void expire() {
    const auto now = Clock::now();
    std::vector<int> late;
    for (auto& [fd, c] : connections) {
      if (c.state != State::waiting && c.deadline <= now) {
        late.push_back(fd);
      }
    }
    for (int fd : late) {
      auto it = connections.find(fd);
      if (it == connections.end()) {
        continue;
      }
      Connection& c = it->second;
      if ((c.state == State::head && !c.in.empty()) || c.state == State::body) {
        // A request that did not arrive in time: say so, then close.
        c.outcome.client = c.client;
        if (c.outcome.method.empty()) {
          c.started = now;
        }
        c.deadline = now + options.write_timeout;
        respond(c,
                api::status_response(408, "Timeout",
                                     c.state == State::body
                                         ? "the request body did not arrive in time"
                                         : "the request head did not arrive in time"),
                true);
        continue;
      }
      close_connection(fd); // idle, handshake, writing or lingering past its deadline
    }
  }

  void record(const Connection& c) noexcept {
    try {
      const Outcome& o = c.outcome;
      const std::string route = o.route.empty() ? "other" : o.route;
      const std::string method = method_label(o.method);
      const double seconds = std::chrono::duration<double>(Clock::now() - c.started).count();
      if (requests != nullptr) {
        requests->inc({method, route, std::to_string(o.code)});
        latency->observe({method, route}, seconds);
      }
      if (options.logger != nullptr) {
        const log::Level level = o.quiet         ? log::Level::debug
                                 : o.code >= 500 ? log::Level::error
                                                 : log::Level::info;
        if (options.logger->enabled(level)) {
          // Milliseconds to the microsecond, written as a JSON number.
          const double ms = std::round(seconds * 1e6) / 1e3;
          options.logger->log(level, "request",
                              {{"method", o.method.substr(0, 16)},
                               {"path", o.path.substr(0, 512)},
                               {"route", route},
                               {"code", o.code},
                               {"duration_ms", ms},
                               {"bytes_in", o.bytes_in},
                               {"bytes_out", o.bytes_out},
                               {"client", o.client},
                               {"user", o.principal}});
        }
      }
    } catch (...) {
      // Metrics and logs never fail a request.
    }
  }

  // ---- workers ----

  void work_loop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mutex);
        work.wait(lock, [&] { return stop_workers || !jobs.empty(); });
        if (jobs.empty()) {
          return;
        }
        job = std::move(jobs.front());
        jobs.pop_front();
        ++busy;
      }
      api::HttpResponse response = handle(job);
      {
        const std::lock_guard lock(mutex);
        done.push_back(Done{job.fd, std::move(response)});
        --busy;
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] auto w = ::write(wake_fd, &one, sizeof one);
    }
  }

  api::HttpResponse handle(const Job& job) noexcept {
    try {
      switch (job.kind) {
      case Kind::file: {
        auto found =
            options.files(std::string_view(job.request.path).substr(options.files_prefix.size()));
        return found ? std::move(*found)
                     : api::status_response(404, "NotFound", "no such artifact");
      }
      case Kind::scrape:
        return api::HttpResponse{200, metrics::k_content_type, options.metrics->expose(), {}, {}};
      case Kind::probe:
        return api::HttpResponse{200, "text/plain", "ok", {}, {}};
      case Kind::api:
        break;
      }
      return api.handle(job.request);
    } catch (const std::exception& e) {
      return api::status_response(500, "InternalError", e.what());
    } catch (...) {
      return api::status_response(500, "InternalError", "unknown exception");
    }
  }
};

Server::Server(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::port() const {
  return m_impl->port;
}

bool Server::tls() const {
  return m_impl->tls != nullptr;
}

void Server::stop() {
  if (m_impl->stopped) {
    return;
  }
  m_impl->stopped = true;
  // The loop stops accepting, closes connections between requests, lets the ones in progress
  // finish (each bounded by its deadlines), then returns.
  m_impl->stopping.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto w = ::write(m_impl->wake_fd, &one, sizeof one);
  if (m_impl->loop.joinable()) {
    m_impl->loop.join();
  }
  {
    const std::lock_guard lock(m_impl->mutex);
    m_impl->stop_workers = true;
  }
  m_impl->work.notify_all();
  for (auto& t : m_impl->workers) {
    if (t.joinable()) {
      t.join();
    }
  }
}

namespace {

// A listening socket on host:port, non-blocking. transient when it cannot be bound.
util::Result<int> listen_on(const ListenAddress& address, const std::string& shown) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return util::fail(util::ErrorKind::transient,
                      "cannot listen on " + shown + ": " + ::gai_strerror(rc));
  }
  std::string why;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return util::fail(util::ErrorKind::transient, "cannot listen on " + shown + ": " + why);
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

// Every connection is a descriptor: the soft limit goes up to the hard one.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

} // namespace

util::Result<std::unique_ptr<Server>> Server::start(Options options, api::ImageUpdaterApi& api) {
  auto address = parse_listen(options.listen);
  if (!address) {
    return std::unexpected(address.error());
  }
  if (options.max_threads < 1 || options.max_queued < 1 || options.max_connections < 1 ||
      options.max_connections_per_client < 1) {
    return util::fail(util::ErrorKind::invalid_input,
                      "max_threads, max_queued, max_connections and max_connections_per_client "
                      "must be >= 1");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return util::fail(util::ErrorKind::invalid_input,
                      "TLS needs both a certificate file and a key file");
  }
  const std::string shown = options.listen;
  auto impl = std::make_unique<Impl>(std::move(options), api);
  Impl& s = *impl;
  if (!s.options.tls_cert_file.empty()) {
    auto made = http::tls_server_context(s.options.tls_cert_file, s.options.tls_key_file);
    if (!made) {
      return std::unexpected(made.error());
    }
    s.tls = std::move(*made);
  }
  if (s.options.metrics != nullptr) {
    s.requests = &s.options.metrics->counter(
        "imageupdater_http_requests_total",
        "HTTP requests served, by method, route and status code.", {"method", "route", "code"});
    s.latency = &s.options.metrics->histogram(
        "imageupdater_http_request_duration_seconds",
        "Time from reading the request to having written the response, by method and route.",
        {"method", "route"}, metrics::latency_buckets());
  }
  raise_descriptor_limit();
  auto fd = listen_on(*address, shown);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  s.listen_fd = *fd;
  s.port = bound_port(s.listen_fd);
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.epoll_fd < 0 || s.wake_fd < 0) {
    return util::fail(util::ErrorKind::internal,
                      std::string("cannot set up the event loop: ") + std::strerror(errno));
  }
  for (int watched : {s.listen_fd, s.wake_fd}) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = watched;
    ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, watched, &e);
  }
  for (int i = 0; i < s.options.max_threads; ++i) {
    s.workers.emplace_back([&s] { s.work_loop(); });
  }
  s.loop = std::thread([&s] { s.run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

} // namespace common::server
