#include <string>

#include <gtest/gtest.h>

#include "common/manifest/documents.hpp"

namespace common::manifest {
namespace {

bool is_updater(const ObjectId& id) {
  return id.kind == "ImageUpdater" && id.api_version.starts_with("gitops.kubesphere.io/");
}

struct Case {
  const char* name;
  std::string in;
  std::string out;
  std::size_t dropped;
};

TEST(DropDocuments, KeepsEveryOtherByte) {
  const std::string updater =
      "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: u}\n";
  const std::string deploy = "# the app\napiVersion: apps/v1\nkind: Deployment\n";
  const Case cases[] = {
      {"first, implicit start", updater + "---\n" + deploy, "---\n" + deploy, 1},
      {"last", deploy + "---\n" + updater, deploy, 1},
      {"middle", deploy + "---\n" + updater + "---\n" + deploy, deploy + "---\n" + deploy, 1},
      {"only", updater, "", 1},
      {"none", deploy + "---\n" + deploy, deploy + "---\n" + deploy, 0},
      {"other group", "apiVersion: other/v1\nkind: ImageUpdater\n",
       "apiVersion: other/v1\nkind: ImageUpdater\n", 0},
      {"empty documents kept", "---\n---\n---\n" + updater, "---\n---\n", 1},
      {"crlf", "a: 1\r\n---\r\nkind: ImageUpdater\r\napiVersion: gitops.kubesphere.io/v1alpha1\r\n",
       "a: 1\r\n", 1},
      {"a scalar document", "just text\n---\n" + updater, "just text\n", 1},
  };
  for (const auto& c : cases) {
    auto r = drop_documents(c.in, "app.yaml", is_updater);
    ASSERT_TRUE(r.has_value()) << c.name << ": " << r.error().message;
    EXPECT_EQ(r->output, c.out) << c.name;
    EXPECT_EQ(r->dropped, c.dropped) << c.name;
  }
  // The kept documents that hold something (the plugin refuses an empty render with it).
  const std::vector<std::pair<std::string, std::size_t>> kept = {
      {updater + "---\n" + deploy, 1},      {deploy + "---\n" + deploy, 2},
      {"---\n---\n# only comments\n", 0},   {"just text\n---\n" + updater, 0},
      {"- a\n---\n" + deploy + "---\n", 2},
  };
  for (const auto& [in, want] : kept) {
    auto r = drop_documents(in, "app.yaml", is_updater);
    ASSERT_TRUE(r.has_value()) << in;
    EXPECT_EQ(r->kept, want) << in;
  }
}

TEST(DropDocuments, SeesNamespaceAndName) {
  std::string seen;
  auto r = drop_documents("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\n",
                          "f", [&](const ObjectId& id) {
                            seen = id.api_version + " " + id.kind + " " + id.namespace_name + "/" +
                                   id.name;
                            return false;
                          });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(seen, "v1 ConfigMap n/c");
}

TEST(DropDocuments, BadYamlNamesTheFileAndLine) {
  auto r = drop_documents("a: 1\n---\nb: [\n", "rendered", is_updater);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, util::ErrorKind::invalid_input);
  EXPECT_TRUE(r.error().message.starts_with("rendered: line 3")) << r.error().message;
  ASSERT_TRUE(r.error().where);
  EXPECT_EQ(r.error().where->file, "rendered");
  EXPECT_EQ(r.error().where->line, 3);
}

} // namespace
} // namespace common::manifest
