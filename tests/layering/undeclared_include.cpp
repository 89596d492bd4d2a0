// Must not compile: semver declares only util, so registry is not on its include path.
#include "common/registry/client.hpp"
