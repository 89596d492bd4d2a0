// Flux image-automation-controller's setter fixtures (../shared/conformance/flux-setters, see its
// README): the policies its tests apply, the files they must change (byte for byte), the files
// they must leave alone, and the change record they expect.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/manifest/rewrite.hpp"

#include "golden_support.hpp"

namespace common::manifest {
namespace {

namespace fs = std::filesystem;
using testing::list_files;
using testing::read_bytes;

const fs::path k_root = fs::path(IU_SOURCE_DIR) / ".." / "shared" / "conformance" / "flux-setters";

#define REQUIRE_CONFORMANCE_DATA()                                                                 \
  if (!fs::is_directory(k_root)) {                                                                 \
    GTEST_SKIP() << k_root                                                                         \
                 << " not found: conformance data is in ../shared (absent in a user checkout)";    \
  }

const std::string k_digest =
    "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be";

// What Flux's ScreeningLocalReader reads: *.yaml, *.yml and files named exactly Kustomization
// that hold the token "$imagepolicy" with its quotes.
bool screened(const std::string& name, const std::string& bytes) {
  const std::string base = fs::path(name).filename().string();
  const bool yaml = base.ends_with(".yaml") || base.ends_with(".yml") || base == "Kustomization";
  return yaml && bytes.find("\"$imagepolicy\"") != std::string::npos;
}

TEST(FluxSetters, UpdateWithSetters) {
  REQUIRE_CONFORMANCE_DATA();
  const fs::path dir = k_root / "internal" / "update" / "testdata" / "setters";
  Overrides overrides;
  overrides.setters["automation-ns:policy"] = {"index.repo.fake/updated", "v1.0.1", ""};
  overrides.setters["automation-ns:unchanged"] = {"image", "v1.0.0", ""};
  overrides.setters["automation-ns:policy-with-digest"] = {"image", "v1.0.0", k_digest};
  auto rewriter = Rewriter::create(overrides);
  ASSERT_TRUE(rewriter) << rewriter.error().message;

  std::vector<std::string> screened_files;
  std::string changes;
  std::vector<std::string> changed_files;
  for (const std::string& name : list_files(dir / "original")) {
    SCOPED_TRACE(name);
    const std::string text = read_bytes(dir / "original" / name);
    if (!screened(name, text)) {
      continue;
    }
    screened_files.push_back(name);
    auto result = rewriter->rewrite(text, name);
    ASSERT_TRUE(result) << result.error().message;
    const fs::path expected = dir / "expected" / name;
    if (fs::exists(expected)) {
      EXPECT_EQ(result->output, read_bytes(expected));
    } else {
      EXPECT_EQ(result->output, text);
    }
    if (result->changed()) {
      changed_files.push_back(name);
      changes += describe(result->changes);
    }
  }
  // TestScreeningLocalReader: exactly these 4 (the dangling test.yaml is skipped).
  EXPECT_EQ(screened_files, (std::vector<std::string>{"Kustomization", "kustomization.yml",
                                                      "marked.yaml", "otherns.yaml"}));
  // "Changed files only": exactly the files in expected/.
  EXPECT_EQ(changed_files, list_files(dir / "expected"));
  // The change record of the README (objects, old -> new, setter), in document order.
  EXPECT_EQ(changes,
            "Kustomization:8 kustomize.config.k8s.io/v1beta1 Kustomization - images[0].newName: "
            "\"replaced\" -> \"index.repo.fake/updated\" (setter automation-ns:policy:name)\n"
            "Kustomization:9 kustomize.config.k8s.io/v1beta1 Kustomization - images[0].newTag: "
            "\"v1\" -> \"v1.0.1\" (setter automation-ns:policy:tag)\n"
            "kustomization.yml:8 kustomize.config.k8s.io/v1beta1 Kustomization - "
            "images[0].newName: \"replaced\" -> \"index.repo.fake/updated\" (setter "
            "automation-ns:policy:name)\n"
            "kustomization.yml:9 kustomize.config.k8s.io/v1beta1 Kustomization - "
            "images[0].newTag: \"v1\" -> \"v1.0.1\" (setter automation-ns:policy:tag)\n"
            "kustomization.yml:10 kustomize.config.k8s.io/v1beta1 Kustomization - "
            "images[0].newDigest: \"sha256:1234567890abcdef\" -> \"" +
                k_digest +
                "\" (setter automation-ns:policy-with-digest:digest)\n"
                "kustomization.yml:28 kustomize.config.k8s.io/v1beta1 Kustomization - "
                "patches[0].target.image: \"image\" -> \"image:v1.0.0@" +
                k_digest +
                "\" (setter automation-ns:policy-with-digest)\n"
                "marked.yaml:14 batch/v1beta1 CronJob bar/foo "
                "spec.jobTemplate.spec.template.spec.containers[0].image: \"image:v1.0.0\" -> "
                "\"index.repo.fake/updated:v1.0.1\" (setter automation-ns:policy)\n");
}

// The same fixtures in place: the whole tree after the run is original/ with the changed files
// replaced by expected/ ones.
TEST(FluxSetters, InPlaceTreeMatches) {
  REQUIRE_CONFORMANCE_DATA();
  const fs::path dir = k_root / "internal" / "update" / "testdata" / "setters";
  Overrides overrides;
  overrides.setters["automation-ns:policy"] = {"index.repo.fake/updated", "v1.0.1", ""};
  overrides.setters["automation-ns:unchanged"] = {"image", "v1.0.0", ""};
  overrides.setters["automation-ns:policy-with-digest"] = {"image", "v1.0.0", k_digest};
  for (const std::string& name : list_files(dir / "original")) {
    SCOPED_TRACE(name);
    const std::string text = read_bytes(dir / "original" / name);
    auto result = rewrite(text, name, overrides);
    ASSERT_TRUE(result) << result.error().message;
    const fs::path expected = dir / "expected" / name;
    EXPECT_EQ(result->output, fs::exists(expected) ? read_bytes(expected) : text);
  }
}

std::string replace_marker(std::string text, const std::string& target) {
  const std::string marker = "{\"$imagepolicy\": \"test-ns:" + target + "\"}";
  for (std::size_t at = text.find("SETTER_SITE"); at != std::string::npos;
       at = text.find("SETTER_SITE", at + marker.size())) {
    text.replace(at, std::string("SETTER_SITE").size(), marker);
  }
  return text;
}

struct PolicyCase {
  std::string name;
  std::string input;
  std::string expected;
  std::map<std::string, SetterValue> policies;
  std::string target;
  std::string update_path; // "" = the whole tree
};

TEST(FluxSetters, ApplyPolicies) {
  REQUIRE_CONFORMANCE_DATA();
  const fs::path dir = k_root / "internal" / "policy" / "testdata";
  const std::vector<PolicyCase> cases = {
      {"one policy",
       "appconfig",
       "appconfig-setters-expected",
       {{"test-ns:policy1", {"helloworld", "1.0.1", ""}}},
       "policy1",
       ""},
      {"several policies",
       "appconfig",
       "appconfig-setters-expected",
       {{"test-ns:policy1", {"foo", "1.1.1", ""}},
        {"test-ns:policy2", {"helloworld", "1.0.1", ""}},
        {"test-ns:policy3", {"bar", "2.2.2", ""}}},
       "policy2",
       ""},
      {"update path",
       "pathconfig",
       "pathconfig-expected",
       {{"test-ns:policy1", {"helloworld", "1.0.1", ""}}},
       "policy1",
       "yes/"},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    Overrides overrides;
    for (const auto& [setter, value] : c.policies) {
      overrides.setters[setter] = value;
    }
    const std::vector<std::string> inputs = list_files(dir / c.input);
    ASSERT_EQ(inputs, list_files(dir / c.expected));
    for (const std::string& name : inputs) {
      SCOPED_TRACE(name);
      const std::string text = replace_marker(read_bytes(dir / c.input / name), c.target);
      const std::string expected = replace_marker(read_bytes(dir / c.expected / name), c.target);
      std::string output = text;
      if (name.starts_with(c.update_path)) { // the CLI's --path limits the walk
        auto result = rewrite(text, name, overrides);
        ASSERT_TRUE(result) << result.error().message;
        EXPECT_TRUE(result->changed());
        output = result->output;
      }
      EXPECT_EQ(output, expected);
    }
  }
}

} // namespace
} // namespace common::manifest
