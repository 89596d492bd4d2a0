#include "common/credentials/source.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/credentials/dockerconfig.hpp"
#include "common/util/strings.hpp"

namespace common::credentials {

namespace {

using util::ErrorKind;

constexpr std::size_t k_max_namespace = 63;
constexpr std::size_t k_max_name = 253;
constexpr std::size_t k_max_field = 253;

using util::trim;

using util::starts_with_icase;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 1123 subdomain as Kubernetes checks object names: [a-z0-9]([-a-z0-9.]*[a-z0-9])?
bool is_k8s_name(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_lower_alnum(c) || c == '-' || c == '.'; });
}

// A secret data key: [-._a-zA-Z0-9]+, and not "." or ".." (it names a file).
bool is_secret_key(std::string_view s) {
  if (s.empty() || s.size() > k_max_field || s == "." || s == "..") {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
}

bool is_env_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// Absolute, no empty/"."/".." components, no NUL or control characters.
bool is_clean_absolute_path(std::string_view s) {
  if (s.size() < 2 || s.front() != '/' || s.back() == '/') {
    return false;
  }
  if (std::any_of(s.begin(), s.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return false;
  }
  std::size_t pos = 1;
  while (pos <= s.size()) {
    std::size_t next = s.find('/', pos);
    if (next == std::string_view::npos) {
      next = s.size();
    }
    std::string_view part = s.substr(pos, next - pos);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    pos = next + 1;
  }
  return true;
}

bool is_registry(std::string_view s) {
  if (s.empty() || s.find("://") != std::string_view::npos) {
    return false;
  }
  return std::none_of(s.begin(), s.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '=' ||
           static_cast<unsigned char>(c) < 0x20;
  });
}

std::unexpected<util::Error> bad(std::string_view text, const std::string& why) {
  return util::fail(ErrorKind::invalid_input,
                    "invalid credential source \"" + std::string(text) + "\": " + why);
}

// "<ns>/<name>" or "<name>" (namespace from default_ns).
util::Result<std::pair<std::string, std::string>>
parse_ns_name(std::string_view whole, std::string_view def, std::string_view default_ns) {
  std::string_view ns;
  std::string_view name;
  if (auto slash = def.find('/'); slash != std::string_view::npos) {
    ns = def.substr(0, slash);
    name = def.substr(slash + 1);
    if (ns.empty()) {
      return bad(whole, "empty namespace before '/'");
    }
    if (name.find('/') != std::string_view::npos) {
      return bad(whole, "want <namespace>/<name>, got more than one '/'");
    }
  } else {
    if (default_ns.empty()) {
      return bad(whole, "no namespace given (want <namespace>/<name>) and no default namespace");
    }
    ns = default_ns;
    name = def;
  }
  if (name.empty()) {
    return bad(whole, "empty secret name");
  }
  if (!is_k8s_name(ns, k_max_namespace)) {
    return bad(whole, "namespace \"" + std::string(ns) +
                          "\" is not a Kubernetes name (lower-case letters, digits, '-', '.')");
  }
  if (!is_k8s_name(name, k_max_name)) {
    return bad(whole, "secret name \"" + std::string(name) +
                          "\" is not a Kubernetes name (lower-case letters, digits, '-', '.')");
  }
  return std::pair{std::string(ns), std::string(name)};
}

struct Kind {
  std::string_view prefix; // lower case, with the ':'
  int index;
};

constexpr std::array<Kind, 4> k_kinds{{
    {"pullsecret:", 0},
    {"secret:", 1},
    {"env:", 2},
    {"ext:", 3},
}};

const Kind* find_kind(std::string_view s) {
  for (const auto& kind : k_kinds) {
    if (starts_with_icase(s, kind.prefix)) {
      return &kind;
    }
  }
  return nullptr;
}

} // namespace

util::Result<Source> parse_source(std::string_view text, std::string_view default_ns) {
  const std::string_view whole = trim(text);
  if (whole.empty()) {
    return bad(text, "empty");
  }
  Source source;
  std::string_view def = whole;
  const Kind* kind = find_kind(def);
  if (kind == nullptr) {
    if (auto eq = def.find('='); eq != std::string_view::npos) {
      std::string_view registry = def.substr(0, eq);
      if (!is_registry(registry)) {
        return bad(whole, "registry \"" + std::string(registry) +
                              "\" before '=' must be a host[:port] without scheme or space");
      }
      source.registry = std::string(registry);
      def = def.substr(eq + 1);
      if (def.empty()) {
        return bad(whole, "nothing after '='");
      }
      kind = find_kind(def);
    }
  }

  if (kind == nullptr) {
    // The KubeSphere dialect: a bare "<ns>/<name>" or "<name>" is a pull secret. Anything
    // with a ':' here is an unknown kind ("vault:...") rather than a strange secret name.
    if (auto colon = def.find(':'); colon != std::string_view::npos) {
      return bad(whole, "unknown kind \"" + std::string(def.substr(0, colon)) +
                            "\" (want pullsecret, secret, env or ext)");
    }
    auto ns_name = parse_ns_name(whole, def, default_ns);
    if (!ns_name) {
      return std::unexpected(ns_name.error());
    }
    source.what = PullSecret{std::move(ns_name->first), std::move(ns_name->second)};
    return source;
  }

  std::string_view rest = def.substr(kind->prefix.size());
  if (rest.empty()) {
    return bad(whole, "nothing after \"" + std::string(def.substr(0, kind->prefix.size())) + "\"");
  }
  switch (kind->index) {
  case 0: {
    auto ns_name = parse_ns_name(whole, rest, default_ns);
    if (!ns_name) {
      return std::unexpected(ns_name.error());
    }
    source.what = PullSecret{std::move(ns_name->first), std::move(ns_name->second)};
    break;
  }
  case 1: {
    auto hash = rest.find('#');
    if (hash == std::string_view::npos) {
      return bad(whole, "want secret:<namespace>/<name>#<field>, no '#<field>'");
    }
    std::string_view field = rest.substr(hash + 1);
    if (!is_secret_key(field)) {
      return bad(whole, "field \"" + std::string(field) +
                            "\" is not a secret key (letters, digits, '-', '_', '.')");
    }
    auto ns_name = parse_ns_name(whole, rest.substr(0, hash), default_ns);
    if (!ns_name) {
      return std::unexpected(ns_name.error());
    }
    source.what =
        SecretField{std::move(ns_name->first), std::move(ns_name->second), std::string(field)};
    break;
  }
  case 2:
    if (!is_env_name(rest)) {
      return bad(whole, "\"" + std::string(rest) +
                            "\" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    source.what = EnvVar{std::string(rest)};
    break;
  default:
    if (!is_clean_absolute_path(rest)) {
      return bad(whole, "script path \"" + std::string(rest) +
                            "\" must be absolute, without '.', '..' or empty components");
    }
    source.what = ExtScript{std::string(rest)};
    break;
  }
  return source;
}

std::string to_string(const Source& source) {
  std::string out = source.registry.empty() ? std::string() : source.registry + "=";
  if (const auto* p = std::get_if<PullSecret>(&source.what)) {
    out += "pullsecret:" + p->ns + "/" + p->name;
  } else if (const auto* s = std::get_if<SecretField>(&source.what)) {
    out += "secret:" + s->ns + "/" + s->name + "#" + s->field;
  } else if (const auto* e = std::get_if<EnvVar>(&source.what)) {
    out += "env:" + e->name;
  } else {
    out += "ext:" + std::get<ExtScript>(source.what).path;
  }
  return out;
}

bool applies_to(const Source& source, std::string_view registry_host) {
  if (source.registry.empty()) {
    return true;
  }
  return normalize_registry(source.registry) == normalize_registry(registry_host);
}

} // namespace common::credentials
