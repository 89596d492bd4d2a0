#include "common/spec/diagnostic.hpp"

#include <algorithm>

namespace common::spec {

std::string format(const Diagnostic& d) {
  // GNU style: "FILE:LINE:COL: ", dropping the parts that are unknown.
  std::string out = d.file.empty() ? std::string("<input>") : d.file;
  if (d.line > 0) {
    out += ':';
    out += std::to_string(d.line);
    if (d.column > 0) {
      out += ':';
      out += std::to_string(d.column);
    }
  }
  out += d.severity == Severity::error ? ": error: " : ": warning: ";
  out += d.message;
  return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) noexcept {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
}

} // namespace common::spec
