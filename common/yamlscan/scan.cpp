#include "common/yamlscan/scan.hpp"
// (being written)
