// Runs the constraint check tables of Masterminds/semver v3.4.0 (copied into the peer data as
// semver-masterminds.tsv) through Constraint::parse, parse and check.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "common/semver/constraint.hpp"
#include "common/semver/version.hpp"

namespace common::semver {
namespace {

const char* const k_table = IU_SOURCE_DIR "/../shared/conformance/semver-masterminds.tsv";

TEST(SemverConformance, MastermindsCheckTables) {
  if (!std::filesystem::exists(k_table)) {
    GTEST_SKIP() << k_table
                 << " not found: conformance data is in ../shared (absent in a user checkout)";
  }
  std::ifstream in(k_table);
  ASSERT_TRUE(in) << "cannot open " << k_table;

  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  ASSERT_EQ(line, "constraint\tversion\texpected") << "unexpected header in " << k_table;

  int rows = 0;
  std::string failures;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    ++rows;
    const std::string_view row = line;
    const auto tab1 = row.find('\t');
    const auto tab2 = tab1 == std::string_view::npos ? tab1 : row.find('\t', tab1 + 1);
    const std::string where = "line " + std::to_string(line_no) + " [" + line + "]: ";
    if (tab2 == std::string_view::npos) {
      failures += where + "not three columns\n";
      continue;
    }
    const std::string_view constraint_text = row.substr(0, tab1);
    const std::string_view version_text = row.substr(tab1 + 1, tab2 - tab1 - 1);
    const std::string_view expected_text = row.substr(tab2 + 1);
    if (expected_text != "true" && expected_text != "false") {
      failures += where + "expected is neither true nor false\n";
      continue;
    }
    const bool expected = expected_text == "true";

    const auto constraint = Constraint::parse(constraint_text);
    if (!constraint) {
      failures += where + "constraint does not parse: " + constraint.error().message + "\n";
      continue;
    }
    const auto version = parse(version_text);
    if (!version) {
      if (expected) {
        failures += where + "version does not parse: " + version.error().message + "\n";
      }
      continue;
    }
    const bool got = constraint->check(*version);
    if (got != expected) {
      failures += where + "check gave " + (got ? "true" : "false") + "\n";
    }
  }
  EXPECT_EQ(rows, 241) << "row count of " << k_table;
  EXPECT_TRUE(failures.empty()) << "failing rows:\n" << failures;
}

} // namespace
} // namespace common::semver
