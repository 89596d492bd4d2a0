#include "common/util/time.hpp"
