// Go filepath.Match globs, as Argo CD Image Updater's ignore-tags use them: '*' (any run of
// characters), '?' (one character), '[...]' classes with ranges and '^' negation, '\' escapes.
// Tags contain no '/', so the separator rule of filepath.Match never applies. Pure.
#pragma once

#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::policy {

class Glob {
public:
  // Fails (invalid_input, "bad pattern") where Go's filepath.Match returns ErrBadPattern:
  // an unterminated class, a trailing '\', an empty class "[]".
  static util::Result<Glob> parse(std::string_view pattern);
  // Whole-string match.
  bool matches(std::string_view text) const noexcept;
  const std::string& pattern() const noexcept { return m_pattern; }

private:
  explicit Glob(std::string pattern) : m_pattern(std::move(pattern)) {}
  std::string m_pattern;
};

} // namespace common::policy
