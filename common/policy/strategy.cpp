#include "common/policy/strategy.hpp"
