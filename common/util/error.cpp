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
  case ErrorKind::gone:
    return "gone";
  }
  return "internal";
}

Location at_line(std::string file, int line, int column) {
  Location where;
  where.file = std::move(file);
  where.line = line;
  where.column = column;
  return where;
}

Location at_field(std::string field) {
  Location where;
  where.field = std::move(field);
  return where;
}

std::string to_string(const Location& where) {
  std::string out = where.file;
  // A column without its line means nothing to a reader: both or the line alone.
  if (where.line > 0) {
    out += (out.empty() ? "line " : ":") + std::to_string(where.line);
    if (where.column > 0) {
      out += (where.file.empty() ? ", column " : ":") + std::to_string(where.column);
    }
  }
  if (!where.field.empty()) {
    out += (out.empty() ? "" : ": ") + where.field;
  }
  return out;
}

Error located(ErrorKind kind, Location where, std::string_view what) {
  std::string place = to_string(where);
  std::string message = place.empty() ? std::string(what) : place + ": " + std::string(what);
  return Error(kind, std::move(message), std::move(where));
}

Error with_context(Error error, std::string_view context) {
  if (!context.empty()) {
    error.message = std::string(context) + ": " + error.message;
  }
  return error;
}

Error with_location(Error error, const Location& outer) {
  if (!error.where) {
    error.where = outer;
    return error;
  }
  Location& w = *error.where;
  if (w.file.empty()) {
    w.file = outer.file;
  }
  if (w.line == 0) {
    w.line = outer.line;
    w.column = w.column == 0 ? outer.column : w.column;
  }
  if (w.field.empty()) {
    w.field = outer.field;
  }
  return error;
}

Error in_file(Error error, std::string_view file) {
  return with_context(with_location(std::move(error), at_line(std::string(file), 0)), file);
}

} // namespace common::util
