// Tag list pagination (OCI distribution spec, "Listing Tags"): the next page is named by a
// `Link: <url>; rel="next"` header, absolute or relative to the page that carried it. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common::registry {

// The target of the first link with relation "next" in one Link header value (RFC 8288:
// several comma-separated links, parameters after ';', rel quoted or not and possibly a
// space-separated list, case-insensitive). Nullopt when there is none or the value is garbled.
std::optional<std::string> next_link(std::string_view link_header);

} // namespace common::registry
