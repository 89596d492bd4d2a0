#include <string>

#include <gtest/gtest.h>

#include "common/util/file.hpp"

#include "tests/support/process.hpp"

namespace common::util {
namespace {

TEST(UtilFile, ReadsAWholeFile) {
  test_support::TempDir dir;
  const std::string content(200'000, 'x');
  auto r = read_file(dir.write("a.yaml", content));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, content);
}

TEST(UtilFile, ErrorsNameThePathAndKind) {
  test_support::TempDir dir;
  struct Case {
    std::string path;
    ErrorKind kind;
    std::string says;
  };
  const Case cases[] = {
      {dir.path() + "/missing.yaml", ErrorKind::not_found, "missing.yaml: cannot open"},
      {dir.path(), ErrorKind::invalid_input, "is a directory"},
  };
  for (const auto& c : cases) {
    auto r = read_file(c.path);
    ASSERT_FALSE(r.has_value()) << c.path;
    EXPECT_EQ(r.error().kind, c.kind) << c.path;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
  }
}

TEST(UtilFile, RefusesInputOverTheBound) {
  test_support::TempDir dir;
  auto path = dir.write("big", std::string(1000, 'y'));
  auto r = read_file(path, 999);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_NE(r.error().message.find(path), std::string::npos);
  EXPECT_TRUE(read_file(path, 1000).has_value());
}

} // namespace
} // namespace common::util
