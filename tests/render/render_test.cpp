// render(): plain directories for real, kustomize and helm through a fake Runner (exact argv,
// cwd, env), and one real `kubectl kustomize` run when kubectl is installed.
#include <cstdlib>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/render/render.hpp"

#include "tests/support/process.hpp"

namespace {

using namespace common::render;
using namespace std::chrono_literals;
using common::process::Command;
using common::process::Output;
using common::util::ErrorKind;
using common::util::Result;

class FakeRunner final : public common::process::Runner {
public:
  Result<Output> run(const Command& command) override {
    commands.push_back(command);
    return answer;
  }
  std::vector<Command> commands;
  Result<Output> answer = Output{0, 0, "kind: Rendered\n", "", 0, false};
};

// A directory of fake tools for PATH (never run by the fake runner).
class ToolDir {
public:
  explicit ToolDir(const std::vector<std::string>& tools) {
    for (const auto& t : tools) {
      const std::string path = m_dir.write(t, "#!/bin/sh\nexit 99\n");
      ::chmod(path.c_str(), 0755);
    }
  }
  const std::string& path() const { return m_dir.path(); }

private:
  test_support::TempDir m_dir;
};

RenderOptions options_with(const std::string& path_var) {
  RenderOptions o;
  o.path_var = path_var;
  o.tool_env = {"PATH=" + path_var, "HOME=/tmp"};
  o.timeout = 7s;
  return o;
}

TEST(DetectMode, ByMarkerFiles) {
  struct Case {
    std::vector<std::string> files;
    RenderMode want;
  };
  const std::vector<Case> cases = {
      {{}, RenderMode::plain},
      {{"deploy.yaml"}, RenderMode::plain},
      {{"kustomization.yaml"}, RenderMode::kustomize},
      {{"kustomization.yml"}, RenderMode::kustomize},
      {{"Kustomization"}, RenderMode::kustomize},
      {{"Chart.yaml", "kustomization.yaml"}, RenderMode::helm},
      {{"sub/Chart.yaml"}, RenderMode::plain},
  };
  for (const auto& c : cases) {
    test_support::TempDir dir;
    for (const auto& f : c.files) {
      dir.write(f, "x: 1\n");
    }
    EXPECT_EQ(detect_mode(dir.path(), RenderMode::auto_detect), c.want)
        << (c.files.empty() ? "" : c.files.front());
    EXPECT_EQ(detect_mode(dir.path(), RenderMode::plain), RenderMode::plain);
  }
}

TEST(RenderPlain, SortedRecursiveWithSeparators) {
  test_support::TempDir dir;
  dir.write("b.yaml", "kind: B\n");
  dir.write("a.yml", "kind: A"); // no final newline
  dir.write("c.json", "{\"kind\": \"C\"}\n");
  dir.write("sub/d.yaml", "---\nkind: D\n---\nkind: E\n");
  dir.write("sub/empty.yaml", "");
  dir.write("bom.yaml", "\xef\xbb\xbfkind: Bom\n");
  dir.write(".hidden/h.yaml", "kind: Hidden\n");
  dir.write("notes.txt", "not a manifest\n");
  dir.write("Z.yaml", "kind: Z\n");
  FakeRunner runner;
  auto got = render(dir.path(), options_with(""), runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->mode, RenderMode::plain);
  EXPECT_EQ(got->files, (std::vector<std::string>{"Z.yaml", "a.yml", "b.yaml", "bom.yaml", "c.json",
                                                  "sub/d.yaml", "sub/empty.yaml"}));
  EXPECT_EQ(got->manifests, "kind: Z\n---\nkind: A\n---\nkind: B\n---\nkind: Bom\n---\n"
                            "{\"kind\": \"C\"}\n---\nkind: D\n---\nkind: E\n");
  EXPECT_TRUE(runner.commands.empty());
}

TEST(RenderPlain, IncludeExcludeRecurse) {
  test_support::TempDir dir;
  dir.write("a.yaml", "kind: A\n");
  dir.write("b.yaml", "kind: B\n");
  dir.write("env/prod/c.yaml", "kind: C\n");
  dir.write("env/dev/d.yaml", "kind: D\n");
  dir.write("values.yaml", "x: 1\n");
  struct Case {
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    bool recurse;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {{"*.yaml"},
       {},
       true,
       {"a.yaml", "b.yaml", "env/dev/d.yaml", "env/prod/c.yaml", "values.yaml"}},
      {{"*.yaml"}, {}, false, {"a.yaml", "b.yaml", "values.yaml"}},
      {{"*.yaml"}, {"values.yaml", "env/dev/*"}, true, {"a.yaml", "b.yaml", "env/prod/c.yaml"}},
      {{"env/*"}, {}, true, {"env/dev/d.yaml", "env/prod/c.yaml"}},
      {{"[ab].yaml"}, {}, true, {"a.yaml", "b.yaml"}},
      {{"*.json"}, {}, true, {}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    RenderOptions o = options_with("");
    o.mode = RenderMode::plain;
    o.include = cases[i].include;
    o.exclude = cases[i].exclude;
    o.recurse = cases[i].recurse;
    FakeRunner runner;
    auto got = render(dir.path(), o, runner);
    ASSERT_TRUE(got) << i << ": " << got.error().message;
    EXPECT_EQ(got->files, cases[i].want) << i;
  }
  RenderOptions bad = options_with("");
  bad.include = {"[a"};
  FakeRunner runner;
  auto got = render(dir.path(), bad, runner);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(got.error().message.find("include pattern \"[a\""), std::string::npos);
}

TEST(RenderPlain, BadFilesAreErrors) {
  struct Case {
    std::string content;
    std::string message;
  };
  const std::vector<Case> cases = {
      {std::string("kind: A\n\0x", 10), "a NUL byte at byte 8"},
      {"kind: \xff\n", "invalid UTF-8 at byte 6"},
      {"kind: \xc0\xaf\n", "invalid UTF-8"},     // overlong
      {"kind: \xed\xa0\x80\n", "invalid UTF-8"}, // surrogate
      {"kind: \xe2\x82", "invalid UTF-8"},       // cut
  };
  for (const auto& c : cases) {
    test_support::TempDir dir;
    dir.write("good.yaml", "kind: Good\n");
    dir.write("sub/bad.yaml", c.content);
    FakeRunner runner;
    auto got = render(dir.path(), options_with(""), runner);
    ASSERT_FALSE(got) << c.message;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find("sub/bad.yaml: not UTF-8 text"), std::string::npos)
        << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
  }
  test_support::TempDir dir;
  dir.write("utf8.yaml", "name: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\n");
  FakeRunner runner;
  auto ok = render(dir.path(), options_with(""), runner);
  ASSERT_TRUE(ok) << ok.error().message;

  RenderOptions small = options_with("");
  small.max_output = 8;
  dir.write("more.yaml", "kind: More\n");
  auto big = render(dir.path(), small, runner);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::too_large);

  auto missing = render(dir.path() + "/nope", options_with(""), runner);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

TEST(RenderPlain, SymlinksOutsideAreSkippedAndReported) {
  test_support::TempDir outside;
  const std::string secret = outside.write("secret.yaml", "kind: Secret\n");
  test_support::TempDir dir;
  dir.write("a.yaml", "kind: A\n");
  ASSERT_EQ(::symlink(secret.c_str(), (dir.path() + "/link.yaml").c_str()), 0);
  FakeRunner runner;
  auto got = render(dir.path(), options_with(""), runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->manifests, "kind: A\n");
  EXPECT_EQ(got->skipped,
            std::vector<std::string>{"link.yaml: symlink to a file outside the directory"});
}

TEST(RenderKustomize, PrefersKustomizeThenKubectl) {
  test_support::TempDir app;
  app.write("kustomization.yaml", "resources: []\n");
  ToolDir both({"kustomize", "kubectl"});
  ToolDir only_kubectl({"kubectl"});
  struct Case {
    std::string path_var;
    std::vector<std::string> argv;
  };
  const std::vector<Case> cases = {
      {both.path(), {both.path() + "/kustomize", "build", "."}},
      // kustomize anywhere on the PATH wins over kubectl.
      {only_kubectl.path() + ":" + both.path(), {both.path() + "/kustomize", "build", "."}},
      {"/nonexistent:" + only_kubectl.path(), {only_kubectl.path() + "/kubectl", "kustomize", "."}},
  };
  for (const auto& c : cases) {
    FakeRunner runner;
    const RenderOptions o = options_with(c.path_var);
    auto got = render(app.path(), o, runner);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->mode, RenderMode::kustomize);
    EXPECT_EQ(got->manifests, "kind: Rendered\n");
    ASSERT_EQ(runner.commands.size(), 1u);
    const Command& cmd = runner.commands.front();
    EXPECT_EQ(cmd.argv, c.argv);
    EXPECT_EQ(got->command, c.argv);
    EXPECT_EQ(cmd.cwd, app.path());
    EXPECT_EQ(cmd.env, o.tool_env);
    EXPECT_EQ(cmd.timeout, 7s);
    EXPECT_FALSE(cmd.stdin_data);
  }
}

TEST(RenderKustomize, NoToolIsAClearError) {
  test_support::TempDir app;
  app.write("kustomization.yaml", "resources: []\n");
  ToolDir helm_only({"helm"});
  FakeRunner runner;
  auto got = render(app.path(), options_with(helm_only.path()), runner);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::not_found);
  for (const char* part :
       {"neither kustomize nor kubectl", "install kustomize", helm_only.path().c_str()}) {
    EXPECT_NE(got.error().message.find(part), std::string::npos) << got.error().message;
  }
  EXPECT_TRUE(runner.commands.empty());
}

TEST(RenderTools, FailureGivesStatusAndStderrTailNeverOutput) {
  test_support::TempDir app;
  app.write("kustomization.yaml", "resources: []\n");
  ToolDir tools({"kustomize"});
  FakeRunner runner;
  std::string err;
  for (int i = 0; i < 1000; ++i) {
    err += "noise line " + std::to_string(i) + "\n";
  }
  err += "Error: accumulating resources: missing.yaml: no such file\n";
  runner.answer = Output{1, 0, "kind: Partial\n", err, 0, false};
  auto got = render(app.path(), options_with(tools.path()), runner);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  const std::string& m = got.error().message;
  EXPECT_NE(m.find("kustomize build exited with status 1"), std::string::npos) << m;
  EXPECT_TRUE(m.ends_with("Error: accumulating resources: missing.yaml: no such file")) << m;
  EXPECT_EQ(m.find("noise line 0\n"), std::string::npos);
  EXPECT_LT(m.size(), 4096u + 200u);
  EXPECT_EQ(m.find("Partial"), std::string::npos);

  runner.answer = Output{-1, 9, "", "", 0, false};
  got = render(app.path(), options_with(tools.path()), runner);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("killed by signal 9:\n(no output on stderr)"),
            std::string::npos)
      << got.error().message;

  runner.answer = common::util::fail(ErrorKind::transient, "/x/kustomize: still running after "
                                                           "7000 ms; killed its process group");
  got = render(app.path(), options_with(tools.path()), runner);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::transient);
  EXPECT_NE(got.error().message.find("kustomize build: /x/kustomize: still running"),
            std::string::npos);
}

TEST(RenderHelm, ExactArguments) {
  test_support::TempDir app;
  app.write("Chart.yaml", "name: web\n");
  ToolDir tools({"helm", "kubectl"});
  RenderOptions o = options_with(tools.path());
  o.helm_release_name = "web";
  o.helm_namespace = "prod";
  o.helm_values_files = {"values.yaml", "values-prod.yaml"};
  o.helm_parameters = {{"image.tag", "v1.2.3"}, {"list", "a,b"}};
  o.kube_version = "1.29.0";
  o.kube_api_versions = {"v1", "apps/v1/Deployment"};
  FakeRunner runner;
  auto got = render(app.path(), o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->mode, RenderMode::helm);
  ASSERT_EQ(runner.commands.size(), 1u);
  const std::vector<std::string> want = {tools.path() + "/helm",
                                         "template",
                                         "web",
                                         ".",
                                         "--namespace",
                                         "prod",
                                         "-f",
                                         "values.yaml",
                                         "-f",
                                         "values-prod.yaml",
                                         "--set",
                                         "image.tag=v1.2.3",
                                         "--set",
                                         "list=a\\,b",
                                         "--kube-version",
                                         "1.29.0",
                                         "--api-versions",
                                         "v1",
                                         "--api-versions",
                                         "apps/v1/Deployment"};
  EXPECT_EQ(runner.commands.front().argv, want);
  EXPECT_EQ(runner.commands.front().cwd, app.path());
  EXPECT_EQ(runner.commands.front().env, o.tool_env);

  // The minimum: release name only.
  RenderOptions minimal = options_with(tools.path());
  minimal.helm_release_name = "r";
  FakeRunner r2;
  ASSERT_TRUE(render(app.path(), minimal, r2));
  EXPECT_EQ(r2.commands.front().argv,
            (std::vector<std::string>{tools.path() + "/helm", "template", "r", "."}));
}

TEST(RenderHelm, Errors) {
  test_support::TempDir app;
  app.write("Chart.yaml", "name: web\n");
  ToolDir tools({"helm"});
  ToolDir no_helm({"kubectl"});
  struct Case {
    std::string path_var;
    std::string release;
    std::vector<std::string> values;
    ErrorKind kind;
    std::string message;
  };
  const std::vector<Case> cases = {
      {no_helm.path(), "web", {}, ErrorKind::not_found, "helm is not on the PATH"},
      {tools.path(), "", {}, ErrorKind::invalid_input, "release name is empty"},
      {tools.path(), "--debug", {}, ErrorKind::invalid_input, "helm-release-name \"--debug\""},
      {tools.path(), "web", {"--post-renderer=x"}, ErrorKind::invalid_input, "helm-values-files"},
  };
  for (const auto& c : cases) {
    RenderOptions o = options_with(c.path_var);
    o.helm_release_name = c.release;
    o.helm_values_files = c.values;
    FakeRunner runner;
    auto got = render(app.path(), o, runner);
    ASSERT_FALSE(got) << c.message;
    EXPECT_EQ(got.error().kind, c.kind) << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
    EXPECT_TRUE(runner.commands.empty());
  }
}

TEST(RenderOptionsFromSettings, CopiesTheRenderSettings) {
  Settings s;
  s.render.value = RenderMode::helm;
  s.include.value = {"*.y*ml"};
  s.recurse.value = false;
  s.helm_release_name.value = "rel";
  s.helm_parameters.value = {{"a", "b"}};
  s.kube_api_versions.value = {"v1"};
  const RenderOptions o = render_options(s);
  EXPECT_EQ(o.mode, RenderMode::helm);
  EXPECT_EQ(o.include, std::vector<std::string>{"*.y*ml"});
  EXPECT_FALSE(o.recurse);
  EXPECT_EQ(o.helm_release_name, "rel");
  EXPECT_EQ(o.helm_parameters.at("a"), "b");
  EXPECT_EQ(o.kube_api_versions, std::vector<std::string>{"v1"});
}

TEST(TopLevelManifestFiles, OnlyTheTop) {
  test_support::TempDir dir;
  dir.write("updater.yaml", "");
  dir.write("b.json", "");
  dir.write("a.yml", "");
  dir.write("README.md", "");
  dir.write("sub/deep.yaml", "");
  auto got = top_level_manifest_files(dir.path());
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, (std::vector<std::string>{"a.yml", "b.json", "updater.yaml"}));
}

TEST(RealKustomize, KubectlKustomize) {
  const char* path = std::getenv("PATH");
  auto kubectl = common::process::find_program("kubectl", path ? path : "");
  if (!kubectl) {
    GTEST_SKIP() << "kubectl is not installed: " << kubectl.error().message;
  }
  test_support::TempDir app;
  app.write("kustomization.yaml", "resources: [deploy.yaml]\nimages:\n- name: nginx\n"
                                  "  newTag: \"1.27\"\n");
  app.write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                           "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
                           "        image: nginx:1.25\n");
  // Only kubectl's directory on PATH, so this exercises the kubectl fallback even where
  // kustomize is installed elsewhere.
  const std::string dir = kubectl->substr(0, kubectl->rfind('/'));
  RenderOptions o;
  o.path_var = dir;
  o.tool_env = {"PATH=" + dir, "HOME=" + app.path()};
  o.timeout = 60s;
  common::process::SystemRunner runner;
  auto got = render(app.path(), o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->mode, RenderMode::kustomize);
  EXPECT_NE(got->manifests.find("image: nginx:1.27"), std::string::npos) << got->manifests;

  app.write("kustomization.yaml", "resources: [missing.yaml]\n");
  auto bad = render(app.path(), o, runner);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(bad.error().message.find("kubectl kustomize exited with status 1"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("missing.yaml"), std::string::npos) << bad.error().message;
}

} // namespace
