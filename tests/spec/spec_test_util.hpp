// Helpers shared by the spec tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/spec/loader.hpp"

namespace spec_test {

inline std::string testdata(const std::string& name) {
  std::ifstream in(std::string(IU_SOURCE_DIR) + "/tests/spec/testdata/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "L:C: error: message" per diagnostic, in order.
inline std::vector<std::string> brief(const std::vector<common::spec::Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
                  (d.severity == common::spec::Severity::error ? "error: " : "warning: ") +
                  d.message);
  }
  return out;
}

inline std::string joined(const std::vector<common::spec::Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& line : brief(diagnostics)) {
    out += line + "\n";
  }
  return out;
}

// The common head of the inline test documents: the body starts at line 6.
constexpr const char* k_head = "apiVersion: gitops.kubesphere.io/v1alpha1\n" // 1
                               "kind: ImageUpdater\n"                        // 2
                               "metadata:\n"                                 // 3
                               "  name: demo\n"                              // 4
                               "spec:\n";                                    // 5

} // namespace spec_test
