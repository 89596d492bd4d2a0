#include "common/policy/policy.hpp"
