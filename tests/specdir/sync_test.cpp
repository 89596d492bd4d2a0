#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/specdir/sync.hpp"
#include "common/store/sqlite_store.hpp"

#include "tests/support/process.hpp"

namespace common::specdir {
namespace {

std::string updater(const std::string& name, const std::string& tag = "^1.0",
                    const std::string& ns_line = "") {
  return "apiVersion: gitops.kubesphere.io/v1alpha1\n"
         "kind: ImageUpdater\n"
         "metadata:\n"
         "  name: " +
         name + "\n" + ns_line +
         "spec:\n"
         "  kind: argocd\n"
         "  images: [\"app=127.0.0.1:9/demo/app:" +
         tag +
         "\"]\n"
         "  argocd: {app: {name: web}}\n";
}

class SpecDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::filesystem::create_directories(dir());
    auto opened = store::SqliteStore::open(m_tmp.path() + "/db", m_clock);
    ASSERT_TRUE(opened) << opened.error().message;
    m_store = std::move(*opened);
    m_writes = std::make_unique<api::Writes>(*m_store);
    m_sync = std::make_unique<SpecDirectory>(dir(), *m_writes, *m_store);
  }
  std::string dir() const { return m_tmp.path() + "/specs"; }
  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir() + "/" + name).parent_path());
    m_tmp.write("specs/" + name, text);
  }
  SyncResult sync() {
    auto r = m_sync->sync();
    EXPECT_TRUE(r) << r.error().message;
    return r.value_or(SyncResult{});
  }

  test_support::TempDir m_tmp;
  util::FakeClock m_clock;
  std::unique_ptr<store::SqliteStore> m_store;
  std::unique_ptr<api::Writes> m_writes;
  std::unique_ptr<SpecDirectory> m_sync;
};

TEST_F(SpecDirTest, CreatesUpdatesLeavesAloneAndDeletes) {
  write("a.yaml", updater("web") +
                      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n" +
                      updater("api", "^2.0", "  namespace: shop\n"));
  write("sub/b.yml", updater("worker"));
  auto first = sync();
  EXPECT_EQ(first.created, 3u);
  EXPECT_TRUE(first.errors.empty()) << first.errors.front();
  auto web = m_store->get({"default", "web"});
  ASSERT_TRUE(web);
  EXPECT_EQ(web->annotations.at(std::string(k_file_annotation)), "a.yaml");
  ASSERT_TRUE(m_store->get({"shop", "api"}));
  EXPECT_EQ(m_store->get({"default", "worker"})->annotations.at(std::string(k_file_annotation)),
            "sub/b.yml");

  auto again = sync();
  EXPECT_EQ(again.unchanged, 3u);
  EXPECT_EQ(again.created + again.updated + again.deleted, 0u);
  EXPECT_EQ(m_store->get({"default", "web"})->resource_version, web->resource_version)
      << "an unchanged file writes nothing";

  write("sub/b.yml", updater("worker", "^3.0"));
  std::filesystem::remove(dir() + "/a.yaml");
  auto third = sync();
  EXPECT_EQ(third.updated, 1u);
  EXPECT_EQ(third.deleted, 2u);
  EXPECT_FALSE(m_store->get({"default", "web"}));
  EXPECT_EQ(m_store->get({"default", "worker"})->generation, 2);
}

TEST_F(SpecDirTest, BadInputIsReportedAndLosesNothing) {
  write("a.yaml", updater("web"));
  ASSERT_EQ(sync().created, 1u);
  const auto before = m_store->get({"default", "web"});

  // The file breaks: the object stays as it was (not deleted, not changed).
  write("a.yaml",
        "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: web\n");
  auto broken = sync();
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_EQ(broken.errors[0].rfind("a.yaml: ", 0), 0u) << broken.errors[0];
  EXPECT_EQ(m_store->get({"default", "web"})->resource_version, before->resource_version);

  // A document the API refuses: every cause, with file and line; the object keeps its version.
  write("a.yaml", "# leading comment\n" + updater("web", "not a constraint!"));
  auto invalid = sync();
  ASSERT_EQ(invalid.errors.size(), 1u);
  EXPECT_EQ(invalid.errors[0].rfind("a.yaml:1: ", 0), 0u) << invalid.errors[0];
  EXPECT_NE(invalid.errors[0].find("spec.images[0]"), std::string::npos) << invalid.errors[0];
  EXPECT_EQ(m_store->get({"default", "web"})->resource_version, before->resource_version);

  // A second definition of the same object is reported; the first (in path order) wins.
  write("a.yaml", updater("web"));
  write("b.yaml", updater("web", "^9.0"));
  auto twice = sync();
  ASSERT_EQ(twice.errors.size(), 1u);
  EXPECT_NE(twice.errors[0].find("b.yaml:1: ImageUpdater default/web is also defined at a.yaml:1"),
            std::string::npos)
      << twice.errors[0];
}

TEST_F(SpecDirTest, ObjectsMadeThroughTheApiAreNotTouched) {
  auto manual = api::yaml_document_to_json(updater("manual"));
  ASSERT_TRUE(manual) << manual.error().message;
  auto created = m_writes->create("default", *manual);
  ASSERT_TRUE(created) << created.error().error.message;
  write("a.yaml", updater("web"));
  auto r = sync();
  EXPECT_EQ(r.created, 1u);
  EXPECT_EQ(r.deleted, 0u);
  EXPECT_TRUE(m_store->get({"default", "manual"}));
}

TEST_F(SpecDirTest, AMissingDirectoryFailsAndChangesNothing) {
  write("a.yaml", updater("web"));
  ASSERT_EQ(sync().created, 1u);
  std::filesystem::remove_all(dir());
  EXPECT_FALSE(m_sync->sync());
  EXPECT_TRUE(m_store->get({"default", "web"}));
}

} // namespace
} // namespace common::specdir
