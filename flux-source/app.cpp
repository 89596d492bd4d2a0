#include "flux-source/app.hpp"

namespace flux_source {
int run(int, char**) { return 0; }
} // namespace flux_source
