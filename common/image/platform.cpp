#include "common/image/platform.hpp"
