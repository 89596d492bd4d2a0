#include "common/http/client.hpp"

#include <algorithm>

#include "common/http/url.hpp"
#include "common/util/strings.hpp"

namespace common::http {

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  const auto it =
      std::ranges::find_if(headers, [name](const auto& h) { return util::iequals(h.first, name); });
  if (it == headers.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

std::vector<std::string_view> find_headers(const Headers& headers, std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& [key, value] : headers) {
    if (util::iequals(key, name)) {
      values.emplace_back(value);
    }
  }
  return values;
}

util::Result<std::unique_ptr<ResponseStream>> Client::open(const Request& request,
                                                           const Limits& /*limits*/) {
  return util::fail(util::ErrorKind::unsupported,
                    request.method + " " + redact_url(request.url) +
                        ": this HTTP client does not stream responses");
}

std::string media_type(std::string_view content_type) {
  return util::to_lower(util::trim(content_type.substr(0, content_type.find(';'))));
}

} // namespace common::http
