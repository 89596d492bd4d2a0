#include "common/semver/constraint.hpp"
