#include "common/semver/version.hpp"
