// Internal to common::cache: the file-descriptor helpers of util/fd.hpp the cache uses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/error.hpp"
#include "common/util/fd.hpp"

namespace common::cache {

using util::errno_text;
using util::UniqueFd;

using util::read_all;
using util::write_all;

} // namespace common::cache
