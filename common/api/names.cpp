// Kubernetes' apimachinery validation (IsDNS1123Label, IsDNS1123Subdomain,
// IsQualifiedName, IsValidLabelValue) without regexps.
#include <string>

#include "common/api/api.hpp"
#include "common/http/client.hpp"
#include "common/util/strings.hpp"

namespace common::api {
namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])? without the length bound.
bool label_shape(std::string_view v) {
  if (v.empty() || !lower_alnum(v.front()) || !lower_alnum(v.back())) {
    return false;
  }
  for (char c : v) {
    if (!lower_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters.
bool qualified_name_part(std::string_view v) {
  if (v.empty() || v.size() > 63 || !alnum(v.front()) || !alnum(v.back())) {
    return false;
  }
  for (char c : v) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

} // namespace

std::string check_dns1123_label(std::string_view value) {
  if (value.size() > 63) {
    return util::quote(value) + " is longer than 63 characters";
  }
  if (!label_shape(value)) {
    return util::quote(value) +
           " is not a DNS-1123 label: lower case alphanumerics or '-', starting and ending "
           "alphanumeric";
  }
  return "";
}

std::string check_dns1123_subdomain(std::string_view value) {
  if (value.size() > 253) {
    return util::quote(value) + " is longer than 253 characters";
  }
  bool ok = !value.empty();
  std::string_view rest = value;
  while (ok) {
    auto dot = rest.find('.');
    ok = label_shape(rest.substr(0, dot));
    if (dot == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  if (!ok) {
    return util::quote(value) +
           " is not a DNS-1123 subdomain: lower case alphanumerics, '-' or '.', starting and "
           "ending alphanumeric";
  }
  return "";
}

std::string check_label_key(std::string_view key) {
  auto slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty() || !check_dns1123_subdomain(prefix).empty()) {
      return "key " + util::quote(key) + ": the prefix must be a DNS-1123 subdomain";
    }
  }
  if (!qualified_name_part(name)) {
    return "key " + util::quote(key) +
           ": the name must be at most 63 characters of alphanumerics, '-', '_' or '.', "
           "starting and ending alphanumeric";
  }
  return "";
}

std::string check_label_value(std::string_view value) {
  if (!value.empty() && !qualified_name_part(value)) {
    return "value " + util::quote(value) +
           " must be empty or at most 63 characters of alphanumerics, '-', '_' or '.', "
           "starting and ending alphanumeric";
  }
  return "";
}

std::string HttpRequest::header(std::string_view name) const {
  return std::string(http::find_header(headers, name).value_or(""));
}

} // namespace common::api
