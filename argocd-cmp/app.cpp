#include "argocd-cmp/app.hpp"

namespace argocd_cmp {
int run(int, char**) { return 0; }
} // namespace argocd_cmp
