#include "common/util/error.hpp"

namespace common::util {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::invalid_input:
    return "invalid_input";
  case ErrorKind::not_found:
    return "not_found";
  case ErrorKind::auth:
    return "auth";
  case ErrorKind::transient:
    return "transient";
  case ErrorKind::conflict:
    return "conflict";
  case ErrorKind::too_large:
    return "too_large";
  case ErrorKind::unsupported:
    return "unsupported";
  case ErrorKind::internal:
    return "internal";
  }
  return "internal";
}

} // namespace common::util
