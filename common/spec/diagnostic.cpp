#include "common/spec/diagnostic.hpp"
