// Must compile: semver declares util.
#include "common/util/error.hpp"
