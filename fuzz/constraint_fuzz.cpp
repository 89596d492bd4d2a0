// libFuzzer entry point for constraints: the input up to the first newline is a constraint, the
// rest a version. Parsing must never crash, and check() must run on whatever parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/semver/constraint.hpp"
#include "common/semver/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view constraint_text = input.substr(0, newline);
  const std::string_view version_text = newline == std::string_view::npos
                                            ? std::string_view("1.2.3-rc.1")
                                            : input.substr(newline + 1);

  // The whole input as a constraint too: newlines are whitespace in the grammar.
  if (const auto whole = common::semver::Constraint::parse(input)) {
    if (const auto v = common::semver::parse("1.0.0")) {
      static_cast<void>(whole->check(*v));
    }
  }
  const auto constraint = common::semver::Constraint::parse(constraint_text);
  if (!constraint) {
    return 0;
  }
  for (const std::string_view probe : {version_text, std::string_view("0.0.0"),
                                       std::string_view("1.2.3"), std::string_view("2.0.0-0")}) {
    if (const auto v = common::semver::parse(probe)) {
      static_cast<void>(constraint->check(*v));
    }
  }
  return 0;
}
