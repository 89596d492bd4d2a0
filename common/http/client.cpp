#include "common/http/client.hpp"

#include <algorithm>

namespace common::http {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

} // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  const auto it =
      std::ranges::find_if(headers, [name](const auto& h) { return same_name(h.first, name); });
  if (it == headers.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

std::vector<std::string_view> find_headers(const Headers& headers, std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& [key, value] : headers) {
    if (same_name(key, name)) {
      values.emplace_back(value);
    }
  }
  return values;
}

} // namespace common::http
