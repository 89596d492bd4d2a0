// Golden cases: tests/manifest/golden/<case>/{overrides.txt, original/, expected/, changes.txt,
// error.txt}. Every file of original/ is rewritten with the case's overrides; a file with a
// counterpart in expected/ must come out byte for byte like it, any other must come out
// unchanged with no change recorded. changes.txt holds describe() of every file's changes in
// file order; error.txt, when present, lines that the error messages must contain (and then
// every file is expected to fail or stay unchanged). Each output is also checked to be a fixed
// point (rewriting it again changes nothing) and stream mode to give the same bytes.
// IU_GOLDEN_UPDATE=1 writes expected/ and changes.txt from the current output instead (review
// the diff before committing).
#include <cstdlib>
#include <filesystem>
#include <sstream>
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
using testing::write_bytes;

const fs::path k_golden = fs::path(IU_SOURCE_DIR) / "tests" / "manifest" / "golden";

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  if (fs::is_directory(k_golden)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(k_golden)) {
      if (entry.is_directory()) {
        out.push_back(entry.path().filename().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool updating() {
  const char* v = std::getenv("IU_GOLDEN_UPDATE");
  return v != nullptr && std::string(v) == "1";
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Case) {
  const fs::path dir = k_golden / GetParam();
  auto overrides = testing::parse_overrides_file(read_bytes(dir / "overrides.txt"));
  ASSERT_TRUE(overrides) << overrides.error().message;
  auto rewriter = Rewriter::create(*overrides);
  ASSERT_TRUE(rewriter) << rewriter.error().message;

  const std::vector<std::string> files = list_files(dir / "original");
  ASSERT_FALSE(files.empty()) << "no files in " << dir / "original";
  const bool expect_error = fs::exists(dir / "error.txt");
  std::string all_changes;
  std::string all_errors;
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const std::string text = read_bytes(dir / "original" / name);
    auto result = rewriter->rewrite(text, name);
    if (!result) {
      all_errors += result.error().message + "\n";
      EXPECT_TRUE(expect_error) << result.error().message;
      continue;
    }
    all_changes += describe(result->changes);
    const fs::path expected_path = dir / "expected" / name;
    if (updating()) {
      if (result->output != text) {
        write_bytes(expected_path, result->output);
      }
    } else if (fs::exists(expected_path)) {
      EXPECT_EQ(result->output, read_bytes(expected_path));
      EXPECT_TRUE(result->changed());
    } else {
      EXPECT_EQ(result->output, text) << "changed, but there is no " << expected_path;
      EXPECT_FALSE(result->changed()) << describe(result->changes);
    }

    // A fixed point: the output rewritten again changes nothing.
    auto again = rewriter->rewrite(result->output, name);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->output, result->output);
    EXPECT_FALSE(again->changed()) << describe(again->changes);

    // Stream mode gives the same bytes and changes.
    std::string streamed;
    auto changes = rewriter->rewrite_stream(text, name, [&](std::string_view piece) {
      EXPECT_FALSE(piece.empty());
      streamed.append(piece);
    });
    ASSERT_TRUE(changes) << changes.error().message;
    EXPECT_EQ(streamed, result->output);
    EXPECT_EQ(*changes, result->changes);
  }
  if (updating()) {
    if (!all_changes.empty()) {
      write_bytes(dir / "changes.txt", all_changes);
    }
    return;
  }
  // Every expected file belongs to an original one.
  for (const std::string& name : list_files(dir / "expected")) {
    EXPECT_TRUE(fs::exists(dir / "original" / name)) << "stale expected/" << name;
  }
  if (expect_error) {
    std::istringstream lines(read_bytes(dir / "error.txt"));
    std::string line;
    bool any = false;
    while (std::getline(lines, line)) {
      if (!line.empty()) {
        any = true;
        EXPECT_NE(all_errors.find(line), std::string::npos)
            << "error.txt line not found: " << line << "\nerrors:\n"
            << all_errors;
      }
    }
    EXPECT_TRUE(any) << "empty error.txt";
  }
  const fs::path changes_path = dir / "changes.txt";
  if (fs::exists(changes_path)) {
    EXPECT_EQ(all_changes, read_bytes(changes_path));
  } else {
    EXPECT_EQ(all_changes, "") << "no changes.txt";
  }
}

// Every prefix of the small golden inputs (cut anywhere: inside tokens, quotes, CRLF pairs,
// markers) either fails cleanly or rewrites to a fixed point; nothing crashes (run it under
// the sanitizers).
TEST(GoldenPrefixes, FailCleanlyOrReachAFixedPoint) {
  std::size_t ok_count = 0;
  std::size_t error_count = 0;
  for (const std::string& name : case_names()) {
    const fs::path dir = k_golden / name;
    auto overrides = testing::parse_overrides_file(read_bytes(dir / "overrides.txt"));
    ASSERT_TRUE(overrides) << overrides.error().message;
    auto rewriter = Rewriter::create(*overrides);
    ASSERT_TRUE(rewriter) << rewriter.error().message;
    for (const std::string& file : list_files(dir / "original")) {
      const std::string text = read_bytes(dir / "original" / file);
      if (text.size() > 4096) {
        continue;
      }
      for (std::size_t cut = 0; cut <= text.size(); cut += 3) {
        const std::string prefix = text.substr(0, cut);
        auto result = rewriter->rewrite(prefix, file);
        if (!result) {
          ++error_count;
          EXPECT_FALSE(result.error().message.empty());
          continue;
        }
        ++ok_count;
        auto again = rewriter->rewrite(result->output, file);
        ASSERT_TRUE(again) << name << "/" << file << " cut at " << cut << ": "
                           << again.error().message;
        EXPECT_EQ(again->output, result->output) << name << "/" << file << " cut at " << cut;
      }
    }
  }
  EXPECT_GT(ok_count, 0u);
  EXPECT_GT(error_count, 0u);
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string out;
  for (const char c : info.param) {
    out += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Manifest, Golden, ::testing::ValuesIn(case_names()), test_name);

} // namespace
} // namespace common::manifest
