#include <cstdio>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/kube/events.hpp"

#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
namespace kube = common::kube;
namespace util = common::util;
using util::ErrorKind;
using namespace std::chrono_literals;

kube::ObjectReference web() {
  return {"gitops.kubesphere.io/v1alpha1", "ImageUpdater", "apps", "web", "uid-1", "42"};
}

kube::EventRecorderOptions options() {
  kube::EventRecorderOptions o;
  o.component = "imageupdater-flux-source";
  o.instance = "pod-0";
  return o;
}

std::vector<json> events(FakeApi& api, const std::string& ns = "apps") {
  std::vector<json> out;
  auto page = api.list(kube::events(), ns, {});
  for (const auto& item : page->items) {
    out.push_back(json::parse(item));
  }
  return out;
}

TEST(EventRecorder, WritesACoreV1Event) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  recorder.record(web(), kube::EventType::warning, "ResolveFailed", "registry unreachable");
  recorder.flush();
  auto written = events(api);
  ASSERT_EQ(written.size(), 1u);
  json e = written[0];
  char name[64];
  std::snprintf(name, sizeof name, "web.%llx", 1'700'000'000'000'000'000ULL);
  EXPECT_EQ(e["metadata"]["name"], name);
  EXPECT_EQ(e["metadata"]["namespace"], "apps");
  EXPECT_EQ(e["involvedObject"], (json{{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
                                       {"kind", "ImageUpdater"},
                                       {"namespace", "apps"},
                                       {"name", "web"},
                                       {"uid", "uid-1"},
                                       {"resourceVersion", "42"}}));
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "ResolveFailed");
  EXPECT_EQ(e["message"], "registry unreachable");
  EXPECT_EQ(e["source"], (json{{"component", "imageupdater-flux-source"}, {"host", "pod-0"}}));
  EXPECT_EQ(e["reportingComponent"], "imageupdater-flux-source");
  EXPECT_EQ(e["reportingInstance"], "pod-0");
  EXPECT_EQ(e["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(e["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(recorder.stats().created, 1u);
}

TEST(EventRecorder, RepeatsWithinTheWindowCountUp) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  recorder.record(web(), kube::EventType::normal, "Updated", "image a:1");
  clock.advance(1min);
  recorder.record(web(), kube::EventType::normal, "Updated", "image a:1");
  clock.advance(9min);
  recorder.record(web(), kube::EventType::normal, "Updated", "image a:1");
  recorder.record(web(), kube::EventType::normal, "Updated", "image a:2");  // another message
  recorder.record(web(), kube::EventType::warning, "Updated", "image a:1"); // another type
  recorder.flush();
  auto written = events(api);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0]["count"], 3);
  EXPECT_EQ(written[0]["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(written[0]["lastTimestamp"], "2023-11-14T22:23:20Z");
  EXPECT_EQ(api.count(FakeApi::Verb::patch), 2u);

  clock.advance(10min + 1s); // past the window since the last one: a new Event
  recorder.record(web(), kube::EventType::normal, "Updated", "image a:1");
  recorder.flush();
  EXPECT_EQ(events(api).size(), 4u);
  auto stats = recorder.stats();
  EXPECT_EQ(stats.created, 4u);
  EXPECT_EQ(stats.patched, 2u);
}

TEST(EventRecorder, AVanishedEventIsWrittenAgain) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  recorder.record(web(), kube::EventType::normal, "Updated", "x");
  recorder.flush();
  std::string name = events(api)[0]["metadata"]["name"];
  ASSERT_TRUE(api.remove(kube::events(), "apps", name));
  clock.advance(1s);
  recorder.record(web(), kube::EventType::normal, "Updated", "x");
  recorder.flush();
  auto written = events(api);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["count"], 1);
  EXPECT_EQ(recorder.stats().created, 2u);
}

TEST(EventRecorder, SpamFilterPerObject) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  for (int i = 0; i < 30; ++i) {
    recorder.record(web(), kube::EventType::normal, "Tick", "n" + std::to_string(i));
  }
  kube::ObjectReference other = web();
  other.name = "api";
  other.uid = "uid-2";
  recorder.record(other, kube::EventType::normal, "Tick", "n");
  recorder.flush();
  EXPECT_EQ(recorder.stats().created, 26u);
  EXPECT_EQ(recorder.stats().dropped_spam, 5u);
  clock.advance(5min); // one token back
  recorder.record(web(), kube::EventType::normal, "Tick", "later 1");
  recorder.record(web(), kube::EventType::normal, "Tick", "later 2");
  recorder.flush();
  EXPECT_EQ(recorder.stats().created, 27u);
  EXPECT_EQ(recorder.stats().dropped_spam, 6u);
}

TEST(EventRecorder, FailuresAreCountedNotRetried) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  api.fail_next(FakeApi::Verb::create, util::Error(ErrorKind::auth, "forbidden"));
  recorder.record(web(), kube::EventType::normal, "Updated", "x");
  recorder.flush();
  EXPECT_EQ(recorder.stats().failed, 1u);
  EXPECT_EQ(api.count(FakeApi::Verb::create), 1u);
  recorder.record(web(), kube::EventType::normal, "Updated", "x"); // not a patch: none exists
  recorder.flush();
  EXPECT_EQ(api.count(FakeApi::Verb::patch), 0u);
  EXPECT_EQ(events(api).size(), 1u);
}

TEST(EventRecorder, FullQueueAndStoppedRecorderDrop) {
  FakeApi api;
  util::FakeClock clock;
  auto o = options();
  o.queue_size = 0;
  kube::EventRecorder full(api, o, clock);
  full.record(web(), kube::EventType::normal, "Updated", "x");
  full.flush();
  EXPECT_EQ(full.stats().dropped_full, 1u);

  kube::EventRecorder recorder(api, options(), clock);
  recorder.record(web(), kube::EventType::normal, "Updated", "queued before stop");
  recorder.stop();
  recorder.record(web(), kube::EventType::normal, "Updated", "after stop");
  recorder.flush(); // returns at once: stopped
  EXPECT_EQ(recorder.stats().created, 1u);
  EXPECT_EQ(recorder.stats().dropped_full, 1u);
  recorder.stop();
}

TEST(EventRecorder, ClusterScopedObjectsGoToDefaultAndLongMessagesAreCut) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, options(), clock);
  kube::ObjectReference node{"v1", "Node", "", "n1", "u", "1"};
  recorder.record(node, kube::EventType::normal, "Big", std::string(2000, 'm'));
  recorder.flush();
  auto written = events(api, "default");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["message"].get<std::string>().size(), kube::k_event_message_limit);
  EXPECT_EQ(written[0]["involvedObject"]["namespace"], "");
}

TEST(EventRecorder, ReferenceToACachedObject) {
  kube::ObjectMeta meta;
  meta.namespace_ = "apps";
  meta.name = "web";
  meta.uid = "uid-1";
  meta.resource_version = "42";
  auto ref = kube::reference_to(meta, "gitops.kubesphere.io/v1alpha1", "ImageUpdater");
  EXPECT_EQ(ref.api_version, web().api_version);
  EXPECT_EQ(ref.kind, web().kind);
  EXPECT_EQ(ref.namespace_, web().namespace_);
  EXPECT_EQ(ref.name, web().name);
  EXPECT_EQ(ref.uid, web().uid);
  EXPECT_EQ(ref.resource_version, web().resource_version);
}

TEST(TruncateUtf8, NeverSplitsASequence) {
  struct Case {
    std::string text;
    std::size_t limit;
    std::string want;
  };
  const Case cases[] = {
      {"abc", 5, "abc"},
      {"abcdef", 3, "abc"},
      {"ab\xC3\xA9", 3, "ab"},                      // é cut in half: dropped whole
      {"ab\xC3\xA9", 4, "ab\xC3\xA9"},              // fits
      {"a\xE2\x82\xAC", 3, "a"},                    // € (3 bytes)
      {"\xF0\x9F\x98\x80z", 4, "\xF0\x9F\x98\x80"}, // an emoji, then the cut
  };
  for (const Case& c : cases) {
    EXPECT_EQ(kube::truncate_utf8(c.text, c.limit), c.want) << c.text << " " << c.limit;
  }
}

} // namespace
