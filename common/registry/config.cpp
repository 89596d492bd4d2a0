#include "common/registry/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "common/credentials/source.hpp"
#include "common/http/url.hpp"
#include "common/util/duration.hpp"
#include "common/util/strings.hpp"

namespace common::registry {

namespace {

using util::ErrorKind;

constexpr std::string_view k_docker_hub = "docker.io";

using util::to_lower;

using util::trim;

// "Index.Docker.IO/acme/" -> "docker.io/acme": the host part folded to lower case with the
// Docker Hub spellings merged, no trailing '/', a scheme dropped.
std::string normalize_name(std::string_view name) {
  name = trim(name);
  for (std::string_view scheme : {"https://", "http://"}) {
    if (to_lower(name.substr(0, scheme.size())) == scheme) {
      name.remove_prefix(scheme.size());
      break;
    }
  }
  while (!name.empty() && name.back() == '/') {
    name.remove_suffix(1);
  }
  auto slash = name.find('/');
  std::string host = to_lower(name.substr(0, slash));
  if (host == "index.docker.io" || host == "registry-1.docker.io") {
    host = std::string(k_docker_hub);
  }
  return slash == std::string_view::npos ? host : host + std::string(name.substr(slash));
}

// Whether `prefix` serves `name`: equal, or followed in `name` by '/'.
bool serves(std::string_view name, std::string_view prefix) {
  if (name.size() < prefix.size() || name.substr(0, prefix.size()) != prefix) {
    return false;
  }
  return name.size() == prefix.size() || name[prefix.size()] == '/';
}

// "host:port" / "[v6]:port" -> the host alone, for the loopback check.
std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(':') == colon) {
    return host.substr(0, colon);
  }
  return host;
}

// ---- reading the YAML ------------------------------------------------------------------------

struct Reader {
  std::string file;
  std::vector<std::string> notes;

  std::string at(const YAML::Mark& mark) const {
    if (mark.is_null()) {
      return file;
    }
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  std::unexpected<util::Error> error(const YAML::Mark& mark, const std::string& field,
                                     const std::string& why) const {
    return util::fail(ErrorKind::invalid_input,
                      at(mark) + ": " + (field.empty() ? "" : field + ": ") + why);
  }
};

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Null:
    return "null";
  default:
    return "a scalar";
  }
}

// One `registries` entry as written, with where each field was.
struct Item {
  Endpoint endpoint;
  YAML::Mark mark;
  YAML::Mark prefix_mark;
  std::string field; // "registries[3]"
  bool has_name = false;
  bool has_api_url = false;
  std::optional<bool> is_default;
};

util::Result<std::string> string_value(const Reader& r, const YAML::Node& value,
                                       const std::string& field) {
  if (value.IsNull()) {
    return std::string();
  }
  if (!value.IsScalar()) {
    return r.error(value.Mark(), field, std::string("want a string, got ") + type_name(value));
  }
  return std::string(trim(value.Scalar()));
}

util::Result<bool> bool_value(const Reader& r, const YAML::Node& value, const std::string& field) {
  bool out = false;
  if (value.IsScalar() && value.Tag() != "!" && YAML::convert<bool>::decode(value, out)) {
    return out;
  }
  std::string got = value.IsScalar() ? "\"" + value.Scalar() + "\"" : type_name(value);
  return r.error(value.Mark(), field, "want a boolean (true/false, yes/no), got " + got);
}

util::Result<double> limit_value(const Reader& r, const YAML::Node& value,
                                 const std::string& field) {
  double out = 0;
  if (!value.IsScalar() || value.Tag() == "!" || !YAML::convert<double>::decode(value, out) ||
      !std::isfinite(out)) {
    std::string got = value.IsScalar() ? "\"" + value.Scalar() + "\"" : type_name(value);
    return r.error(value.Mark(), field,
                   "want requests per second (a number, 0 = unlimited), got " + got);
  }
  if (out < 0) {
    return r.error(value.Mark(), field,
                   "must not be negative (0 = unlimited), got " + value.Scalar());
  }
  return out;
}

util::Result<void> read_field(Reader& r, Item& item, const std::string& key,
                              const YAML::Node& key_node, const YAML::Node& value) {
  static const std::set<std::string, std::less<>> k_known{
      "name",     "api_url", "prefix",  "ping",      "credentials", "credsexpire", "tagsortmode",
      "insecure", "ca_file", "ca_data", "defaultns", "limit",       "default"};
  if (!k_known.contains(key)) {
    std::string why = "unknown field \"" + key +
                      "\" (want name, api_url, prefix, ping, credentials, credsexpire, "
                      "tagsortmode, insecure, ca_file, defaultns, limit or default)";
    if (key == "<<") {
      why = "YAML merge keys (\"<<\") are not supported";
    }
    return r.error(key_node.Mark(), item.field, why);
  }
  const std::string field = item.field + "." + key;
  const YAML::Mark mark = value.IsNull() ? key_node.Mark() : value.Mark();
  Endpoint& e = item.endpoint;

  if (key == "insecure" || key == "default" || key == "ping") {
    auto b = bool_value(r, value, field);
    if (!b) {
      return std::unexpected(b.error());
    }
    if (key == "insecure") {
      e.insecure = *b;
    } else if (key == "default") {
      item.is_default = *b;
    } else {
      r.notes.push_back(r.at(key_node.Mark()) + ": " + field +
                        ": accepted for compatibility and ignored");
    }
    return {};
  }
  if (key == "limit") {
    auto limit = limit_value(r, value, field);
    if (!limit) {
      return std::unexpected(limit.error());
    }
    e.rate_limit = *limit;
    return {};
  }

  auto text = string_value(r, value, field);
  if (!text) {
    return std::unexpected(text.error());
  }
  const std::string& s = *text;
  if (key == "name") {
    item.has_name = !s.empty();
    e.name = s;
  } else if (key == "api_url") {
    item.has_api_url = !s.empty();
    if (s.empty()) {
      return {};
    }
    auto url = http::parse_url(s);
    if (!url) {
      return r.error(mark, field, url.error().message);
    }
    if (!url->query.empty()) {
      return r.error(mark, field, "\"" + s + "\" must not have a query");
    }
    std::string api = s;
    while (api.size() > 1 && api.back() == '/') {
      api.pop_back();
    }
    e.api_url = api;
  } else if (key == "prefix") {
    item.prefix_mark = mark;
    if (s.find("://") != std::string::npos) {
      return r.error(mark, field,
                     "\"" + s +
                         "\" is an image name prefix (\"ghcr.io\", \"gcr.io/project\"), "
                         "not a URL");
    }
    if (std::any_of(s.begin(), s.end(),
                    [](unsigned char c) { return std::isspace(c) != 0 || c < 0x20; })) {
      return r.error(mark, field, "\"" + s + "\" must not contain spaces");
    }
    e.prefix = normalize_name(s);
  } else if (key == "credentials") {
    if (!s.empty()) {
      auto source = credentials::parse_source(s);
      if (!source) {
        return r.error(mark, field, source.error().message);
      }
    }
    e.credentials = s;
  } else if (key == "credsexpire") {
    if (s.empty()) {
      return {};
    }
    auto d = util::parse_go_duration(s);
    if (!d) {
      return r.error(mark, field,
                     d.error().message + " (a Go duration such as \"30m\" or \"12h\")");
    }
    if (d->count() < 0) {
      return r.error(mark, field, "\"" + s + "\" is negative");
    }
    // Whole seconds, rounded up, so a short expiry never becomes "no expiry".
    e.creds_expire = std::chrono::ceil<std::chrono::seconds>(*d);
  } else if (key == "tagsortmode") {
    const std::string mode = to_lower(s);
    if (mode.empty() || mode == "none") {
      e.tag_sort_mode = TagSortMode::none;
    } else if (mode == "latest-first") {
      e.tag_sort_mode = TagSortMode::latest_first;
    } else if (mode == "latest-last") {
      e.tag_sort_mode = TagSortMode::latest_last;
    } else {
      return r.error(mark, field,
                     "unknown tag sort mode \"" + s +
                         "\" (want none, latest-first or latest-last)");
    }
  } else if (key == "ca_file") {
    e.ca_file = s;
  } else if (key == "ca_data") {
    return r.error(key_node.Mark(), field,
                   "inline CA certificates are not supported; write the PEM to a file (for "
                   "example from a ConfigMap) and name it in ca_file");
  } else { // "defaultns"
    if (!s.empty() && (s.front() == '/' || s.back() == '/' ||
                       std::any_of(s.begin(), s.end(), [](unsigned char c) {
                         return std::isspace(c) != 0 || std::isupper(c) != 0;
                       }))) {
      return r.error(mark, field,
                     "\"" + s + "\" must be a lower-case repository path such as \"library\"");
    }
    e.default_ns = s;
  }
  return {};
}

util::Result<Item> read_item(Reader& r, const YAML::Node& node, std::size_t index) {
  Item item;
  item.mark = node.Mark();
  item.field = "registries[" + std::to_string(index) + "]";
  item.endpoint.rate_limit = k_default_rate_limit;
  if (!node.IsMap()) {
    return r.error(node.Mark(), item.field, std::string("want a mapping, got ") + type_name(node));
  }
  std::set<std::string> seen;
  // Copies, not references: yaml-cpp's iterator hands out temporaries.
  for (const auto& pair : node) {
    const YAML::Node key_node = pair.first;
    const YAML::Node value = pair.second;
    if (!key_node.IsScalar()) {
      return r.error(key_node.Mark(), item.field,
                     std::string("keys must be strings, got ") + type_name(key_node));
    }
    const std::string key = key_node.Scalar();
    if (!seen.insert(key).second) {
      return r.error(key_node.Mark(), item.field + "." + key, "given twice");
    }
    auto ok = read_field(r, item, key, key_node, value);
    if (!ok) {
      return std::unexpected(ok.error());
    }
  }
  if (!item.has_name) {
    return r.error(item.mark, item.field, "\"name\" is required");
  }
  const std::string named = item.field + " (" + item.endpoint.name + ")";
  if (!item.has_api_url) {
    return r.error(item.mark, named, "\"api_url\" is required");
  }
  if (item.endpoint.prefix.empty()) {
    if (item.is_default == false) {
      return r.error(item.mark, named,
                     "\"prefix\" is required unless this is the default registry "
                     "(default: false)");
    }
    item.endpoint.is_default = true;
  } else {
    item.endpoint.is_default = item.is_default.value_or(false);
  }
  return item;
}

util::Result<RegistriesConfig> read(Reader& r, const std::vector<YAML::Node>& docs) {
  if (docs.size() > 1) {
    return r.error(docs[1].Mark(), "", "more than one YAML document");
  }
  if (docs.empty() || docs[0].IsNull()) {
    return RegistriesConfig(std::vector<Endpoint>{}, {});
  }
  const YAML::Node& root = docs[0];
  if (!root.IsMap()) {
    return r.error(root.Mark(), "",
                   std::string("want a mapping with \"registries\", got ") + type_name(root));
  }
  YAML::Node list;
  std::set<std::string> seen;
  for (const auto& pair : root) {
    const YAML::Node key_node = pair.first;
    const std::string key = key_node.IsScalar() ? key_node.Scalar() : std::string();
    if (key != "registries") {
      return r.error(key_node.Mark(), "",
                     "unknown field \"" + key + "\" (the only top-level key is \"registries\")");
    }
    if (!seen.insert(key).second) {
      return r.error(key_node.Mark(), key, "given twice");
    }
    list = pair.second;
  }
  std::vector<Item> items;
  if (list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      return r.error(list.Mark(), "registries", std::string("want a list, got ") + type_name(list));
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto item = read_item(r, list[i], i);
      if (!item) {
        return std::unexpected(item.error());
      }
      items.push_back(std::move(*item));
    }
  }

  // Across entries: one default, one entry per prefix.
  const Item* default_item = nullptr;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    const std::string named = item.field + " (" + item.endpoint.name + ")";
    if (item.endpoint.is_default) {
      if (default_item != nullptr) {
        return r.error(item.mark, named,
                       "only one default registry is allowed (an entry without prefix, or "
                       "default: true), and " +
                           default_item->field + " (" + default_item->endpoint.name + ") at line " +
                           std::to_string(default_item->mark.line + 1) + " already is");
      }
      default_item = &item;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!item.endpoint.prefix.empty() && items[j].endpoint.prefix == item.endpoint.prefix) {
        return r.error(item.prefix_mark, named + ".prefix",
                       "\"" + item.endpoint.prefix + "\" is already the prefix of " +
                           items[j].field + " (" + items[j].endpoint.name + ") at line " +
                           std::to_string(items[j].mark.line + 1));
      }
    }
  }
  std::vector<Endpoint> endpoints;
  endpoints.reserve(items.size());
  for (auto& item : items) {
    endpoints.push_back(std::move(item.endpoint));
  }
  return RegistriesConfig(std::move(endpoints), std::move(r.notes));
}

} // namespace

Endpoint docker_hub_endpoint() {
  Endpoint e;
  e.name = "Docker Hub";
  e.prefix = std::string(k_docker_hub);
  e.api_url = "https://registry-1.docker.io";
  e.default_ns = "library";
  e.rate_limit = k_docker_hub_rate_limit;
  e.is_default = true;
  return e;
}

Endpoint inferred_endpoint(std::string_view host_in) {
  const std::string host = normalize_name(host_in);
  Endpoint e;
  e.name = host;
  e.prefix = host;
  e.api_url = (http::is_loopback(strip_port(host)) ? "http://" : "https://") + host;
  e.rate_limit = k_default_rate_limit;
  return e;
}

RegistriesConfig::RegistriesConfig() : RegistriesConfig(std::vector<Endpoint>{}, {}) {}

RegistriesConfig::RegistriesConfig(std::vector<Endpoint> configured, std::vector<std::string> notes)
    : m_endpoints(std::move(configured)), m_notes(std::move(notes)),
      m_docker_hub(docker_hub_endpoint()), m_inferred(std::make_shared<Inferred>()) {
  for (std::size_t i = 0; i < m_endpoints.size(); ++i) {
    Endpoint& e = m_endpoints[i];
    e.prefix = normalize_name(e.prefix);
    const auto index = static_cast<std::ptrdiff_t>(i);
    if (e.prefix.empty() && m_unprefixed < 0) {
      m_unprefixed = index;
    }
    if ((e.is_default || e.prefix.empty()) && m_default < 0) {
      m_default = index;
    }
  }
  // No configured default: an entry that replaces Docker Hub takes its place as the default.
  if (m_default < 0) {
    for (std::size_t i = 0; i < m_endpoints.size(); ++i) {
      if (m_endpoints[i].prefix == k_docker_hub) {
        m_default = static_cast<std::ptrdiff_t>(i);
        break;
      }
    }
  }
  for (std::size_t i = 0; i < m_endpoints.size(); ++i) {
    m_endpoints[i].is_default = static_cast<std::ptrdiff_t>(i) == m_default;
  }
  m_docker_hub.is_default = m_default < 0;
}

const Endpoint& RegistriesConfig::default_endpoint() const noexcept {
  return m_default >= 0 ? m_endpoints[static_cast<std::size_t>(m_default)] : m_docker_hub;
}

const Endpoint& RegistriesConfig::endpoint_for(std::string_view image_registry_host) const {
  const std::string name = normalize_name(image_registry_host);
  const std::string host = name.substr(0, name.find('/'));
  if (host.empty()) {
    return default_endpoint();
  }
  const Endpoint* best = nullptr;
  for (const auto& e : m_endpoints) {
    if (!e.prefix.empty() && serves(name, e.prefix) &&
        (best == nullptr || e.prefix.size() > best->prefix.size())) {
      best = &e;
    }
  }
  if (best != nullptr) {
    return *best;
  }
  if (host == k_docker_hub) {
    return m_unprefixed >= 0 ? m_endpoints[static_cast<std::size_t>(m_unprefixed)] : m_docker_hub;
  }
  std::lock_guard lock(m_inferred->mutex);
  auto& slot = m_inferred->by_host[host];
  if (!slot) {
    slot = std::make_unique<Endpoint>(inferred_endpoint(host));
  }
  return *slot;
}

util::Result<RegistriesConfig> parse_registries_conf(std::string_view yaml, std::string_view file) {
  Reader r;
  r.file = std::string(file);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
    return read(r, docs);
  } catch (const YAML::Exception& e) {
    return r.error(e.mark, "", "invalid YAML: " + e.msg);
  }
}

} // namespace common::registry
