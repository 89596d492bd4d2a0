#include <gtest/gtest.h>

#include "common/kube/object.hpp"

namespace {

namespace kube = common::kube;

TEST(ParseMeta, ReadsTheFieldsTheMachineryUses) {
  auto meta = kube::parse_meta(R"({"metadata":{"name":"a","namespace":"ns","uid":"u",
    "resourceVersion":"7","generation":3,"labels":{"l":"1","n":2},"annotations":{"x":"y"},
    "deletionTimestamp":"2024-01-01T00:00:00Z","finalizers":["f1","f2"]}})");
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_EQ(meta->key(), (kube::ObjectKey{"ns", "a"}));
  EXPECT_EQ(meta->uid, "u");
  EXPECT_EQ(meta->resource_version, "7");
  EXPECT_EQ(meta->generation, 3);
  EXPECT_EQ(meta->labels, (std::map<std::string, std::string>{{"l", "1"}}));
  EXPECT_EQ(meta->annotations.at("x"), "y");
  EXPECT_TRUE(meta->deleting());
  EXPECT_EQ(meta->finalizers, (std::vector<std::string>{"f1", "f2"}));
}

TEST(ParseMeta, RefusesWhatIsNotAnObject) {
  for (const char* text : {"", "[]", "{}", R"({"metadata":{}})", R"({"metadata":{"name":1}})"}) {
    auto meta = kube::parse_meta(text);
    ASSERT_FALSE(meta) << text;
    EXPECT_EQ(meta.error().kind, common::util::ErrorKind::invalid_input);
  }
}

TEST(WorthReconciling, SkipsStatusOnlyChanges) {
  kube::ObjectMeta base;
  base.name = "a";
  base.generation = 1;
  base.resource_version = "1";
  struct Case {
    const char* what;
    void (*change)(kube::ObjectMeta&);
    bool want;
  };
  const Case cases[] = {
      {"status only (new version)", [](kube::ObjectMeta& m) { m.resource_version = "2"; }, false},
      {"generation", [](kube::ObjectMeta& m) { m.generation = 2; }, true},
      {"label", [](kube::ObjectMeta& m) { m.labels["a"] = "b"; }, true},
      {"annotation",
       [](kube::ObjectMeta& m) { m.annotations["reconcile.fluxcd.io/requestedAt"] = "now"; }, true},
      {"deletion", [](kube::ObjectMeta& m) { m.deletion_timestamp = "2024-01-01T00:00:00Z"; },
       true},
      {"finalizers", [](kube::ObjectMeta& m) { m.finalizers.push_back("f"); }, true},
  };
  for (const Case& c : cases) {
    kube::ObjectMeta now = base;
    c.change(now);
    EXPECT_EQ(kube::worth_reconciling(base, now), c.want) << c.what;
  }
}

} // namespace
