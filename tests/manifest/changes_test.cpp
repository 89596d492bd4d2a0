#include <string>

#include <gtest/gtest.h>

#include "common/manifest/changes.hpp"

namespace common::manifest {
namespace {

Change change(std::string old_value, std::string new_value, std::size_t line) {
  Change c;
  c.old_value = std::move(old_value);
  c.new_value = std::move(new_value);
  c.source = ChangeSource::image;
  c.by = "nginx";
  c.field = "spec.template.spec.containers[0].image";
  c.line = line;
  return c;
}

TEST(ChangeCollector, MergesObjectsAndKeepsOrder) {
  const ObjectId a{"apps/v1", "Deployment", "ns", "a"};
  const ObjectId b{"apps/v1", "Deployment", "ns", "b"};
  ChangeCollector collector("all.yaml");
  collector.add(b, change("nginx:1", "nginx:2", 10));
  collector.add(a, change("nginx:1", "nginx:2", 20));
  collector.add(b, change("nginx:1", "nginx:2", 30));
  const FileChanges& out = collector.changes();
  EXPECT_EQ(out.file, "all.yaml");
  ASSERT_EQ(out.objects.size(), 2u);
  EXPECT_EQ(out.objects[0].object, b);
  EXPECT_EQ(out.objects[1].object, a);
  ASSERT_EQ(out.objects[0].changes.size(), 2u);
  EXPECT_EQ(out.objects[0].changes[0].line, 10u);
  EXPECT_EQ(out.objects[0].changes[1].line, 30u);
  EXPECT_EQ(out.count(), 3u);

  const auto rows = to_rows(out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].file, "all.yaml");
  EXPECT_EQ(rows[0].object, b);
  EXPECT_EQ(rows[2].object, a);
  EXPECT_EQ(rows[2].change.line, 20u);
}

TEST(Describe, OneLinePerChange) {
  ChangeCollector collector("k.yaml");
  Change c = change("", "sha256:ab", 7);
  c.source = ChangeSource::kustomize;
  c.field = "images[0].digest";
  collector.add(ObjectId{"kustomize.config.k8s.io/v1beta1", "Kustomization", "", ""}, c);
  EXPECT_EQ(describe(collector.changes()),
            "k.yaml:7 kustomize.config.k8s.io/v1beta1 Kustomization - images[0].digest: \"\" -> "
            "\"sha256:ab\" (kustomize nginx)\n");
  EXPECT_STREQ(to_string(ChangeSource::setter), "setter");
  EXPECT_STREQ(to_string(ChangeSource::helm), "helm");
}

} // namespace
} // namespace common::manifest
