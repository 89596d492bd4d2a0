// `imageupdater-cmp policy`: choose a tag from a list on stdin with the same policy engine the
// plugin uses. Input: one tag a line, optionally "tag<TAB>RFC3339-created" (needed by
// newest-build). Output: the chosen tag alone on stdout.
// Exit 0: chosen; 1: no tag qualifies (stderr says why); 2: bad arguments or input (stderr names
// the bad value and, for input, the line).
#pragma once

#include <string>
#include <vector>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct PolicyArgs {
  std::string strategy = "semver";
  std::string constraint;
  std::string allow_tags;
  std::vector<std::string> ignore_tags; // each item may itself be a comma-separated list
  std::string platforms;
  std::string filter_pattern;
  std::string filter_extract;
  std::string order = "asc";
  std::string dialect = "argocd"; // argocd (lenient semver) or flux (three-part semver)
  bool include_signature_tags = false;
  bool explain = false;
};

int run_policy(const PolicyArgs& args, const Io& io);

} // namespace argocd_cmp
