// The write service without HTTP: kinds, field-path causes, what is stored and who is told.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/writes.hpp"

#include "tests/support/fake_store.hpp"

namespace {

using namespace common;
using nlohmann::json;

json updater(const std::string& name, const std::string& constraint = "^0.1") {
  return {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
          {"kind", "ImageUpdater"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"kind", "argocd"},
            {"images", {"nginx:" + constraint}},
            {"argocd", {{"app", {{"name", "web"}}}}}}}};
}

class WritesTest : public ::testing::Test {
protected:
  WritesTest() : writes(store, [this](const store::Key& k) { changed.push_back(k.name); }) {}

  tests::FakeStore store;
  std::vector<std::string> changed;
  api::Writes writes;
};

TEST_F(WritesTest, CreateReplaceRemoveNotifyEachTime) {
  auto created = writes.create("demo", updater("web").dump());
  ASSERT_TRUE(created) << created.error().error.message;
  EXPECT_EQ(created->object.key.namespace_, "demo");
  EXPECT_EQ(created->object.generation, 1);

  json next = updater("web", "^0.2");
  next["metadata"]["resourceVersion"] = created->object.resource_version;
  auto replaced = writes.replace("demo", "web", next.dump());
  ASSERT_TRUE(replaced) << replaced.error().error.message;
  EXPECT_NE(replaced->object.resource_version, created->object.resource_version);

  auto removed = writes.remove({"demo", "web"}, "");
  ASSERT_TRUE(removed) << removed.error().error.message;
  EXPECT_EQ(removed->uid, created->object.uid);
  EXPECT_EQ(changed, (std::vector<std::string>{"web", "web", "web"}));
}

TEST_F(WritesTest, RefusalsKeepTheirKindAndCauses) {
  ASSERT_TRUE(writes.create("demo", updater("taken").dump()));
  changed.clear();
  json bad_constraint = updater("web", "not a constraint!");
  json bad_label = updater("web");
  bad_label["metadata"]["labels"] = {{"a b", "x"}};
  json other_ns = updater("web");
  other_ns["metadata"]["namespace"] = "elsewhere";
  json stale = updater("taken");
  stale["metadata"]["resourceVersion"] = "999";

  struct Case {
    const char* name;
    std::function<api::WriteResult<api::Written>()> write;
    util::ErrorKind kind;
    std::optional<std::string> object;     // Rejection::name
    std::vector<std::string> cause_fields; // in order
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"not JSON",
       [&] { return writes.create("demo", "{"); },
       util::ErrorKind::invalid_input,
       std::nullopt,
       {},
       "invalid JSON"},
      {"not an object",
       [&] { return writes.create("demo", "[]"); },
       util::ErrorKind::invalid_input,
       std::nullopt,
       {},
       "must be an object"},
      {"too deep",
       [&] { return writes.create("demo", std::string(200, '[')); },
       util::ErrorKind::invalid_input,
       std::nullopt,
       {},
       "nested values"},
      {"other namespace",
       [&] { return writes.create("demo", other_ns.dump()); },
       util::ErrorKind::invalid_input,
       std::nullopt,
       {},
       "namespace of the provided object"},
      {"other name",
       [&] { return writes.replace("demo", "other", updater("web").dump()); },
       util::ErrorKind::invalid_input,
       std::nullopt,
       {},
       "name of the object"},
      {"bad constraint",
       [&] { return writes.create("demo", bad_constraint.dump()); },
       util::ErrorKind::invalid_input,
       "web",
       {"spec.images[0]"},
       "is invalid: spec.images[0]"},
      {"bad label",
       [&] { return writes.create("demo", bad_label.dump()); },
       util::ErrorKind::invalid_input,
       "web",
       {"metadata.labels"},
       "metadata.labels"},
      {"replace without version",
       [&] { return writes.replace("demo", "taken", updater("").dump()); },
       util::ErrorKind::invalid_input,
       "taken",
       {"metadata.resourceVersion"},
       "for an update"},
      {"name taken",
       [&] { return writes.create("demo", updater("taken").dump()); },
       util::ErrorKind::conflict,
       "taken",
       {},
       "\"taken\" already exists"},
      {"stale version",
       [&] { return writes.replace("demo", "taken", stale.dump()); },
       util::ErrorKind::conflict,
       "taken",
       {},
       "Operation cannot be fulfilled"},
      {"replace a missing one",
       [&] {
         json j = updater("absent");
         j["metadata"]["resourceVersion"] = "1";
         return writes.replace("demo", "absent", j.dump());
       },
       util::ErrorKind::not_found,
       "absent",
       {},
       "\"absent\" not found"},
  };
  for (const Case& c : cases) {
    auto r = c.write();
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().error.kind, c.kind) << c.name << ": " << r.error().error.message;
    EXPECT_EQ(r.error().name, c.object) << c.name;
    std::vector<std::string> fields;
    for (const api::Cause& cause : r.error().causes) {
      fields.push_back(cause.field);
    }
    EXPECT_EQ(fields, c.cause_fields) << c.name << ": " << r.error().error.message;
    EXPECT_NE(r.error().error.message.find(c.message_part), std::string::npos)
        << c.name << ": " << r.error().error.message;
  }
  EXPECT_TRUE(changed.empty()) << "a refused write told the controller";
}

TEST_F(WritesTest, RemoveOfAMissingObjectIsNotFound) {
  auto r = writes.remove({"demo", "absent"}, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.kind, util::ErrorKind::not_found);
  EXPECT_TRUE(changed.empty());
}

TEST_F(WritesTest, ApplyCreatesUpdatesAndLeavesAlone) {
  using Outcome = api::Applied::Outcome;
  struct Step {
    json object;
    Outcome outcome;
    std::int64_t generation;
    std::size_t notified;
  };
  json labelled = updater("web", "^0.2");
  labelled["metadata"]["labels"] = {{"team", "a"}};
  const std::vector<Step> steps = {
      {updater("web"), Outcome::created, 1, 1},
      {updater("web"), Outcome::unchanged, 1, 1},
      {updater("web", "^0.2"), Outcome::updated, 2, 2},
      {labelled, Outcome::updated, 3, 3},
      {labelled, Outcome::unchanged, 3, 3},
  };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto r = writes.apply("demo", steps[i].object.dump());
    ASSERT_TRUE(r) << i << ": " << r.error().error.message;
    EXPECT_EQ(r->outcome, steps[i].outcome) << i;
    EXPECT_EQ(r->written.object.generation, steps[i].generation) << i;
    EXPECT_EQ(changed.size(), steps[i].notified) << i;
  }
  auto invalid = writes.apply("demo", updater("web", "not a constraint!").dump());
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().causes.size(), 1u);
  EXPECT_EQ(store.get({"demo", "web"})->generation, 3);
}

} // namespace
