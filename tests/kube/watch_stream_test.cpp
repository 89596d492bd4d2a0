#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/kube/watch_stream.hpp"

#include "tests/kube/fakes.hpp"

namespace common::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeStream;
using util::ErrorKind;

std::unique_ptr<WatchStream> stream_of(std::vector<std::string> chunks, bool hold = false,
                                       std::size_t max_line = 1024) {
  return make_watch_stream(std::make_unique<FakeStream>(200, std::move(chunks), hold), max_line);
}

TEST(WatchDecode, EventLines) {
  struct Case {
    std::string line;
    std::optional<WatchEvent::Type> type; // nullopt: an error
    ErrorKind kind = ErrorKind::internal;
    std::string text; // resource version, or a part of the error message
  };
  const std::vector<Case> cases = {
      {R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})",
       WatchEvent::Type::added,
       {},
       "1"},
      {R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":"2"}}})",
       WatchEvent::Type::modified,
       {},
       "2"},
      {R"({"type":"DELETED","object":{"metadata":{"resourceVersion":"3"}}})",
       WatchEvent::Type::deleted,
       {},
       "3"},
      {R"({"type":"BOOKMARK","object":{"kind":"Lease","metadata":{"resourceVersion":"4"}}})",
       WatchEvent::Type::bookmark,
       {},
       "4"},
      {R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
       R"j("message":"too old resource version: 1 (4000)","reason":"Expired","code":410}})j",
       std::nullopt, ErrorKind::gone, "too old resource version: 1 (4000)"},
      {R"({"type":"ERROR","object":{"kind":"Status","reason":"Gone","message":"gone"}})",
       std::nullopt, ErrorKind::gone, "gone"},
      {R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"etcd"}})", std::nullopt,
       ErrorKind::transient, "etcd"},
      {R"({"type":"ERROR","object":{"kind":"Status","code":403,"message":"no"}})", std::nullopt,
       ErrorKind::auth, "no"},
      {R"({"type":"SOMETHING","object":{}})", std::nullopt, ErrorKind::internal, "SOMETHING"},
      {R"({"type":"ADDED"})", std::nullopt, ErrorKind::internal, "want {type, object}"},
      {R"({"type":"ADDED","object":{"secret":"hunter2")", std::nullopt, ErrorKind::internal,
       "not JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const auto event = decode_watch_event(c.line);
    if (c.type) {
      ASSERT_TRUE(event.has_value()) << event.error().message;
      EXPECT_EQ(event->type, *c.type);
      EXPECT_EQ(event->resource_version, c.text);
      EXPECT_NE(event->object_json.find("resourceVersion"), std::string::npos);
      continue;
    }
    ASSERT_FALSE(event.has_value());
    EXPECT_EQ(event.error().kind, c.kind);
    EXPECT_NE(event.error().message.find(c.text), std::string::npos) << event.error().message;
    EXPECT_EQ(event.error().message.find("hunter2"), std::string::npos);
  }
}

TEST(WatchStream, EventsSplitAcrossChunksAndBlankLines) {
  auto watch = stream_of(
      {"{\"type\":\"ADDED\",\"obj", "ect\":{}}\n\r\n{\"type\":\"DELETED\",", "\"object\":{}}\n"});
  EXPECT_EQ((*watch->next())->type, WatchEvent::Type::added);
  EXPECT_EQ((*watch->next())->type, WatchEvent::Type::deleted);
  const auto end = watch->next();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());
  EXPECT_FALSE(watch->next()->has_value()); // stays ended
}

TEST(WatchStream, ErrorEventEndsTheWatch) {
  auto watch = stream_of(
      {R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"m"}})"
       "\n{\"type\":\"ADDED\",\"object\":{}}\n"});
  const auto error = watch->next();
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().kind, ErrorKind::gone);
  EXPECT_FALSE(watch->next()->has_value());
}

TEST(WatchStream, ALineOverTheBoundIsTooLarge) {
  auto watch = stream_of({std::string(600, 'x'), std::string(600, 'y'), "\n"}, false, 1024);
  const auto error = watch->next();
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().kind, ErrorKind::too_large);
}

TEST(WatchStream, EndInTheMiddleOfAnEventIsTransient) {
  auto watch = stream_of({"{\"type\":\"ADDED\""});
  const auto error = watch->next();
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().kind, ErrorKind::transient);
}

TEST(WatchStream, CancelFromAnotherThreadUnblocksNext) {
  auto watch = stream_of({"{\"type\":\"ADDED\",\"object\":{}}\n"}, true);
  EXPECT_EQ((*watch->next())->type, WatchEvent::Type::added);
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    watch->cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto next = watch->next(); // blocks until the cancel
  canceller.join();
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_FALSE(next->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

} // namespace
} // namespace common::kube
