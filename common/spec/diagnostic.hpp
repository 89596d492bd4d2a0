// Problems found while reading and validating ImageUpdater specs. Every problem names where it
// is: the file, the document (0-based index in a multi-document stream), the field path
// ("spec.argocd.update-strategy.nginx") and the 1-based line and column.
#pragma once

#include <string>
#include <vector>

namespace common::spec {

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;
  int document = 0;
  std::string field; // "" when the problem is not about one field (a YAML syntax error)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string message;
};

// "FILE:LINE:COL: error|warning: message" (the field path is part of the message).
std::string format(const Diagnostic& d);

bool has_errors(const std::vector<Diagnostic>& diagnostics) noexcept;

} // namespace common::spec
