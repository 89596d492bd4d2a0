#include "common/policy/glob.hpp"
