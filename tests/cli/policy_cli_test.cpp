// `imageupdater-cmp policy` through the built binary: exit codes, stdout, stderr.
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"

namespace {

using test_support::binary;
using test_support::run_process;

struct Case {
  const char* name;
  std::vector<std::string> args;
  std::string tags; // stdin
  int exit_code;
  std::string out;        // exact stdout
  std::string err_substr; // "" = not checked
};

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class PolicyCli : public testing::TestWithParam<Case> {};

TEST_P(PolicyCli, Runs) {
  const Case& c = GetParam();
  std::vector<std::string> argv{binary("imageupdater-cmp"), "policy"};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  auto r = run_process(argv, c.tags);
  EXPECT_EQ(r.exit_code, c.exit_code) << "stderr: " << r.err;
  EXPECT_EQ(r.out, c.out);
  if (!c.err_substr.empty()) {
    EXPECT_NE(r.err.find(c.err_substr), std::string::npos) << "stderr: " << r.err;
  }
}

const std::string k_tags = "1.0.0\n1.2.0\n1.2.9\nv1.3.0\n2.0.0-rc.1\n1.25-alpine\nlatest\n"
                           "abc1234\n1.2.10.sig\n";

// clang-format off
INSTANTIATE_TEST_SUITE_P(Table, PolicyCli, testing::Values(
  Case{"semver_default_star", {}, k_tags, 0, "v1.3.0\n", ""},
  Case{"semver_caret", {"--strategy", "semver", "--constraint", "~1.2"}, k_tags, 0, "1.2.9\n", ""},
  Case{"semver_prerelease_opt_in", {"-c", ">=2.0.0-0"}, k_tags, 0, "2.0.0-rc.1\n", ""},
  Case{"semver_none_qualifies", {"-c", "^3"}, k_tags, 1, "", "no tag qualifies"},
  Case{"semver_bad_constraint", {"-c", "latest"}, k_tags, 2, "", "latest"},
  Case{"unknown_strategy", {"--strategy", "newest"}, k_tags, 2, "", "newest"},
  Case{"allow_regexp", {"--allow-tags", "regexp:^1\\.2\\."}, k_tags, 0, "1.2.9\n", ""},
  Case{"bad_regexp", {"--allow-tags", "regexp:[a-"}, k_tags, 2, "", "[a-"},
  Case{"ignore_globs", {"--ignore-tags", "v*,1.2.9"}, k_tags, 0, "1.2.0\n", ""},
  Case{"alphabetical", {"--strategy", "alphabetical"}, "a\nc\nb\n", 0, "c\n", ""},
  Case{"alphabetical_alias_desc", {"-s", "name", "--order", "desc"}, "b\na\nc\n", 0, "a\n", ""},
  Case{"bad_order", {"-s", "alphabetical", "--order", "up"}, "a\n", 2, "", "up"},
  Case{"numerical", {"-s", "numerical"}, "10\n9\n100\n", 0, "100\n", ""},
  Case{"numerical_non_number", {"-s", "numerical"}, "10\nx\n", 2, "", "x"},
  Case{"newest_build", {"-s", "newest-build"},
       "a\t2024-01-01T00:00:00Z\nb\t2024-03-01T00:00:00Z\nc\t2023-12-01T00:00:00Z\n", 0, "b\n", ""},
  Case{"latest_alias", {"-s", "latest"}, "a\t2024-01-01T00:00:00Z\nb\t2023-01-01T00:00:00Z\n", 0,
       "a\n", ""},
  Case{"newest_build_bad_time", {"-s", "newest-build"}, "a\tyesterday\n", 2, "",
       "stdin:1: tag \"a\": invalid created time \"yesterday\""},
  Case{"digest_tracks_tag", {"-s", "digest", "-c", "latest"}, k_tags, 0, "latest\n", ""},
  Case{"digest_needs_tag", {"-s", "digest"}, k_tags, 2, "", "digest"},
  Case{"flux_filter_extract",
       {"-s", "numerical", "--filter-pattern", "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "--filter-extract",
        "$ts"},
       "main-abc-100\nmain-def-300\nmain-012-200\nlatest\n", 0, "main-def-300\n", ""},
  Case{"flux_dialect_three_parts", {"--dialect", "flux"}, "1.2\n1.1.0\n", 0, "1.1.0\n", ""},
  Case{"extract_without_pattern", {"--filter-extract", "$1"}, "1.0.0\n", 2, "",
       "--filter-extract"},
  Case{"bad_platform", {"--platforms", "linux"}, "1.0.0\n", 2, "", "linux"},
  Case{"empty_input", {}, "", 1, "", "no tag qualifies"},
  Case{"crlf_and_blank_lines", {}, "1.0.0\r\n\r\n1.1.0\r\n", 0, "1.1.0\n", ""},
  Case{"signature_tags_dropped", {"-s", "alphabetical"}, "sha256-abc.sig\nb\n", 0, "b\n", ""},
  Case{"unknown_flag", {"--frobnicate"}, "", 2, "", "frobnicate"}
), [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });
// clang-format on

TEST(PolicyCliExplain, ListsEveryTagWithAReason) {
  auto r = run_process({binary("imageupdater-cmp"), "policy", "-c", "^1.2", "--explain"},
                       "1.2.0\nlatest\n2.0.0\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1.2.0\n");
  EXPECT_NE(r.err.find("kept    1.2.0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dropped latest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dropped 2.0.0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chosen: 1.2.0"), std::string::npos) << r.err;
}

TEST(PolicyCliHelp, EveryVerbHasHelp) {
  for (const char* verb : {"policy", "validate"}) {
    auto r = run_process({binary("imageupdater-cmp"), verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << verb << ": " << r.out;
  }
  auto top = run_process({binary("imageupdater-cmp"), "--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("policy"), std::string::npos);
  auto none = run_process({binary("imageupdater-cmp")});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(FluxSourceCli, ReportsVersion) {
  auto r = run_process({binary("imageupdater-flux-source"), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("0.1.0"), std::string::npos);
}

} // namespace
