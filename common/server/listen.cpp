#include <charconv>

#include "common/server/server.hpp"

namespace common::server {

util::Result<ListenAddress> parse_listen(std::string_view value) {
  const auto bad = [&](const char* why) {
    return util::fail(util::ErrorKind::invalid_input,
                      "listen address \"" + std::string(value) + "\": " + why);
  };
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("expected HOST:PORT");
  }
  std::string_view host = value.substr(0, colon);
  const std::string_view port_text = value.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2); // [::1]
  }
  if (host.empty()) {
    return bad("empty host");
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("port must be a number in 0..65535");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

} // namespace common::server
