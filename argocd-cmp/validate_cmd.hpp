// `imageupdater-cmp validate -f FILE...`: read ImageUpdater specs and print every problem as
// "FILE:LINE:COL: error|warning: message" on stdout, ordered by file, line and column; a
// summary goes to stderr. "-" reads stdin. Exit 0 when there is no error (warnings allowed),
// 2 when any file has an error or cannot be read.
#pragma once

#include <string>
#include <vector>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct ValidateArgs {
  std::vector<std::string> files;
};

int run_validate(const ValidateArgs& args, const Io& io);

} // namespace argocd_cmp
