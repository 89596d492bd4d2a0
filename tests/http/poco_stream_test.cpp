// PocoClient::open (streamed responses: a Kubernetes watch) and TLS client certificates, over
// real sockets on 127.0.0.1.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
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
using Clock = std::chrono::steady_clock;

Limits limits(std::chrono::milliseconds read_timeout = 2000ms) {
  Limits l;
  l.connect_timeout = 1000ms;
  l.read_timeout = read_timeout;
  return l;
}

Request get(std::string url) {
  Request request;
  request.url = std::move(url);
  return request;
}

std::unique_ptr<PocoClient> make_client(ClientOptions options = {}) {
  auto client = PocoClient::create(std::move(options));
  EXPECT_TRUE(client.has_value()) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

// Reads the stream to its end (or the first error).
util::Result<std::string> drain(ResponseStream& stream) {
  std::string all;
  while (true) {
    auto chunk = stream.read(7); // small reads: chunks are split across reads
    if (!chunk) {
      return chunk;
    }
    if (chunk->empty()) {
      return all;
    }
    all += *chunk;
  }
}

// A raw chunked response: the head and one chunk, then silence for `hold` before the end.
std::function<void(RawServer::Io&)> slow_stream(std::chrono::milliseconds hold) {
  return [hold](RawServer::Io& io) {
    const int c = io.accept();
    if (c < 0) {
      return;
    }
    io.read_head(c);
    io.write(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n4\r\none\n\r\n");
    const auto until = Clock::now() + hold;
    while (Clock::now() < until) {
      std::this_thread::sleep_for(20ms);
    }
    io.write(c, "0\r\n\r\n");
    io.close(c);
  };
}

TEST(PocoStream, ChunkedBodyArrivesAsItIsRead) {
  TestServer server({{"/watch", [](Exchange& ex) {
                        ex.respond_chunked(200, {"{\"a\":1}\n", "{\"b\":", "2}\n"});
                      }}});
  auto client = make_client();
  auto stream = client->open(get(server.url("/watch?watch=1")), limits());
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  EXPECT_EQ((*stream)->status(), 200);
  EXPECT_TRUE(find_header((*stream)->headers(), "transfer-encoding").has_value());
  const auto body = drain(**stream);
  ASSERT_TRUE(body.has_value()) << body.error().message;
  EXPECT_EQ(*body, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(*(*stream)->read(10), ""); // stays at the end
}

TEST(PocoStream, ErrorStatusesAreStreamsToo) {
  TestServer server({{"/x", [](Exchange& ex) { ex.respond(410, {}, "{\"kind\":\"Status\"}"); }}});
  auto client = make_client();
  auto stream = client->open(get(server.url("/x")), limits());
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  EXPECT_EQ((*stream)->status(), 410);
  EXPECT_EQ(*drain(**stream), "{\"kind\":\"Status\"}");
}

TEST(PocoStream, CancelFromAnotherThreadEndsABlockedReadPromptly) {
  RawServer server(slow_stream(1800ms));
  auto client = make_client();
  auto stream = client->open(get(server.url("/watch")), limits(10000ms));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  EXPECT_EQ(*(*stream)->read(100), "one\n");
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    (*stream)->cancel();
  });
  const auto start = Clock::now();
  const auto next = (*stream)->read(100);
  const auto waited = Clock::now() - start;
  canceller.join();
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(*next, "");
  EXPECT_LT(waited, 1000ms);
  (*stream)->cancel(); // idempotent
  EXPECT_EQ(*(*stream)->read(100), "");
}

TEST(PocoStream, TheReadTimeoutIsADeadlineForTheWholeStream) {
  RawServer server(slow_stream(1800ms));
  auto client = make_client();
  auto stream = client->open(get(server.url("/watch")), limits(400ms));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  EXPECT_EQ(*(*stream)->read(100), "one\n");
  const auto start = Clock::now();
  const auto next = (*stream)->read(100);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().kind, ErrorKind::transient);
  EXPECT_LT(Clock::now() - start, 1500ms);
}

TEST(PocoStream, RefusedConnectionIsTransientAndInvalidRequestsAreRejected) {
  auto client = make_client();
  const auto refused = client->open(get("http://127.0.0.1:1/watch"), limits());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, ErrorKind::transient);
  Request bad = get("http://127.0.0.1:1/");
  bad.method = "get";
  EXPECT_EQ(client->open(bad, limits()).error().kind, ErrorKind::invalid_input);
}

// A Client that does not override open() says so.
class WholeBodies final : public Client {
public:
  util::Result<Response> send(const Request&, const Limits&) override { return Response{}; }
};

TEST(PocoStream, DefaultOpenIsUnsupported) {
  WholeBodies client;
  const auto r = client.open(get("https://example.test/x?token=secret"), limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported);
  EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << r.error().message;
}

// --- client certificates ---------------------------------------------------------------------

class ClientCertificate : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    s_dir = std::filesystem::temp_directory_path() /
            ("iu-http-cert-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(s_dir);
    s_certs =
        test::make_certificate(file("server.pem"), file("server.key"), "127.0.0.1",
                               "IP:127.0.0.1") &&
        test::make_certificate(file("client.pem"), file("client.key"), "client", "DNS:client") &&
        test::make_certificate(file("other.pem"), file("other.key"), "other", "DNS:other");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(s_dir, ec);
  }
  void SetUp() override {
    if (!s_certs) {
      GTEST_SKIP() << "openssl could not make the test certificates";
    }
  }
  static std::string file(const std::string& name) { return (s_dir / name).string(); }
  static std::string text(const std::string& name) {
    std::ifstream in(file(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static test::ServerTls server_tls() {
    return {file("server.pem"), file("server.key"), file("client.pem")};
  }
  static inline std::filesystem::path s_dir;
  static inline bool s_certs = false;
};

void ok(Exchange& ex) {
  ex.respond(200, {}, "ok");
}

TEST_F(ClientCertificate, PresentedFromFilesOrPemTextWithTheCaAsPemText) {
  TestServer server({{"/ok", ok}}, server_tls());
  const std::string origin = "https://127.0.0.1:" + std::to_string(server.port());
  TlsOptions files;
  files.ca_file = file("server.pem");
  files.client_cert_file = file("client.pem");
  files.client_key_file = file("client.key");
  TlsOptions pem;
  pem.ca_pem = text("server.pem");
  pem.client_cert_pem = text("client.pem");
  pem.client_key_pem = text("client.key");
  for (const auto& tls : {files, pem}) {
    ClientOptions options;
    options.tls[origin] = tls;
    auto client = make_client(options);
    const auto r = client->send(get(server.url("/ok")), limits());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "ok");
    auto stream = client->open(get(server.url("/ok")), limits());
    ASSERT_TRUE(stream.has_value()) << stream.error().message;
    EXPECT_EQ(*drain(**stream), "ok");
  }
}

TEST_F(ClientCertificate, WithoutOrWithAnUntrustedOneTheHandshakeFails) {
  TestServer server({{"/ok", ok}}, server_tls());
  const std::string origin = "https://127.0.0.1:" + std::to_string(server.port());
  TlsOptions none;
  none.ca_file = file("server.pem");
  TlsOptions other = none;
  other.client_cert_file = file("other.pem");
  other.client_key_file = file("other.key");
  for (const auto& tls : {none, other}) {
    ClientOptions options;
    options.tls[origin] = tls;
    auto client = make_client(options);
    const auto r = client->send(get(server.url("/ok")), limits());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::transient) << r.error().message;
  }
  EXPECT_EQ(server.requests(), 0U);
}

TEST_F(ClientCertificate, MismatchedOrIncompleteSettingsAreInvalidInput) {
  const std::string origin = "https://127.0.0.1:1";
  TlsOptions mismatched;
  mismatched.client_cert_file = file("client.pem");
  mismatched.client_key_file = file("other.key");
  ClientOptions options;
  options.tls[origin] = mismatched;
  auto client = make_client(options);
  const auto r = client->send(get(origin + "/x"), limits());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("client.pem"), std::string::npos) << r.error().message;

  TlsOptions garbage;
  garbage.client_cert_pem = "not a certificate";
  garbage.client_key_pem = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n";
  options.tls[origin] = garbage;
  client = make_client(options);
  const auto g = client->send(get(origin + "/x"), limits());
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(g.error().message.find("secret"), std::string::npos) << g.error().message;

  TlsOptions half;
  half.client_cert_file = file("client.pem");
  options.tls[origin] = half;
  EXPECT_EQ(PocoClient::create(options).error().kind, ErrorKind::invalid_input);
  TlsOptions both = mismatched;
  both.client_cert_pem = text("client.pem");
  options.tls[origin] = both;
  EXPECT_EQ(PocoClient::create(options).error().kind, ErrorKind::invalid_input);
  TlsOptions missing = mismatched;
  missing.client_key_file = file("nope.key");
  options.tls[origin] = missing;
  const auto m = PocoClient::create(options);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("nope.key"), std::string::npos) << m.error().message;
}

} // namespace
} // namespace common::http
