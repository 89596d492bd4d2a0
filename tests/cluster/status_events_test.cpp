// StatusEvents over a ClusterStore and an EventRecorder on the FakeApi: an Event exactly when the
// Ready condition's status or reason changes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/cluster/cluster_store.hpp"
#include "common/cluster/status_events.hpp"

#include "tests/cluster/support.hpp"
#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
namespace cluster = common::cluster;
namespace kube = common::kube;
namespace store = common::store;
namespace util = common::util;
using cluster_test::object;
using cluster_test::ready_status;
using common::util::ErrorKind;

std::vector<json> events(FakeApi& api) {
  std::vector<json> out;
  auto page = api.list(kube::events(), "apps", {});
  for (const auto& item : page->items) {
    out.push_back(json::parse(item));
  }
  return out;
}

TEST(StatusEvents, AnEventOnlyWhenReadyChanges) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorderOptions options;
  options.component = "imageupdater-flux-source";
  kube::EventRecorder recorder(api, options, clock);
  cluster::ClusterStore inner(api);
  cluster::StatusEvents s(inner, recorder);
  auto created = s.create(object("apps", "web"));
  ASSERT_TRUE(created) << created.error().message;
  std::string version = created->resource_version;

  struct Step {
    const char* what;
    std::string status;
    const char* type;   // "" = no Event
    const char* reason; // of the Event
  };
  const Step steps[] = {
      {"no status before, none after", "{}", "", ""},
      {"first Ready False", ready_status("False", "ResolveFailed", "registry down"), "Warning",
       "ResolveFailed"},
      {"same status and reason, new message", ready_status("False", "ResolveFailed", "other"), "",
       ""},
      {"False -> True", ready_status("True", "Succeeded", "all resolved"), "Normal", "Succeeded"},
      {"True unchanged", ready_status("True", "Succeeded", "all resolved"), "", ""},
      {"True unchanged, new generation", ready_status("True", "Succeeded", "again", 2), "", ""},
      {"True -> Unknown", ready_status("Unknown", "Progressing", "checking"), "Warning",
       "Progressing"},
      {"Unknown -> False, same reason", ready_status("False", "Progressing", "stuck"), "Warning",
       "Progressing"},
      {"False, another reason", ready_status("False", "InvalidSpec", "bad"), "Warning",
       "InvalidSpec"},
      {"Ready gone", R"({"observedGeneration":1,"conditions":[]})", "", ""},
      {"Ready back as True", ready_status("True", "Succeeded", "fine"), "Normal", "Succeeded"},
      {"True -> False", ready_status("False", "ResolveFailed", "registry down again"), "Warning",
       "ResolveFailed"},
  };
  std::size_t expected_events = 0;
  for (const Step& step : steps) {
    const auto recorded = recorder.stats().recorded;
    auto written = s.replace_status(created->key, version, step.status);
    ASSERT_TRUE(written) << step.what << ": " << written.error().message;
    version = written->resource_version;
    recorder.flush();
    const bool want = *step.type != '\0';
    EXPECT_EQ(recorder.stats().recorded - recorded, want ? 1u : 0u) << step.what;
    if (!want) {
      continue;
    }
    ++expected_events;
    auto all = events(api);
    ASSERT_EQ(all.size(), expected_events) << step.what;
    // The newest Event (names grow with the recorder's suffix; the clock stands still).
    const json& e = *std::max_element(all.begin(), all.end(), [](const json& a, const json& b) {
      return a["metadata"]["resourceVersion"].get<std::string>().size() <
                 b["metadata"]["resourceVersion"].get<std::string>().size() ||
             (a["metadata"]["resourceVersion"].get<std::string>().size() ==
                  b["metadata"]["resourceVersion"].get<std::string>().size() &&
              a["metadata"]["resourceVersion"] < b["metadata"]["resourceVersion"]);
    });
    EXPECT_EQ(e["type"], step.type) << step.what;
    EXPECT_EQ(e["reason"], step.reason) << step.what;
    const json status = json::parse(step.status);
    EXPECT_EQ(e["message"], status["conditions"][0]["message"]) << step.what;
    EXPECT_EQ(e["involvedObject"]["kind"], "ImageUpdater");
    EXPECT_EQ(e["involvedObject"]["apiVersion"], "gitops.kubesphere.io/v1alpha1");
    EXPECT_EQ(e["involvedObject"]["name"], "web");
    EXPECT_EQ(e["involvedObject"]["uid"], created->uid);
    EXPECT_EQ(e["involvedObject"]["resourceVersion"], written->resource_version)
        << "the version the status write made";
  }
  EXPECT_EQ(recorder.stats().created, expected_events);
}

TEST(StatusEvents, AFailedWriteRecordsNothing) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, {}, clock);
  cluster::ClusterStore inner(api);
  cluster::StatusEvents s(inner, recorder);
  auto created = s.create(object("apps", "web"));
  ASSERT_TRUE(created);
  ASSERT_TRUE(s.replace_status(created->key, created->resource_version, "{}"));
  auto stale = s.replace_status(created->key, created->resource_version,
                                ready_status("False", "ResolveFailed"));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  api.fail_next(FakeApi::Verb::update_status, {ErrorKind::transient, "timeout"});
  auto current = s.get(created->key);
  ASSERT_TRUE(current);
  auto failed = s.replace_status(created->key, current->resource_version,
                                 ready_status("False", "ResolveFailed"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::transient);
  recorder.flush();
  EXPECT_EQ(recorder.stats().recorded, 0u);
  EXPECT_TRUE(events(api).empty());
}

TEST(StatusEvents, OtherVerbsPassThrough) {
  FakeApi api;
  util::FakeClock clock;
  kube::EventRecorder recorder(api, {}, clock);
  cluster::ClusterStore inner(api);
  cluster::StatusEvents s(inner, recorder);
  auto created = s.create(object("apps", "web"));
  ASSERT_TRUE(created);
  auto got = s.get(created->key);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->uid, created->uid);
  auto listed = s.list("apps", {});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->items.size(), 1u);
  store::Object next = *got;
  next.labels = {{"a", "b"}};
  auto replaced = s.replace(next);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->labels, next.labels);
  auto stale = s.remove(created->key, created->resource_version);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  ASSERT_TRUE(s.remove(created->key, replaced->resource_version));
  recorder.flush();
  EXPECT_EQ(recorder.stats().recorded, 0u);
}

} // namespace
