#include "common/image/reference.hpp"
