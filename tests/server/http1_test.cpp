// http1.hpp: strict request heads, chunked bodies, response bytes.
#include <gtest/gtest.h>

#include "common/server/http1.hpp"

namespace common::server::http1 {
namespace {

TEST(ParseHead, GoodHeads) {
  auto r = parse_head("POST /a/b?c=d HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n"
                      "Expect: 100-continue\r\n\r\n{...}",
                      1024);
  ASSERT_TRUE(r.head) << (r.error ? r.error->message : "incomplete");
  EXPECT_EQ(r.head->method, "POST");
  EXPECT_EQ(r.head->target, "/a/b?c=d");
  EXPECT_EQ(r.head->content_length, 12u);
  EXPECT_TRUE(r.head->keep_alive);
  EXPECT_TRUE(r.head->expect_continue);
  EXPECT_EQ(r.head->size, std::string("POST /a/b?c=d HTTP/1.1\r\nHost: x\r\nContent-Length: 12"
                                      "\r\nExpect: 100-continue\r\n\r\n")
                              .size());
  auto chunked = parse_head("PUT / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", 1024);
  ASSERT_TRUE(chunked.head);
  EXPECT_TRUE(chunked.head->chunked);
  auto old = parse_head("GET / HTTP/1.0\r\n\r\n", 1024);
  ASSERT_TRUE(old.head);
  EXPECT_FALSE(old.head->keep_alive);
  auto old_keep = parse_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1024);
  ASSERT_TRUE(old_keep.head);
  EXPECT_TRUE(old_keep.head->keep_alive);
  auto close = parse_head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1024);
  ASSERT_TRUE(close.head);
  EXPECT_FALSE(close.head->keep_alive);
}

TEST(ParseHead, IncompleteHeadsWait) {
  for (const char* partial : {"", "GE", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: x\r\n",
                              "GET / HTTP/1.1\r\nHost: x\r\n\r"}) {
    auto r = parse_head(partial, 1024);
    EXPECT_FALSE(r.head) << partial;
    EXPECT_FALSE(r.error) << partial << ": " << r.error->message;
  }
}

TEST(ParseHead, AmbiguousOrMalformedHeadsAreErrors) {
  struct Case {
    std::string head;
    int status;
    std::string part;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\nHost: x\n\n", 400, "CRLF"},
      {"GET / HTTP/1.1\r\nHost: x\n\r\n\r\n", 400, "CRLF"},
      {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400, "CRLF"},
      {"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400, "no white space before the colon"},
      {"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400, "folding"},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400, "more than one"},
      {"GET / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, "not a number"},
      {"GET / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400, "not a number"},
      {"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "not a number"},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both"},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400, "only \"chunked\""},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400, "only \"chunked\""},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "only \"chunked\""},
      {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0"},
      {"GET / HTTP/2.0\r\n\r\n", 505, "version"},
      {"GET /  HTTP/1.1\r\n\r\n", 400, "request line"},
      {"GET http://evil/ HTTP/1.1\r\n\r\n", 400, "absolute path"},
      {"G@T / HTTP/1.1\r\n\r\n", 400, "method"},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "without a colon"},
      {"GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417, "expectation"},
      {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431, "larger than"},
      {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a'), 431, "larger than"},
  };
  for (const auto& c : cases) {
    auto r = parse_head(c.head, 1024);
    ASSERT_TRUE(r.error) << c.head;
    EXPECT_EQ(r.error->status, c.status) << c.head << ": " << r.error->message;
    EXPECT_NE(r.error->message.find(c.part), std::string::npos) << r.error->message;
  }
}

TEST(ChunkedDecoder, StrictChunksAnyCut) {
  const std::string body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n";
  // Fed whole, and fed a byte at a time: the same result.
  for (std::size_t step : {body.size(), std::size_t{1}, std::size_t{3}}) {
    ChunkedDecoder d;
    std::string out;
    std::string buffered;
    ChunkedDecoder::Step s = ChunkedDecoder::Step::need_more;
    for (std::size_t at = 0; at < body.size() && s == ChunkedDecoder::Step::need_more; at += step) {
      buffered += body.substr(at, step);
      std::size_t consumed = 0;
      std::string error;
      bool too_large = false;
      s = d.feed(buffered, consumed, out, 1024, error, too_large);
      ASSERT_NE(s, ChunkedDecoder::Step::error) << error;
      buffered.erase(0, consumed);
    }
    EXPECT_EQ(s, ChunkedDecoder::Step::done) << step;
    EXPECT_EQ(out, "Wikipedia") << step;
  }
  struct Bad {
    std::string body;
    bool too_large;
  };
  for (const auto& bad : std::vector<Bad>{{"4\nWiki\r\n0\r\n\r\n", false},
                                          {"4\r\nWiki\n0\r\n\r\n", false},
                                          {"4\r\nWikiX\r\n", false},
                                          {"x\r\n", false},
                                          {"-1\r\n", false},
                                          {"fffffffffffffffff\r\n", false},
                                          {"800\r\n", true}}) {
    ChunkedDecoder d;
    std::string out;
    std::size_t consumed = 0;
    std::string error;
    bool too_large = false;
    EXPECT_EQ(d.feed(bad.body, consumed, out, 1024, error, too_large), ChunkedDecoder::Step::error)
        << bad.body;
    EXPECT_EQ(too_large, bad.too_large) << bad.body;
  }
}

TEST(Serialize, HeadAndBody) {
  api::HttpResponse r;
  r.status = 405;
  r.body = "{}";
  r.headers = {{"Allow", "GET"}};
  EXPECT_EQ(serialize(r, false, true), "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: "
                                       "application/json\r\nContent-Length: 2\r\nAllow: GET\r\n\r\n"
                                       "{}");
  EXPECT_EQ(serialize(r, true, false),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: "
            "2\r\nConnection: close\r\nAllow: GET\r\n\r\n");
}

} // namespace
} // namespace common::server::http1
