// `imageupdater-cmp inject` through the built binary: stream mode, directory mode (--out and
// --in-place), the change record, errors that write nothing, and Flux's setters fixtures
// (../shared/conformance/flux-setters) in both the "changed files only" and in-place forms.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::binary;
using test_support::run_process;
using test_support::TempDir;

using test_support::contains;

std::string slurp(const fs::path& p) {
  return test_support::read_text_file(p.string());
}

// Every regular file under `root` (symlinks as "-> target"), by relative path.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = e.path().lexically_relative(root).generic_string();
    if (e.is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      out[rel] = slurp(e.path());
    }
  }
  return out;
}

const char* k_deployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web  # the front end
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25   # pinned by CI
      - name: side
        image: "ghcr.io/acme/side:v1"
      initContainers:
        - name: init
          image: busybox
---
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched}
data:
  image: nginx:1.25
)";

TEST(InjectCli, StreamRewritesOnlyGovernedImages) {
  TempDir dir;
  const auto changes = dir.path() + "/changes.json";
  auto r = run_process({binary("imageupdater-cmp"), "inject", "--image",
                        "docker.io/library/nginx=:1.27.1", "--image",
                        "ghcr.io/acme/side=@sha256:" + std::string(64, 'a'), "--changes", changes},
                       k_deployment);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected = k_deployment;
  expected.replace(expected.find("nginx:1.25"), 10, "nginx:1.27.1");
  expected.replace(expected.find("\"ghcr.io/acme/side:v1\""), 22,
                   "\"ghcr.io/acme/side@sha256:" + std::string(64, 'a') + "\"");
  EXPECT_EQ(r.out, expected);
  const auto record = nlohmann::json::parse(slurp(changes));
  ASSERT_EQ(record.size(), 1u);
  ASSERT_EQ(record[0]["objects"].size(), 1u);
  const auto& object = record[0]["objects"][0];
  EXPECT_EQ(object["kind"], "Deployment");
  EXPECT_EQ(object["namespace"], "shop");
  EXPECT_EQ(object["name"], "web");
  ASSERT_EQ(object["changes"].size(), 2u);
  EXPECT_EQ(object["changes"][0]["old"], "nginx:1.25");
  EXPECT_EQ(object["changes"][0]["new"], "nginx:1.27.1");
  EXPECT_EQ(object["changes"][0]["line"], 11);
  EXPECT_EQ(object["changes"][0]["field"], "spec.template.spec.containers[0].image");
}

TEST(InjectCli, NothingToChangeIsExit0AndTheSameBytes) {
  auto r = run_process({binary("imageupdater-cmp"), "inject", "--image", "redis=:7"}, k_deployment);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, k_deployment);
}

TEST(InjectCli, BadInputWritesNothing) {
  const std::string stream = std::string(k_deployment) + "---\nkind: [unclosed\n";
  auto r = run_process({binary("imageupdater-cmp"), "inject", "--image", "nginx=:1.27"}, stream);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "") << "no partial output";
  EXPECT_TRUE(contains(r.err, "<stdin>")) << r.err;
  EXPECT_TRUE(contains(r.err, "line 2")) << r.err; // 25 or 26: where the scanner notices

  auto helm = run_process({binary("imageupdater-cmp"), "inject", "--image", "nginx=:1.27"},
                          "image: {{ .Values.image }}\n");
  EXPECT_EQ(helm.exit_code, 2);
  EXPECT_EQ(helm.out, "");
  EXPECT_TRUE(contains(helm.err, "Helm")) << helm.err;
}

TEST(InjectCli, BadArguments) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                        // nothing to inject
      {"--image", "nginx"},                      // no '='
      {"--image", "Nginx=:1"},                   // invalid repository
      {"--image", "nginx=:bad tag"},             // invalid tag
      {"--setter", "ns-only=nginx:1"},           // no NS:NAME
      {"--image", "nginx=:1", "--in-place"},     // --in-place without --path
      {"--image", "nginx=:1", "--path", "/tmp"}, // --path without a mode
  };
  for (const auto& extra : cases) {
    std::vector<std::string> argv{binary("imageupdater-cmp"), "inject"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_process(argv, k_deployment);
    EXPECT_EQ(r.exit_code, 2) << testing::PrintToString(extra) << r.err;
    EXPECT_EQ(r.out, "") << testing::PrintToString(extra);
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(InjectCli, DirectoryOutWritesChangedFilesOnlyAndInPlaceEditsThem) {
  TempDir dir;
  const fs::path src = dir.path() + "/src";
  fs::create_directories(src / "apps" / "web");
  fs::create_directories(src / ".git");
  std::ofstream(src / "apps" / "web" / "deploy.yaml") << k_deployment;
  std::ofstream(src / "apps" / "other.yml") << "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                               "spec:\n  containers: [{name: c, image: redis:6}]\n";
  std::ofstream(src / "README.md") << "image: nginx:1.0\n";
  std::ofstream(src / ".git" / "x.yaml") << "image: nginx:1.0\n";
  fs::create_symlink("missing.yaml", src / "dangling.yaml");
  // A name with a line break: its log event still takes one line.
  fs::create_symlink("missing.yaml", src / "two\nlines.yaml");

  const fs::path out = dir.path() + "/out";
  auto r = run_process({binary("imageupdater-cmp"), "inject", "--image", "nginx=:1.27", "--path",
                        src.string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto written = tree(out);
  ASSERT_EQ(written.size(), 1u) << "only the changed file";
  EXPECT_TRUE(contains(written.at("apps/web/deploy.yaml"), "image: nginx:1.27   # pinned by CI"));
  EXPECT_TRUE(contains(r.err, "dangling.yaml")) << "skipped files are reported: " << r.err;
  EXPECT_TRUE(contains(r.err, "file=\"two\\nlines.yaml\"")) << r.err;
  std::size_t start = 0;
  for (std::size_t nl; (nl = r.err.find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_TRUE(r.err.compare(start, 5, "time=") == 0)
        << "one logfmt event per line: " << r.err.substr(start, nl - start);
  }
  EXPECT_EQ(start, r.err.size());

  const auto before = tree(src);
  r = run_process({binary("imageupdater-cmp"), "inject", "--image", "nginx=:1.27", "--path",
                   src.string(), "--in-place"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = tree(src);
  EXPECT_EQ(after.at("apps/web/deploy.yaml"), written.at("apps/web/deploy.yaml"));
  after.erase("apps/web/deploy.yaml");
  auto unchanged = before;
  unchanged.erase("apps/web/deploy.yaml");
  EXPECT_EQ(after, unchanged) << "nothing else touched (README, .git, the symlink)";
}

TEST(InjectCli, DirectoryWithABadFileWritesNothing) {
  TempDir dir;
  const fs::path src = dir.path() + "/src";
  fs::create_directories(src);
  std::ofstream(src / "a.yaml") << k_deployment;
  std::ofstream(src / "b.yaml") << "image: {{ .Values.image }}\n";
  const auto before = tree(src);
  auto r = run_process({binary("imageupdater-cmp"), "inject", "--image", "nginx=:1.27", "--path",
                        src.string(), "--in-place"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "b.yaml")) << r.err;
  EXPECT_TRUE(contains(r.err, "nothing was written")) << r.err;
  EXPECT_EQ(tree(src), before);
}

// ---- Flux's setters fixtures ---------------------------------------------------------------

fs::path conformance() {
  return fs::path(IU_SOURCE_DIR) / ".." / "shared" / "conformance" / "flux-setters";
}

std::vector<std::string> flux_setters() {
  const std::string digest =
      "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be";
  return {"--setter", "automation-ns:policy=index.repo.fake/updated:v1.0.1",
          "--setter", "automation-ns:unchanged=image:v1.0.0",
          "--setter", "automation-ns:policy-with-digest=image:v1.0.0@" + digest};
}

TEST(InjectCliFlux, SettersChangedFilesOnly) {
  const fs::path base = conformance() / "internal/update/testdata/setters";
  if (!fs::exists(base)) {
    GTEST_SKIP() << "no " << base << " (../shared/conformance is not beside this checkout)";
  }
  TempDir dir;
  std::vector<std::string> argv{binary("imageupdater-cmp"),
                                "inject",
                                "--path",
                                (base / "original").string(),
                                "--out",
                                dir.path() + "/out",
                                "--changes",
                                dir.path() + "/changes.json"};
  const auto setters = flux_setters();
  argv.insert(argv.end(), setters.begin(), setters.end());
  auto r = run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tree(dir.path() + "/out"), tree(base / "expected"));
  const auto record = nlohmann::json::parse(slurp(dir.path() + "/changes.json"));
  std::size_t count = 0;
  for (const auto& f : record) {
    for (const auto& o : f["objects"]) {
      count += o["changes"].size();
    }
  }
  EXPECT_EQ(count, 7u) << record.dump(2); // the README's table: 4 + 2 + 1
}

TEST(InjectCliFlux, SettersInPlace) {
  const fs::path base = conformance() / "internal/update/testdata/setters";
  if (!fs::exists(base)) {
    GTEST_SKIP() << "no " << base << " (../shared/conformance is not beside this checkout)";
  }
  TempDir dir;
  const fs::path work = dir.path() + "/work";
  fs::copy(base / "original", work, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  std::vector<std::string> argv{binary("imageupdater-cmp"), "inject", "--path", work.string(),
                                "--in-place"};
  const auto setters = flux_setters();
  argv.insert(argv.end(), setters.begin(), setters.end());
  auto r = run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto expected = tree(base / "original");
  for (const auto& [rel, content] : tree(base / "expected")) {
    expected[rel] = content;
  }
  EXPECT_EQ(tree(work), expected);
}

// internal/policy/testdata: SETTER_SITE becomes {"$imagepolicy": "test-ns:<policy>"} in input
// and expected copies, then an in-place run over the whole tree (pathconfig: only ./yes).
void replace_marker(const fs::path& root, const std::string& policy) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) {
      continue;
    }
    std::string text = slurp(e.path());
    const std::string marker = "{\"$imagepolicy\": \"test-ns:" + policy + "\"}";
    for (auto at = text.find("SETTER_SITE"); at != std::string::npos;
         at = text.find("SETTER_SITE", at + marker.size())) {
      text.replace(at, 11, marker);
    }
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << text;
  }
}

struct PolicyCase {
  const char* input;
  const char* expected;
  const char* target;
  std::vector<std::string> setters;
  const char* subpath;
};

TEST(InjectCliFlux, PolicyApplierCases) {
  const fs::path base = conformance() / "internal/policy/testdata";
  if (!fs::exists(base)) {
    GTEST_SKIP() << "no " << base << " (../shared/conformance is not beside this checkout)";
  }
  const std::vector<PolicyCase> cases = {
      {"appconfig",
       "appconfig-setters-expected",
       "policy1",
       {"test-ns:policy1=helloworld:1.0.1"},
       ""},
      {"appconfig",
       "appconfig-setters-expected",
       "policy2",
       {"test-ns:policy1=foo:1.1.1", "test-ns:policy2=helloworld:1.0.1",
        "test-ns:policy3=bar:2.2.2"},
       ""},
      {"pathconfig", "pathconfig-expected", "policy1", {"test-ns:policy1=helloworld:1.0.1"}, "yes"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const fs::path work = dir.path() + "/work";
    const fs::path want = dir.path() + "/want";
    fs::copy(base / c.input, work, fs::copy_options::recursive);
    fs::copy(base / c.expected, want, fs::copy_options::recursive);
    replace_marker(work, c.target);
    replace_marker(want, c.target);
    std::vector<std::string> argv{binary("imageupdater-cmp"), "inject", "--path",
                                  (work / c.subpath).string(), "--in-place"};
    for (const auto& s : c.setters) {
      argv.push_back("--setter");
      argv.push_back(s);
    }
    auto r = run_process(argv);
    ASSERT_EQ(r.exit_code, 0) << c.input << " " << c.target << ": " << r.err;
    EXPECT_EQ(tree(work), tree(want)) << c.input << " " << c.target;
  }
}

} // namespace
