// confine.hpp and jsonnet.hpp: the repository root, paths kept inside it, Jsonnet evaluated with
// Argo CD's settings and imports confined.
#include <filesystem>

#include <gtest/gtest.h>

#include "common/render/confine.hpp"
#include "common/render/jsonnet.hpp"

#include "tests/support/process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace common::render;
using common::util::ErrorKind;

std::string canon(const std::string& p) {
  return fs::canonical(p).string();
}

TEST(RepositoryRoot, StripsTheSourcePath) {
  test_support::TempDir repo;
  repo.write("apps/web/x.yaml", "");
  const std::string root = canon(repo.path());
  struct Case {
    std::string app, source_path, want;
  };
  const std::vector<Case> cases = {
      {repo.path() + "/apps/web", "apps/web", root},
      {repo.path() + "/apps/web", "apps/web/", root},
      {repo.path() + "/apps/web", "./apps/web", root},
      {repo.path() + "/apps/web", "", canon(repo.path() + "/apps/web")},
      {repo.path(), ".", root},
  };
  for (const auto& c : cases) {
    auto got = repository_root(c.app, c.source_path);
    ASSERT_TRUE(got) << c.source_path << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.source_path;
  }
  for (const char* bad : {"../apps/web", "/apps/web", "other/web", "apps/../apps/web"}) {
    auto got = repository_root(repo.path() + "/apps/web", bad);
    ASSERT_FALSE(got) << bad;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_EQ(repository_root(repo.path() + "/nope", "").error().kind, ErrorKind::not_found);
}

TEST(ResolveInside, FollowsLinksAndStaysInTheRepository) {
  test_support::TempDir outside;
  outside.write("secret", "x");
  test_support::TempDir repo;
  repo.write("apps/web/values.yaml", "");
  repo.write("values/prod.yaml", "");
  const std::string root = canon(repo.path());
  const std::string app = root + "/apps/web";
  fs::create_symlink(outside.path() + "/secret", root + "/values/leak.yaml");
  fs::create_symlink("../../values/prod.yaml", app + "/prod.yaml");
  struct Case {
    std::string path;
    bool ok;
    std::string want; // the resolved path, or a part of the message
  };
  const std::vector<Case> cases = {
      {"values.yaml", true, app + "/values.yaml"},
      {"../../values/prod.yaml", true, root + "/values/prod.yaml"},
      {"/values/prod.yaml", true, root + "/values/prod.yaml"}, // absolute: the repository's
      {"prod.yaml", true, root + "/values/prod.yaml"},         // a link that stays inside
      {"../../values/leak.yaml", false, "outside"},
      {"../../..", false, "outside"},
      {"missing.yaml", false, "no such file"},
      {"", false, "empty"},
  };
  for (const auto& c : cases) {
    auto got = resolve_inside(root, app, c.path, "helm-values-files");
    EXPECT_EQ(static_cast<bool>(got), c.ok) << c.path;
    if (got) {
      EXPECT_EQ(*got, c.want);
    } else {
      EXPECT_NE(got.error().message.find(c.want), std::string::npos) << got.error().message;
      EXPECT_NE(got.error().message.find("helm-values-files"), std::string::npos);
    }
  }
  EXPECT_TRUE(is_within("/a/b", "/a/b"));
  EXPECT_TRUE(is_within("/a/b", "/a/b/c"));
  EXPECT_FALSE(is_within("/a/b", "/a/bc"));
  EXPECT_FALSE(is_within("/a/b", "/a"));
}

class Jsonnet : public ::testing::Test {
protected:
  JsonnetJob job(const std::string& file) {
    JsonnetJob j;
    j.root = canon(m_repo.path());
    j.app_dir = j.root + "/app";
    j.file = j.app_dir + "/" + file;
    return j;
  }
  test_support::TempDir m_repo;
};

TEST_F(Jsonnet, ExtVarsTlasAndLibrariesInGoJsonnetsOrder) {
  m_repo.write("app/main.jsonnet",
               "local l = import 'l.libsonnet';\n"
               "function(n, s) {kind: l.who, n: n + 1, s: s, e: std.extVar('e'), c: "
               "std.extVar('c')}\n");
  m_repo.write("app/l.libsonnet", "{who: 'app'}");
  m_repo.write("lib1/l.libsonnet", "{who: 'lib1'}");
  m_repo.write("lib2/l.libsonnet", "{who: 'lib2'}");
  JsonnetJob j = job("main.jsonnet");
  j.ext_vars = {{"e", "prod"}};
  j.ext_code = {{"c", "[1, 2]"}};
  j.tla_code = {{"n", "41"}};
  j.tlas = {{"s", "text"}};
  // The importing file's directory first.
  auto got = evaluate_jsonnet(j);
  ASSERT_TRUE(got) << got.error().message;
  auto docs = jsonnet_documents(*got, "main.jsonnet");
  ASSERT_TRUE(docs);
  EXPECT_EQ(*docs, "---\n{\"c\":[1,2],\"e\":\"prod\",\"kind\":\"app\",\"n\":42,\"s\":\"text\"}\n");
  // Then the libraries from last to first.
  std::filesystem::remove(j.app_dir + "/l.libsonnet");
  j.libs = {j.root + "/lib1", j.root + "/lib2"};
  got = evaluate_jsonnet(j);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_NE(got->find("\"kind\": \"lib2\""), std::string::npos) << *got;
}

TEST_F(Jsonnet, ImportsLeavingTheRepositoryAreRefused) {
  test_support::TempDir outside;
  const std::string secret = outside.write("token", "s3cr3t");
  std::filesystem::create_directories(canon(m_repo.path()) + "/app");
  const std::vector<std::string> attacks = {
      "importstr '" + secret + "'",
      "importstr '../../../" + outside.path().substr(1) + "/token'",
      "import '/etc/passwd'",
  };
  for (const auto& attack : attacks) {
    m_repo.write("app/main.jsonnet", "{kind: 'A', t: " + attack + "}");
    auto got = evaluate_jsonnet(job("main.jsonnet"));
    ASSERT_FALSE(got) << attack;
    EXPECT_EQ(got.error().message.find("s3cr3t"), std::string::npos);
    EXPECT_NE(got.error().message.find("outside the application's repository"), std::string::npos)
        << got.error().message;
  }
  // A link inside the repository pointing out is refused the same way.
  std::filesystem::create_symlink(secret, canon(m_repo.path()) + "/app/token.txt");
  m_repo.write("app/main.jsonnet", "{t: importstr 'token.txt'}");
  auto got = evaluate_jsonnet(job("main.jsonnet"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message.find("s3cr3t"), std::string::npos);
  // Syntax errors carry Jsonnet's own location.
  m_repo.write("app/bad.jsonnet", "{a: }");
  auto bad = evaluate_jsonnet(job("bad.jsonnet"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.jsonnet:1"), std::string::npos) << bad.error().message;
}

TEST(JsonnetDocuments, ArgoCdsReading) {
  EXPECT_EQ(*jsonnet_documents("{\"a\": 1}", "f"), "---\n{\"a\":1}\n");
  EXPECT_EQ(*jsonnet_documents("[{\"a\": 1}, null, {\"b\": 2}]", "f"),
            "---\n{\"a\":1}\n---\n{\"b\":2}\n");
  EXPECT_EQ(*jsonnet_documents("[]", "f"), "");
  for (const char* bad : {"1", "\"s\"", "[1]", "[[{}]]", "not json"}) {
    auto got = jsonnet_documents(bad, "f.jsonnet");
    ASSERT_FALSE(got) << bad;
    EXPECT_NE(got.error().message.find("f.jsonnet"), std::string::npos);
  }
  JsonnetJob j;
  j.file = "/r/a.jsonnet";
  j.root = "/r";
  j.libs = {"/r/l"};
  j.ext_vars = {{"k", "v"}};
  auto back = job_from_json(to_json(j));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->file, j.file);
  EXPECT_EQ(back->libs, j.libs);
  EXPECT_EQ(back->ext_vars, j.ext_vars);
  EXPECT_FALSE(job_from_json("{}"));
}

} // namespace
