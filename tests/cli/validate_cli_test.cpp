// `imageupdater-cmp validate` through the built binary.
#include <string>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"

namespace {

using test_support::binary;
using test_support::run_process;
using test_support::TempDir;

const char* k_bad_strategy = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata:
  name: demo
  namespace: demo
spec:
  kind: argocd
  images:
    - nginx:^0.1
  argocd:
    app:
      name: demo
    update-strategy:
      nginx: semverr
)";

TEST(ValidateCli, ReportsFileLineColumnAndExits2) {
  TempDir dir;
  auto file = dir.write("spec.yaml", k_bad_strategy);
  auto r = run_process({binary("imageupdater-cmp"), "validate", "-f", file});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.out.find(file + ":19:14: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("semverr"), std::string::npos) << r.out;
}

TEST(ValidateCli, CleanFileExits0) {
  TempDir dir;
  std::string good = k_bad_strategy;
  good.replace(good.find("semverr"), 7, "semver");
  auto file = dir.write("spec.yaml", good);
  auto r = run_process({binary("imageupdater-cmp"), "validate", file});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("1 ImageUpdater(s): 0 error(s)"), std::string::npos) << r.err;
}

TEST(ValidateCli, MissingFileIsAnErrorNamingIt) {
  auto r = run_process({binary("imageupdater-cmp"), "validate", "-f", "/nonexistent/spec.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("/nonexistent/spec.yaml"), std::string::npos) << r.out;
}

TEST(ValidateCli, InvalidYamlNamesTheLine) {
  TempDir dir;
  auto file = dir.write("broken.yaml", "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: [\n");
  auto r = run_process({binary("imageupdater-cmp"), "validate", "-f", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(file + ":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error"), std::string::npos) << r.out;
}

TEST(ValidateCli, ReadsStdinAndSeveralFiles) {
  TempDir dir;
  std::string good = k_bad_strategy;
  good.replace(good.find("semverr"), 7, "semver");
  auto a = dir.write("a.yaml", good);
  auto r = run_process({binary("imageupdater-cmp"), "validate", "-f", a, "-f", "-"}, good);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("2 file(s), 2 ImageUpdater(s)"), std::string::npos) << r.err;
}

TEST(ValidateCli, ExampleSpecIsValid) {
  auto r = run_process({binary("imageupdater-cmp"), "validate", "-f",
                        std::string(IU_SOURCE_DIR) + "/examples/imageupdater.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

} // namespace

namespace {

// docs/spec.md's complete examples (section 10) stay valid: every ```yaml block there that holds
// an ImageUpdater passes `validate` with no error and no warning.
TEST(ValidateCli, TheSpecReferenceExamplesAreValid) {
  const std::string doc =
      test_support::read_text_file(std::string(IU_SOURCE_DIR) + "/docs/spec.md");
  const std::size_t examples = doc.find("## 10. Complete examples");
  ASSERT_NE(examples, std::string::npos);
  TempDir dir;
  int checked = 0;
  for (std::size_t at = doc.find("```yaml\n", examples); at != std::string::npos;
       at = doc.find("```yaml\n", at)) {
    at += 8;
    const std::size_t end = doc.find("```", at);
    ASSERT_NE(end, std::string::npos);
    const std::string block = doc.substr(at, end - at);
    at = end + 3;
    if (block.find("kind: ImageUpdater") == std::string::npos) {
      continue;
    }
    const auto file = dir.write("example" + std::to_string(checked++) + ".yaml", block);
    auto r = run_process({binary("imageupdater-cmp"), "validate", "-f", file});
    EXPECT_EQ(r.exit_code, 0) << block << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("0 error(s), 0 warning(s)"), std::string::npos)
        << block << r.out << r.err;
  }
  EXPECT_GE(checked, 5);
}

} // namespace
