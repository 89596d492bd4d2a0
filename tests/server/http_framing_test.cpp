// How `serve` copes with odd HTTP framing around a request body (raw bytes over loopback):
// chunked bodies, no length, bad lengths, a body on a probe, malformed percent-encoding (cases
// found while fuzzing), and framing two parsers could read differently.
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/client.hpp"
#include "tests/server/raw_http.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using nlohmann::json;
using server_test::exchange;
using server_test::k_demo_items;
using server_test::loopback_updater;
using server_test::RawReply;
using server_test::Service;

std::string head(const std::string& method, const std::string& target,
                 const std::string& extra_headers) {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

class ServeFramingTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_NE(m_service.port(), 0) << m_service.log(); }
  void TearDown() override { EXPECT_TRUE(m_service.running()) << m_service.log(); }

  // The reply within `seconds`, with the time it took.
  RawReply send(const std::string& request, int seconds = 3) {
    const auto start = std::chrono::steady_clock::now();
    RawReply r = exchange(m_service.port(), request, false, seconds);
    m_elapsed = std::chrono::steady_clock::now() - start;
    return r;
  }

  static std::string reason(const RawReply& r) {
    const json body = json::parse(r.body, nullptr, false);
    return body.is_object() ? body.value("reason", "") : "";
  }

  test_support::TempDir m_dir;
  Service m_service{m_dir.path() + "/data", m_dir.path()};
  std::chrono::steady_clock::duration m_elapsed{};
};

TEST_F(ServeFramingTest, ChunkedBodyIsReassembled) {
  const std::string body = loopback_updater("chunked").dump();
  std::string request = head("POST", k_demo_items,
                             "Connection: close\r\nContent-Type: application/json\r\n"
                             "Transfer-Encoding: chunked\r\n");
  for (std::size_t at = 0; at < body.size(); at += 7) {
    const std::string chunk = body.substr(at, 7);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    request += size + chunk + "\r\n";
  }
  request += "0\r\n\r\n";
  const RawReply r = send(request);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ServeFramingTest, ZeroLengthWriteIsA400Status) {
  const RawReply r = send(head("POST", k_demo_items,
                               "Connection: close\r\nContent-Type: application/json\r\n"
                               "Content-Length: 0\r\n"));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "BadRequest") << r.body;
}

TEST_F(ServeFramingTest, MalformedPercentEncodingIsA400Status) {
  const RawReply r = send(head("GET", k_demo_items + "?limit=%zz", "Connection: close\r\n"));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "BadRequest") << r.body;
}

// A POST/PUT/PATCH/OPTIONS with neither Content-Length nor Transfer-Encoding has an empty body
// (RFC 9112 section 6.3, rule 7). Poco would read such a body until the client closes the
// connection (holding a worker for read_timeout); the server does not read it at all.
TEST_F(ServeFramingTest, WriteWithoutALengthIsAnsweredPromptly) {
  for (const std::string method : {"POST", "PUT", "PATCH"}) {
    SCOPED_TRACE(method);
    const std::string target = method == "POST" ? k_demo_items : k_demo_items + "/web";
    const RawReply r =
        send(head(method, target, "Connection: close\r\nContent-Type: application/json\r\n"));
    EXPECT_EQ(r.error, "") << "after " << std::chrono::duration<double>(m_elapsed).count() << " s";
    // (application/json is not a patch type: a PATCH is 415 before its body matters.)
    EXPECT_EQ(r.status, method == "PATCH" ? 415 : 400) << r.body;
  }
}

// A negative Content-Length is a malformed request: 400, and the connection is closed.
TEST_F(ServeFramingTest, NegativeContentLengthIsA400) {
  const RawReply r = send(head("POST", k_demo_items,
                               "Connection: close\r\nContent-Type: application/json\r\n"
                               "Content-Length: -5\r\n") +
                          "{}");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 400) << r.body;
}

// GET /healthz with a body: the body is read before the answer, so on a keep-alive connection
// its bytes are not parsed as the start of the next request ("helloGET /healthz ...").
TEST_F(ServeFramingTest, HealthProbeBodyDoesNotDesyncTheConnection) {
  const RawReply r = send(head("GET", "/healthz", "Content-Length: 5\r\n") + "hello" +
                          head("GET", "/healthz", "Connection: close\r\n"));
  std::size_t answers = 0;
  for (auto at = r.raw.find("HTTP/1.1 200"); at != std::string::npos;
       at = r.raw.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 2u) << r.error << "\n" << r.raw;
}

// A Content-Length that is not a number is a 400 (the front end parses heads itself).
TEST_F(ServeFramingTest, NonNumericContentLengthIsA400) {
  const RawReply r = send(head("POST", k_demo_items,
                               "Connection: close\r\nContent-Type: application/json\r\n"
                               "Content-Length: abc\r\n") +
                          "{}");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 400) << r.raw;
}

} // namespace

namespace {

// Issue 13: framing two parsers could read differently. Each is a 400 with the connection
// closed, and the request smuggled behind it is never served.
TEST_F(ServeFramingTest, AmbiguousFramingIsA400AndNothingIsSmuggled) {
  const std::string smuggled = head("GET", "/healthz", "Connection: close\r\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Content-Length: 2\r\nContent-Length: 2\r\n", "{}" + smuggled},
      {"Content-Length: 2\r\nContent-Length: 40\r\n", "{}" + smuggled},
      {"Content-Length: +2\r\n", "{}" + smuggled},
      {"Transfer-Encoding: xchunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Content-Length : 2\r\n", "{}" + smuggled},
  };
  for (const auto& [headers, rest] : cases) {
    const RawReply r =
        send(head("POST", k_demo_items, "Content-Type: application/json\r\n" + headers) + rest);
    EXPECT_EQ(r.status, 400) << headers << r.raw;
    std::size_t answers = 0;
    for (auto at = r.raw.find("HTTP/1.1 "); at != std::string::npos;
         at = r.raw.find("HTTP/1.1 ", at + 1)) {
      ++answers;
    }
    EXPECT_EQ(answers, 1u) << "a second request was served: " << headers << r.raw;
    EXPECT_EQ(server_test::lower(r.headers.count("connection") ? r.headers.at("connection") : ""),
              "close")
        << headers << r.raw;
  }
  // HTTP/1.0 with Transfer-Encoding.
  const RawReply old =
      send("POST " + k_demo_items +
           " HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_NE(old.raw.find(" 400 "), std::string::npos) << old.raw; // answered as HTTP/1.0
  EXPECT_EQ(old.raw.find("HTTP/1.1 200"), std::string::npos) << old.raw;
}

} // namespace
