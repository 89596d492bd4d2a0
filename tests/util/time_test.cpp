#include "common/util/time.hpp"
#include <gtest/gtest.h>
