// PocoClient over real sockets on 127.0.0.1: Poco HTTP(S) servers for well-behaved peers, a
// scripted raw server for misbehaving ones. Certificates are made with the openssl CLI.
#include <arpa/inet.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/http/poco_client.hpp"

#include "tests/http/test_server.hpp"

namespace common::http {
namespace {

using namespace std::chrono_literals;
using test::Exchange;
using test::RawServer;
using test::TestServer;
using util::ErrorKind;

Limits fast_limits() {
  Limits limits;
  limits.connect_timeout = 1000ms;
  limits.read_timeout = 2000ms;
  return limits;
}

Request get(std::string url, Headers headers = {}) {
  Request request;
  request.url = std::move(url);
  request.headers = std::move(headers);
  return request;
}

Request call(std::string method, std::string url, std::string body = {}, Headers headers = {}) {
  Request request = get(std::move(url), std::move(headers));
  request.method = std::move(method);
  request.body = std::move(body);
  return request;
}

template <class F>
ClientOptions options(F&& edit) {
  ClientOptions o;
  edit(o);
  return o;
}

ClientOptions with_tls(std::map<std::string, TlsOptions> tls) {
  ClientOptions o;
  o.tls = std::move(tls);
  return o;
}

TlsOptions trust(std::string ca_file) {
  TlsOptions t;
  t.ca_file = std::move(ca_file);
  return t;
}

TlsOptions insecure() {
  TlsOptions t;
  t.insecure_skip_verify = true;
  return t;
}

std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class PocoClientTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    s_dir = std::filesystem::temp_directory_path() / ("iu-http-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(s_dir);
    s_certs = test::make_certificate(file("good.pem"), file("good.key"), "127.0.0.1",
                                     "IP:127.0.0.1,DNS:localhost") &&
              test::make_certificate(file("other.pem"), file("other.key"), "other.example",
                                     "DNS:other.example");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(s_dir, ec);
  }
  static std::string file(const std::string& name) { return (s_dir / name).string(); }

  void SetUp() override {
    if (!s_certs) {
      GTEST_SKIP() << "openssl could not make the test certificates";
    }
  }

  static std::unique_ptr<PocoClient> make_client(ClientOptions options = {}) {
    auto client = PocoClient::create(std::move(options));
    EXPECT_TRUE(client.has_value()) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  static test::ServerTls good_tls() { return {file("good.pem"), file("good.key")}; }

  static inline std::filesystem::path s_dir;
  static inline bool s_certs = false;
};

void hello(Exchange& ex) {
  const auto ua = find_header(ex.headers(), "User-Agent");
  const auto host = find_header(ex.headers(), "Host");
  const auto auth = find_header(ex.headers(), "Authorization");
  ex.respond(200,
             {{"Content-Type", "text/plain"},
              {"X-Seen-UA", std::string(ua.value_or(""))},
              {"X-Seen-Host", std::string(host.value_or(""))},
              {"X-Seen-Auth", std::string(auth.value_or(""))}},
             "hello");
}

// --- plain HTTP --------------------------------------------------------------------------

TEST_F(PocoClientTest, GetReturnsStatusHeadersAndBody) {
  TestServer server({{"/hello", hello}});
  auto client = make_client();
  const auto r =
      client->send(get(server.url("/hello?x=1"), {{"Authorization", "Bearer tok"}}), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(find_header(r->headers, "content-type"), "text/plain");
  EXPECT_EQ(find_header(r->headers, "X-Seen-UA"), "imageupdater");
  EXPECT_EQ(find_header(r->headers, "X-Seen-Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(find_header(r->headers, "X-Seen-Auth"), "Bearer tok");
}

TEST_F(PocoClientTest, UserAgentFromOptionsOrRequest) {
  TestServer server({{"/hello", hello}});
  auto client = make_client(options([](ClientOptions& o) { o.user_agent = "iu-test/1"; }));
  auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(find_header(r->headers, "X-Seen-UA"), "iu-test/1");
  r = client->send(get(server.url("/hello"), {{"user-agent", "mine"}}), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(find_header(r->headers, "X-Seen-UA"), "mine");
}

TEST_F(PocoClientTest, KeepAliveReusesOneConnection) {
  TestServer server({{"/hello", hello}});
  auto client = make_client();
  for (int i = 0; i < 3; ++i) {
    const auto r = client->send(get(server.url("/hello")), fast_limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_EQ(server.requests(), 3U);
  EXPECT_EQ(server.connections(), 1U);
  EXPECT_EQ(client->idle_connections(), 1U);
}

TEST_F(PocoClientTest, NoReuseWhenPoolDisabled) {
  TestServer server({{"/hello", hello}});
  auto client = make_client(options([](ClientOptions& o) { o.max_idle_per_origin = 0; }));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client->send(get(server.url("/hello")), fast_limits()).has_value());
  }
  EXPECT_EQ(server.connections(), 2U);
  EXPECT_EQ(client->idle_connections(), 0U);
}

TEST_F(PocoClientTest, ReadsChunkedBodiesAndKeepsTheConnection) {
  TestServer server({{"/chunked", [](Exchange& ex) {
                        ex.respond_chunked(200, {"abc", "defg", "h"});
                      }}});
  auto client = make_client();
  for (int i = 0; i < 2; ++i) {
    const auto r = client->send(get(server.url("/chunked")), fast_limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "abcdefgh");
    EXPECT_EQ(find_header(r->headers, "Transfer-Encoding"), "chunked");
  }
  EXPECT_EQ(server.connections(), 1U);
}

TEST_F(PocoClientTest, BodyLimit) {
  TestServer server({
      {"/fixed", [](Exchange& ex) { ex.respond(200, {}, std::string(2000, 'x')); }},
      {"/exact", [](Exchange& ex) { ex.respond(200, {}, std::string(1000, 'x')); }},
      {"/chunked",
       [](Exchange& ex) {
         ex.respond_chunked(200, std::vector<std::string>(4, std::string(600, 'x')));
       }},
      {"/chunked-exact",
       [](Exchange& ex) {
         ex.respond_chunked(200, std::vector<std::string>(2, std::string(500, 'x')));
       }},
  });
  auto client = make_client();
  Limits limits = fast_limits();
  limits.max_body = 1000;
  struct Case {
    std::string path;
    bool ok;
  };
  for (const Case& c : std::vector<Case>{
           {"/fixed", false}, {"/exact", true}, {"/chunked", false}, {"/chunked-exact", true}}) {
    SCOPED_TRACE(c.path);
    const auto r = client->send(get(server.url(c.path)), limits);
    if (c.ok) {
      ASSERT_TRUE(r.has_value()) << r.error().message;
      EXPECT_EQ(r->body.size(), 1000U);
    } else {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().kind, ErrorKind::too_large);
      EXPECT_TRUE(contains(r.error().message, "1000")) << r.error().message;
      EXPECT_TRUE(contains(r.error().message, "GET " + server.url(c.path))) << r.error().message;
    }
  }
}

TEST_F(PocoClientTest, HugeAnnouncedLengthFailsBeforeReading) {
  RawServer server([](RawServer::Io& io) {
    const int c = io.accept();
    io.read_head(c);
    io.write(c, "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nxx");
    io.read_head(c); // until the client hangs up
  });
  auto client = make_client();
  const auto r = client->send(get(server.url("/big")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_TRUE(contains(r.error().message, "1099511627776")) << r.error().message;
  client.reset();
}

TEST_F(PocoClientTest, TruncatedBodyIsTransient) {
  RawServer server([](RawServer::Io& io) {
    const int c = io.accept();
    io.read_head(c);
    io.write(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    io.close(c);
  });
  auto client = make_client();
  const auto r = client->send(get(server.url("/short")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_TRUE(contains(r.error().message, "10 of 100")) << r.error().message;
}

TEST_F(PocoClientTest, OversizedResponseHeadIsTooLarge) {
  RawServer server([](RawServer::Io& io) {
    const int c = io.accept();
    io.read_head(c);
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 150; ++i) {
      head += "X-Filler-" + std::to_string(i) + ": x\r\n";
    }
    io.write(c, head + "Content-Length: 0\r\n\r\n");
    io.read_head(c); // until the client hangs up
  });
  auto client = make_client();
  const auto r = client->send(get(server.url("/")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large) << r.error().message;
  client.reset();
}

TEST_F(PocoClientTest, SlowResponseTimesOut) {
  const auto slow = [](Exchange& ex) {
    ex.pause(3000ms);
    ex.respond(200, {}, "late");
  };
  for (const bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "https" : "http");
    TestServer server({{"/slow", slow}, {"/hello", hello}},
                      tls ? std::optional(good_tls()) : std::nullopt);
    auto client = make_client(with_tls(
        {{"https://127.0.0.1:" + std::to_string(server.port()), trust(file("good.pem"))}}));
    Limits limits = fast_limits();
    // Connect (and load CAs) first, so that only the wait for the response is timed.
    ASSERT_TRUE(client->send(get(server.url("/hello")), limits).has_value());
    limits.read_timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    const auto r = client->send(get(server.url("/slow")), limits);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::transient);
    EXPECT_TRUE(contains(r.error().message, "timed out waiting for the response"))
        << r.error().message;
    EXPECT_GE(took, 280ms);
    EXPECT_LT(took, 450ms);
  }
}

TEST_F(PocoClientTest, SlowChunksHitTheWholeBodyDeadline) {
  RawServer server([](RawServer::Io& io) {
    const int c = io.accept();
    io.read_head(c);
    io.write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 6; ++i) {
      io.write(c, "1\r\nx\r\n");
      std::this_thread::sleep_for(80ms);
    }
    io.write(c, "0\r\n\r\n");
    io.close(c);
  });
  auto client = make_client();
  Limits limits = fast_limits();
  limits.read_timeout = 250ms; // every read is quick, the whole body is not
  const auto r = client->send(get(server.url("/drip")), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_TRUE(contains(r.error().message, "timed out reading the response body"))
      << r.error().message;
}

TEST_F(PocoClientTest, ConnectionRefusedIsTransientAndNeverShowsSecrets) {
  auto client = make_client();
  const std::string url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/v2/";
  const auto r = client->send(get(url, {{"Authorization", "Bearer s3cr3t-tok"}}), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_TRUE(contains(r.error().message, "GET " + url)) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "refused")) << r.error().message;
  EXPECT_FALSE(contains(r.error().message, "s3cr3t")) << r.error().message;

  // A pre-signed URL's signature lives in the query: messages show "?..." instead.
  const auto signed_url = url + "blob?X-Amz-Signature=s1gn4ture&X-Amz-Credential=AKIA";
  const auto s = client->send(get(signed_url, {}), fast_limits());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(contains(s.error().message, "GET " + url + "blob?...")) << s.error().message;
  EXPECT_FALSE(contains(s.error().message, "s1gn4ture")) << s.error().message;
  EXPECT_FALSE(contains(s.error().message, "AKIA")) << s.error().message;
}

TEST_F(PocoClientTest, RedirectsAreReturnedNotFollowed) {
  TestServer server({{"/from",
                      [](Exchange& ex) {
                        ex.respond(302, {{"Location", "/to"}});
                      }},
                     {"/to", hello}});
  auto client = make_client();
  const auto r = client->send(get(server.url("/from")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(find_header(r->headers, "Location"), "/to");
  EXPECT_EQ(server.requests(), 1U);
}

TEST_F(PocoClientTest, HeadHasNoBodyAndKeepsTheConnection) {
  TestServer server(
      {{"/manifest", [](Exchange& ex) {
          ex.respond(200, {{"Docker-Content-Digest", "sha256:abc"}}, std::string(1234, 'm'));
        }}});
  auto client = make_client();
  auto r = client->send(call("HEAD", server.url("/manifest")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(find_header(r->headers, "Content-Length"), "1234");
  EXPECT_EQ(find_header(r->headers, "Docker-Content-Digest"), "sha256:abc");
  r = client->send(get(server.url("/manifest")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body.size(), 1234U);
  EXPECT_EQ(server.connections(), 1U);
}

TEST_F(PocoClientTest, RequestBodiesCarryContentLength) {
  const auto echo = [](Exchange& ex) {
    const std::string length(find_header(ex.headers(), "Content-Length").value_or("none"));
    const std::string body = ex.body();
    ex.respond(201, {{"X-Method", ex.method()}, {"X-Length", length}}, body);
  };
  TestServer server({{"/upload", echo}});
  auto client = make_client();
  struct Case {
    std::string method, body, length;
  };
  for (const Case& c : std::vector<Case>{{"PUT", std::string(100000, 'p'), "100000"},
                                         {"POST", "", "0"},
                                         {"PUT", "{}", "2"},
                                         {"DELETE", "", "none"}}) {
    SCOPED_TRACE(c.method + " " + c.length);
    const auto r = client->send(
        call(c.method, server.url("/upload"), c.body, {{"Content-Length", "999"}}), fast_limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(find_header(r->headers, "X-Method"), c.method);
    EXPECT_EQ(find_header(r->headers, "X-Length"), c.length);
    EXPECT_EQ(r->body, c.body);
  }
  EXPECT_EQ(server.connections(), 1U);
}

TEST_F(PocoClientTest, RepeatedResponseHeadersAreAllKept) {
  TestServer server({{"/multi", [](Exchange& ex) {
                        ex.respond(401, {{"WWW-Authenticate", "Bearer realm=\"a\""},
                                         {"Link", "</next>; rel=\"next\""},
                                         {"WWW-Authenticate", "Basic realm=\"b\""},
                                         {"Link", "</prev>; rel=\"prev\""}});
                      }}});
  auto client = make_client();
  const auto r = client->send(get(server.url("/multi")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 401);
  const auto auth = find_headers(r->headers, "www-authenticate");
  ASSERT_EQ(auth.size(), 2U);
  EXPECT_EQ(auth[0], "Bearer realm=\"a\"");
  EXPECT_EQ(auth[1], "Basic realm=\"b\"");
  const auto links = find_headers(r->headers, "link");
  ASSERT_EQ(links.size(), 2U);
  EXPECT_EQ(links[0], "</next>; rel=\"next\"");
  EXPECT_EQ(links[1], "</prev>; rel=\"prev\"");
}

TEST_F(PocoClientTest, InvalidRequestsAreRejectedWithoutEchoingSecrets) {
  auto client = make_client();
  struct Case {
    Request request;
    Limits limits;
  };
  Limits zero = fast_limits();
  zero.read_timeout = 0ms;
  const std::vector<Case> cases = {
      {get("ftp://h/"), fast_limits()},
      {get("https://user:s3cr3t@h/"), fast_limits()},
      {call("get", "http://127.0.0.1/"), fast_limits()},
      {call("GET\r\nX", "http://127.0.0.1/"), fast_limits()},
      {get("http://127.0.0.1/", {{"Authorization", "Bearer s3cr3t\r\nX: y"}}), fast_limits()},
      {get("http://127.0.0.1/", {{"Bad Name", "v"}}), fast_limits()},
      {get("http://127.0.0.1/"), zero},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request.method + " " + c.request.url);
    const auto r = client->send(c.request, c.limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
    EXPECT_FALSE(contains(r.error().message, "s3cr3t")) << r.error().message;
  }
}

// --- connection reuse and the retry-once rule -----------------------------------------------

// The server answers once, then reads the next request on the same connection and hangs up
// without answering: what a keep-alive connection closed by the server while idle looks like.
void answer_then_drop(RawServer::Io& io, std::atomic<int>& fresh_connections,
                      std::chrono::milliseconds wait_for_retry) {
  const int c1 = io.accept();
  io.read_head(c1);
  io.write(c1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
  io.read_head(c1);
  io.close(c1);
  const int c2 = io.accept(wait_for_retry);
  if (c2 < 0) {
    return;
  }
  ++fresh_connections;
  io.read_head(c2);
  io.write(c2, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
}

TEST_F(PocoClientTest, GetOnAStaleConnectionIsRetriedOnceOnAFreshOne) {
  std::atomic<int> fresh{0};
  RawServer server([&](RawServer::Io& io) { answer_then_drop(io, fresh, 2000ms); });
  auto client = make_client();
  auto r = client->send(get(server.url("/a")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "one");
  r = client->send(get(server.url("/a")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "two");
  client.reset(); // lets the script finish
  EXPECT_EQ(fresh.load(), 1);
}

TEST_F(PocoClientTest, PostOnAStaleConnectionIsNotReplayed) {
  std::atomic<int> fresh{0};
  {
    RawServer server([&](RawServer::Io& io) { answer_then_drop(io, fresh, 300ms); });
    auto client = make_client();
    auto r = client->send(get(server.url("/a")), fast_limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    r = client->send(call("POST", server.url("/a"), "x"), fast_limits());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::transient);
    EXPECT_TRUE(contains(r.error().message, "POST " + server.url("/a"))) << r.error().message;
  } // joins the script, which waits 300 ms for a retry that must not come
  EXPECT_EQ(fresh.load(), 0);
}

TEST_F(PocoClientTest, IdleConnectionClosedByTheServerIsNotReused) {
  RawServer server([](RawServer::Io& io) {
    const int c1 = io.accept();
    io.read_head(c1);
    io.write(c1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
    io.close(c1); // while idle in the client's pool
    const int c2 = io.accept();
    io.read_head(c2);
    io.write(c2, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
  });
  auto client = make_client();
  // A POST: it would not be retried, so it only succeeds if the dead connection is skipped.
  auto r = client->send(call("POST", server.url("/a")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::this_thread::sleep_for(50ms);
  r = client->send(call("POST", server.url("/a")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "two");
}

TEST_F(PocoClientTest, ConcurrentCallersShareThePool) {
  TestServer server({{"/hello", hello}});
  auto client = make_client();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const auto r = client->send(get(server.url("/hello")), fast_limits());
        if (r && r->body == "hello") {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 40);
  EXPECT_LE(server.connections(), 4U);
  EXPECT_LE(client->idle_connections(), 4U);
}

TEST_F(PocoClientTest, UploadToAServerThatHangsUpDoesNotRaiseSigpipe) {
  TestServer server({{"/noread", [](Exchange& ex) {
                        ex.respond(413, {{"Connection", "close"}});
                      }}});
  auto client = make_client();
  const auto r =
      client->send(call("PUT", server.url("/noread"), std::string(8 << 20, 'b')), fast_limits());
  // Either the 413 arrived before the write failed, or the write failed: never a dead process.
  if (r) {
    EXPECT_EQ(r->status, 413);
  } else {
    EXPECT_EQ(r.error().kind, ErrorKind::transient) << r.error().message;
  }
}

// --- TLS -----------------------------------------------------------------------------------

TEST_F(PocoClientTest, TlsWithTheServersCaVerifiesIpAndDnsNames) {
  TestServer server({{"/hello", hello}}, good_tls());
  const std::string ip_origin = "https://127.0.0.1:" + std::to_string(server.port());
  const std::string dns_origin = "https://LOCALHOST:" + std::to_string(server.port()) + "/";
  auto client = make_client(
      with_tls({{ip_origin, trust(file("good.pem"))}, {dns_origin, trust(file("good.pem"))}}));
  for (const std::string host : {"127.0.0.1", "localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    const auto r = client->send(get(server.url("/hello", host)), fast_limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "hello");
  }
  EXPECT_EQ(server.connections(), 2U); // one per origin, reused
}

TEST_F(PocoClientTest, TlsSystemBundleOption) {
  TestServer server({{"/hello", hello}}, good_tls());
  auto client = make_client(options([](ClientOptions& o) { o.system_ca_file = file("good.pem"); }));
  const auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST_F(PocoClientTest, TlsWithoutTheCaIsAnAuthErrorNamingHostAndReason) {
  TestServer server({{"/hello", hello}}, good_tls());
  auto client = make_client();
  const auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_TRUE(contains(r.error().message, "127.0.0.1")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "self-signed")) << r.error().message;
  EXPECT_EQ(server.requests(), 0U);
}

TEST_F(PocoClientTest, TlsCaOfAnotherOriginDoesNotApply) {
  TestServer server({{"/hello", hello}}, good_tls());
  auto client = make_client(with_tls({{"https://registry.example", trust(file("good.pem"))}}));
  const auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
}

TEST_F(PocoClientTest, TlsInsecureSkipVerify) {
  TestServer server({{"/hello", hello}}, good_tls());
  const std::string origin = "https://127.0.0.1:" + std::to_string(server.port());
  auto client = make_client(with_tls({{origin, insecure()}}));
  const auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "hello");
}

TEST_F(PocoClientTest, TlsHostNameMismatchIsAnAuthError) {
  TestServer server({{"/hello", hello}}, test::ServerTls{file("other.pem"), file("other.key")});
  const std::string origin = "https://127.0.0.1:" + std::to_string(server.port());
  auto client = make_client(with_tls({{origin, trust(file("other.pem"))}}));
  const auto r = client->send(get(server.url("/hello")), fast_limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_TRUE(contains(r.error().message, "not valid for host name 127.0.0.1"))
      << r.error().message;
  EXPECT_EQ(server.requests(), 0U);
}

TEST_F(PocoClientTest, TlsToAPlainHttpServerIsTransient) {
  TestServer server({{"/hello", hello}});
  auto client = make_client();
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/hello";
  Limits limits = fast_limits();
  limits.connect_timeout = 300ms; // Poco's server may wait for more of the "request line"
  const auto r = client->send(get(url), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient) << r.error().message;
}

TEST_F(PocoClientTest, TlsHandshakeIsBoundedByTheConnectTimeout) {
  RawServer server([](RawServer::Io& io) {
    const int c = io.accept();
    io.read_head(c); // never answers the ClientHello; returns when the client gives up
  });
  // Insecure: no CA bundle to load, so only the handshake is timed.
  auto client =
      make_client(with_tls({{"https://127.0.0.1:" + std::to_string(server.port()), insecure()}}));
  Limits limits = fast_limits();
  limits.connect_timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const auto r = client->send(get(server.url("/", "https")), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient) << r.error().message;
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 180ms);
  EXPECT_LT(took, 400ms) << r.error().message;
}

// --- options ---------------------------------------------------------------------------------

TEST_F(PocoClientTest, CreateValidatesTlsOptions) {
  const std::vector<ClientOptions> bad = {
      with_tls({{"http://registry.example", {}}}),
      with_tls({{"https://registry.example/v2/", {}}}),
      with_tls({{"registry.example", {}}}),
      with_tls({{"https://registry.example", trust(file("missing.pem"))}}),
  };
  for (const auto& options : bad) {
    const auto client = PocoClient::create(options);
    ASSERT_FALSE(client.has_value());
    EXPECT_EQ(client.error().kind, ErrorKind::invalid_input);
  }
}

TEST_F(PocoClientTest, DefaultCaFileHonoursSslCertFile) {
  const char* saved = std::getenv("SSL_CERT_FILE");
  const std::string restore = saved != nullptr ? saved : "";
  ::setenv("SSL_CERT_FILE", "/tmp/custom-bundle.pem", 1);
  EXPECT_EQ(default_ca_file(), "/tmp/custom-bundle.pem");
  ::setenv("SSL_CERT_FILE", "", 1);
  EXPECT_EQ(default_ca_file(), "/etc/ssl/certs/ca-certificates.crt");
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(default_ca_file(), "/etc/ssl/certs/ca-certificates.crt");
  if (saved != nullptr) {
    ::setenv("SSL_CERT_FILE", restore.c_str(), 1);
  }
}

} // namespace
} // namespace common::http
