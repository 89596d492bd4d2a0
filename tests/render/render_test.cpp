// render(): plain directories for real, kustomize and helm through a fake Runner (exact argv,
// cwd, env), and one real `kubectl kustomize` run when kubectl is installed.
#include <cstdlib>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/render/jsonnet.hpp"
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
    if (!queue.empty()) {
      auto next = queue.front();
      queue.erase(queue.begin());
      return next;
    }
    return answer;
  }
  std::vector<Command> commands;
  Result<Output> answer = Output{0, 0, "kind: Rendered\n", "", 0, false};
  std::vector<Result<Output>> queue; // answered first, in order
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
  o.recurse = true;
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
      // values.yaml holds no Kubernetes object: left out, as Argo CD does.
      {{"*.yaml"}, {}, true, {"a.yaml", "b.yaml", "env/dev/d.yaml", "env/prod/c.yaml"}},
      {{"*.yaml"}, {}, false, {"a.yaml", "b.yaml"}},
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

TEST(RenderPlain, ARepositoryWithASymlinkLeavingItIsRefused) {
  // A mounted secret linked into the repository must never reach the manifests, whatever the
  // render mode (Argo CD's repo-server refuses such a repository too).
  test_support::TempDir outside;
  const std::string secret = outside.write("secret.yaml", "kind: Secret\n");
  for (const std::string link : {"link.yaml", "sub/deep/link.txt", "dir-link"}) {
    for (const char* marker : {"", "Chart.yaml", "kustomization.yaml"}) {
      test_support::TempDir dir;
      dir.write("a.yaml", "kind: A\n");
      if (*marker != '\0') {
        dir.write(marker, "name: x\n");
      }
      dir.write("sub/deep/keep.yaml", "");
      const std::string target = link == "dir-link" ? outside.path() : secret;
      ASSERT_EQ(::symlink(target.c_str(), (dir.path() + "/" + link).c_str()), 0);
      ToolDir tools({"helm", "kustomize"});
      RenderOptions o = options_with(tools.path());
      o.helm_release_name = "r";
      FakeRunner runner;
      auto got = render(dir.path(), o, runner);
      ASSERT_FALSE(got) << link << " " << marker;
      EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
      EXPECT_NE(got.error().message.find("symlink that leaves it: " + link), std::string::npos)
          << got.error().message;
      EXPECT_EQ(got.error().message.find("Secret"), std::string::npos);
      EXPECT_TRUE(runner.commands.empty()) << "no tool ran";
    }
  }
  // Links that stay inside are fine; a dangling one pointing inside too.
  test_support::TempDir dir;
  dir.write("a.yaml", "kind: A\n");
  dir.write("base/b.yaml", "kind: B\n");
  ASSERT_EQ(::symlink("base/b.yaml", (dir.path() + "/b-link.yml").c_str()), 0);
  ASSERT_EQ(::symlink("gone.yaml", (dir.path() + "/dangling.txt").c_str()), 0);
  FakeRunner runner;
  RenderOptions o = options_with("");
  o.recurse = false;
  auto got = render(dir.path(), o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->manifests, "kind: A\n---\nkind: B\n");
}

TEST(RenderPlain, ArgoCdDirectoryRules) {
  // recurse off by default; only manifest names; exclude before include; {a,b} alternatives.
  test_support::TempDir dir;
  dir.write("a.yaml", "kind: A\n");
  dir.write("b.yml", "kind: B\n");
  dir.write("c.json", "{\"kind\": \"C\"}\n");
  dir.write("README.md", "# not a manifest\n");
  dir.write("sub/d.yaml", "kind: D\n");
  struct Case {
    std::vector<std::string> include, exclude;
    bool recurse;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {{}, {}, false, {"a.yaml", "b.yml", "c.json"}},
      {{}, {}, true, {"a.yaml", "b.yml", "c.json", "sub/d.yaml"}},
      {{"{*.yml,*.json}"}, {}, false, {"b.yml", "c.json"}},
      {{"*"}, {"{a.*,c.*}"}, true, {"b.yml", "sub/d.yaml"}},
      {{"*.md"}, {}, false, {}},
      {{"*.yaml"}, {"*.yaml"}, true, {}},
      {{"{sub/{d,e},a}.yaml"}, {}, true, {"a.yaml", "sub/d.yaml"}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    RenderOptions o = options_with("");
    o.include = cases[i].include;
    o.exclude = cases[i].exclude;
    o.recurse = cases[i].recurse;
    FakeRunner runner;
    auto got = render(dir.path(), o, runner);
    ASSERT_TRUE(got) << i << ": " << got.error().message;
    EXPECT_EQ(got->files, cases[i].want) << i;
  }
  RenderOptions defaults;
  EXPECT_FALSE(defaults.recurse);
  RenderOptions bad = options_with("");
  bad.include = {"{a,b"};
  FakeRunner runner;
  auto got = render(dir.path(), bad, runner);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("unclosed '{'"), std::string::npos) << got.error().message;
}

TEST(RenderPlain, FilesWithoutKubernetesObjectsAreLeftOutAsArgoCdDoes) {
  test_support::TempDir dir;
  dir.write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n");
  dir.write("config.yaml", "# settings for a tool, not for the cluster\nfoo: bar\n");
  dir.write("list.yaml", "- one\n- two\n");
  dir.write("notes.json", "{\"hello\": \"world\"}\n");
  FakeRunner runner;
  auto got = render(dir.path(), options_with(""), runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->files, std::vector<std::string>{"a.yaml"});
  ASSERT_EQ(got->skipped.size(), 3u);
  EXPECT_NE(got->skipped[0].find("config.yaml: no Kubernetes object"), std::string::npos)
      << got->skipped[0];

  // An object next to a document that is none, or a broken manifest: errors naming the file.
  struct Case {
    std::string content;
    std::string part;
  };
  const std::vector<Case> bad = {
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nfoo: bar\n",
       "mixed.yaml: document 2 (line 4) is not a Kubernetes object"},
      {"apiVersion: v1\nkind: [unclosed\nmetadata: {name: a}\n", "mixed.yaml: line"},
      {"apiVersion: v1\nmetadata: {name: a}\nkind:\n", "mixed.yaml: document 1"},
  };
  for (const auto& c : bad) {
    dir.write("mixed.yaml", c.content);
    auto failed = render(dir.path(), options_with(""), runner);
    ASSERT_FALSE(failed) << c.content;
    EXPECT_EQ(failed.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(failed.error().message.find(c.part), std::string::npos) << failed.error().message;
  }
}

TEST(RenderPlain, JsonnetRunsInAChildWithTheJob) {
  test_support::TempDir repo;
  repo.write("app/main.jsonnet", "{kind: 'A'}");
  repo.write("lib/x.libsonnet", "{}");
  repo.write("app/a.yaml", "kind: Y\n");
  RenderOptions o = options_with("");
  o.repo_root = repo.path();
  o.jsonnet_program = {"/usr/bin/true", "jsonnet-eval"};
  o.jsonnet_ext_vars = {{"env", "prod"}};
  o.jsonnet_tla_code = {{"replicas", "3"}};
  o.jsonnet_libs = {"lib"};
  FakeRunner runner;
  runner.answer =
      Output{0, 0, R"([{"apiVersion":"v1","kind":"ConfigMap"},null,{"kind":"B"}])", "", 0, false};
  auto got = render(repo.path() + "/app", o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->manifests, "kind: Y\n---\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}\n---\n"
                            "{\"kind\":\"B\"}\n");
  ASSERT_EQ(runner.commands.size(), 1u);
  const Command& c = runner.commands.front();
  EXPECT_EQ(c.argv, o.jsonnet_program);
  ASSERT_TRUE(c.stdin_data);
  auto job = job_from_json(*c.stdin_data);
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(job->file, repo.path() + "/app/main.jsonnet");
  EXPECT_EQ(job->root, repo.path());
  EXPECT_EQ(job->libs, std::vector<std::string>{repo.path() + "/lib"});
  EXPECT_EQ(job->ext_vars.at("env"), "prod");
  EXPECT_EQ(job->tla_code.at("replicas"), "3");

  // Failures: the evaluator's message; a library outside the repository; output not objects.
  runner.answer = Output{1, 0, "", "RUNTIME ERROR: boom\n\tmain.jsonnet:1:1-5\n", 0, false};
  auto failed = render(repo.path() + "/app", o, runner);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("main.jsonnet: Jsonnet evaluation failed"),
            std::string::npos);
  EXPECT_NE(failed.error().message.find("RUNTIME ERROR: boom"), std::string::npos);
  o.jsonnet_libs = {"../../etc"};
  auto outside = render(repo.path() + "/app", o, runner);
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("outside the application's repository"), std::string::npos)
      << outside.error().message;
  o.jsonnet_libs = {};
  runner.answer = Output{0, 0, "[1, 2]", "", 0, false};
  auto scalars = render(repo.path() + "/app", o, runner);
  ASSERT_FALSE(scalars);
  EXPECT_NE(scalars.error().message.find("non-object"), std::string::npos);
  o.jsonnet_program.clear();
  EXPECT_FALSE(render(repo.path() + "/app", o, runner));
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

TEST(RenderHelm, ExactArgumentsAsArgoCdBuildsThem) {
  test_support::TempDir repo;
  repo.write("charts/web/Chart.yaml", "name: web\n");
  repo.write("charts/web/values-prod.yaml", "x: 1\n");
  repo.write("values/common.yaml", "x: 2\n");
  const std::string app = repo.path() + "/charts/web";
  ToolDir tools({"helm", "kubectl"});
  RenderOptions o = options_with(tools.path());
  o.repo_root = repo.path();
  o.helm_release_name = "web";
  o.helm_namespace = "prod";
  o.helm_values_files = {"../../values/common.yaml", "values-prod.yaml", "/values/common.yaml"};
  o.helm_parameters = {
      {"image.tag", "v1.2.3"}, {"list", "a,b"}, {"arr", "{a,b}"}, {"esc", "x\\,y"}};
  o.helm_string_parameters = {{"port", "8080"}};
  o.kube_version = "1.29.0";
  o.kube_api_versions = {"v1", "apps/v1/Deployment"};
  FakeRunner runner;
  auto got = render(app, o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->mode, RenderMode::helm);
  ASSERT_EQ(runner.commands.size(), 1u);
  const std::vector<std::string> want = {tools.path() + "/helm",
                                         "template",
                                         ".",
                                         "--name-template",
                                         "web",
                                         "--namespace",
                                         "prod",
                                         "--kube-version",
                                         "1.29.0",
                                         "--set",
                                         "arr={a,b}",
                                         "--set",
                                         "esc=x\\,y",
                                         "--set",
                                         "image.tag=v1.2.3",
                                         "--set",
                                         "list=a\\,b",
                                         "--set-string",
                                         "port=8080",
                                         "--values",
                                         repo.path() + "/values/common.yaml",
                                         "--values",
                                         app + "/values-prod.yaml",
                                         "--values",
                                         repo.path() + "/values/common.yaml",
                                         "--api-versions",
                                         "v1",
                                         "--api-versions",
                                         "apps/v1/Deployment",
                                         "--include-crds"};
  EXPECT_EQ(runner.commands.front().argv, want);
  EXPECT_EQ(runner.commands.front().cwd, app);
  EXPECT_EQ(runner.commands.front().env, o.tool_env);

  // The minimum: release name only; CRDs skipped on request.
  RenderOptions minimal = options_with(tools.path());
  minimal.helm_release_name = "r";
  minimal.helm_skip_crds = true;
  FakeRunner r2;
  ASSERT_TRUE(render(app, minimal, r2));
  EXPECT_EQ(r2.commands.front().argv, (std::vector<std::string>{tools.path() + "/helm", "template",
                                                                ".", "--name-template", "r"}));
}

TEST(RenderHelm, ValuesFilesStayInTheRepository) {
  test_support::TempDir outside;
  const std::string secret = outside.write("token", "s3cr3t\n");
  test_support::TempDir repo;
  repo.write("app/Chart.yaml", "name: web\n");
  ToolDir tools({"helm"});
  struct Case {
    std::string file;
    ErrorKind kind;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"../../" + outside.path().substr(1) + "/token", ErrorKind::invalid_input,
       "resolves outside the application's repository"},
      {secret, ErrorKind::not_found, "no such file"}, // absolute = relative to the repo root
      {"../..", ErrorKind::invalid_input, "outside"},
      {"missing.yaml", ErrorKind::not_found, "no such file"},
  };
  for (const auto& c : cases) {
    RenderOptions o = options_with(tools.path());
    o.repo_root = repo.path();
    o.helm_release_name = "web";
    o.helm_values_files = {c.file};
    FakeRunner runner;
    auto got = render(repo.path() + "/app", o, runner);
    ASSERT_FALSE(got) << c.file;
    EXPECT_EQ(got.error().kind, c.kind) << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
    EXPECT_EQ(got.error().message.find("s3cr3t"), std::string::npos);
    EXPECT_TRUE(runner.commands.empty());
  }
}

TEST(RenderHelm, MissingDependenciesAreBuiltThenTemplatedAgain) {
  test_support::TempDir repo;
  repo.write("app/Chart.yaml", "name: web\ndependencies:\n- name: common\n  version: 1.0.0\n"
                               "  repository: file://../common\n- name: redis\n"
                               "  repository: https://charts.example.com\n");
  repo.write("common/Chart.yaml", "name: common\n");
  ToolDir tools({"helm"});
  RenderOptions o = options_with(tools.path());
  o.repo_root = repo.path();
  o.helm_release_name = "web";
  const Output missing{1,
                       0,
                       "",
                       "Error: found in Chart.yaml, but missing in charts/ directory: "
                       "common, redis\n",
                       0,
                       false};
  const Output built{0, 0, "", "Saving 2 charts\n", 0, false};
  const Output rendered{0, 0, "kind: Rendered\n", "", 0, false};
  FakeRunner runner;
  runner.queue = {missing, built, rendered};
  auto got = render(repo.path() + "/app", o, runner);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(runner.commands.size(), 3u);
  EXPECT_EQ(runner.commands[1].argv,
            (std::vector<std::string>{tools.path() + "/helm", "dependency", "build"}));
  EXPECT_EQ(runner.commands[2].argv, runner.commands[0].argv);
  EXPECT_EQ(got->manifests, "kind: Rendered\n");
  ASSERT_FALSE(got->warnings.empty());

  // A remote dependency that cannot be fetched: an error naming the dependencies.
  const Output unreachable{1,
                           0,
                           "",
                           "Error: no repository definition for "
                           "https://charts.example.com\n",
                           0,
                           false};
  FakeRunner r2;
  r2.queue = {missing, unreachable};
  auto failed = render(repo.path() + "/app", o, r2);
  ASSERT_FALSE(failed);
  for (const char* part : {"redis (https://charts.example.com)", "common (file://../common)",
                           "no repository definition"}) {
    EXPECT_NE(failed.error().message.find(part), std::string::npos) << failed.error().message;
  }
  // A file:// dependency outside the repository is refused before helm packages it.
  repo.write("app/Chart.yaml", "name: web\ndependencies: [{name: x, repository: "
                               "\"file://../../../../etc\"}]\n");
  FakeRunner r3;
  r3.queue = {missing};
  auto refused = render(repo.path() + "/app", o, r3);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("outside the application's repository"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(r3.commands.size(), 1u) << "helm dependency build never ran";
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
      {tools.path(), "web", {"--post-renderer=x"}, ErrorKind::not_found, "helm-values-files"},
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

TEST(RenderKustomize, BuildOptionsAndWarnings) {
  test_support::TempDir app;
  app.write("kustomization.yaml", "resources: []\n");
  ToolDir tools({"kustomize"});
  RenderOptions o = options_with(tools.path());
  o.kustomize_build_options = {"--enable-helm", "--load-restrictor", "LoadRestrictionsNone"};
  FakeRunner runner;
  runner.answer =
      Output{0, 0, "kind: A\n", "# Warning: 'commonLabels' is deprecated.\n\n", 0, false};
  auto got = render(app.path(), o, runner);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(runner.commands.front().argv,
            (std::vector<std::string>{tools.path() + "/kustomize", "build", ".", "--enable-helm",
                                      "--load-restrictor", "LoadRestrictionsNone"}));
  EXPECT_EQ(got->warnings, std::vector<std::string>{"# Warning: 'commonLabels' is deprecated."});
}

TEST(RenderOptionsFromSettings, CopiesTheRenderSettings) {
  Settings s;
  s.render.value = RenderMode::helm;
  s.include.value = {"*.y*ml"};
  s.recurse.value = false;
  s.helm_release_name.value = "rel";
  s.helm_parameters.value = {{"a", "b"}};
  s.helm_string_parameters.value = {{"c", "1"}};
  s.helm_skip_crds.value = true;
  s.kube_api_versions.value = {"v1"};
  s.kustomize_build_options.value = "  --enable-helm\t--load-restrictor  LoadRestrictionsNone ";
  s.jsonnet_libs.value = {"vendor"};
  const RenderOptions o = render_options(s);
  EXPECT_EQ(o.helm_string_parameters.at("c"), "1");
  EXPECT_TRUE(o.helm_skip_crds);
  EXPECT_EQ(
      o.kustomize_build_options,
      (std::vector<std::string>{"--enable-helm", "--load-restrictor", "LoadRestrictionsNone"}));
  EXPECT_EQ(o.jsonnet_libs, std::vector<std::string>{"vendor"});
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
