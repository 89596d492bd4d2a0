#include <gtest/gtest.h>

#include "common/spec/diagnostic.hpp"

namespace {

using common::spec::Diagnostic;
using common::spec::Severity;

TEST(Diagnostic, Format) {
  struct Case {
    Diagnostic d;
    const char* want;
  };
  const Case cases[] = {
      {{Severity::error, "a.yaml", 0, "spec.images[0]", 7, 5, "bad"}, "a.yaml:7:5: error: bad"},
      {{Severity::warning, "a.yaml", 2, "x", 12, 1, "hm"}, "a.yaml:12:1: warning: hm"},
      {{Severity::error, "a.yaml", 0, "", 3, 0, "no column"}, "a.yaml:3: error: no column"},
      {{Severity::error, "a.yaml", 0, "", 0, 0, "too big"}, "a.yaml: error: too big"},
      {{Severity::error, "", 0, "", 1, 2, "stdin"}, "<input>:1:2: error: stdin"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(common::spec::format(c.d), c.want);
  }
}

TEST(Diagnostic, HasErrors) {
  std::vector<Diagnostic> none;
  EXPECT_FALSE(common::spec::has_errors(none));
  std::vector<Diagnostic> warnings{{Severity::warning, "f", 0, "", 1, 1, "w"}};
  EXPECT_FALSE(common::spec::has_errors(warnings));
  warnings.push_back({Severity::error, "f", 0, "", 2, 1, "e"});
  EXPECT_TRUE(common::spec::has_errors(warnings));
}

} // namespace
