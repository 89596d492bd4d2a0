#include "common/auth/tokens.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/util/sha256.hpp"
#include "common/util/strings.hpp"

namespace common::auth {

namespace {

using util::ErrorKind;

constexpr std::size_t k_min_token_length = 16;

std::string where(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null()) {
    return origin;
  }
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Collects every problem of the file, so one run shows them all.
struct Checker {
  const std::string& origin;
  std::vector<std::string> problems;

  void add(const YAML::Node& node, const std::string& field, const std::string& why) {
    problems.push_back(where(origin, node.Mark()) + ": " + field + ": " + why);
  }

  // A scalar string, or "" after recording why not.
  std::string scalar(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) {
      add(node, field, "want a string");
      return "";
    }
    return node.Scalar();
  }
};

std::optional<Grant> read_grant(Checker& c, const YAML::Node& item, const std::string& field,
                                std::string& hash) {
  if (!item.IsMap()) {
    c.add(item, field, "want a mapping with name, token (or sha256), namespaces and access");
    return std::nullopt;
  }
  const std::size_t before = c.problems.size();
  Grant grant;
  bool has_token = false;
  bool has_hash = false;
  bool has_namespaces = false;
  for (const auto& entry : item) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    const YAML::Node& value = entry.second;
    const std::string path = field + "." + key;
    if (key == "name") {
      grant.name = c.scalar(value, path);
    } else if (key == "token") {
      has_token = true;
      const std::string token = c.scalar(value, path);
      if (token.size() < k_min_token_length) {
        // The value itself is never echoed: it is a secret even when it is a bad one.
        c.add(value, path,
              "a token must have at least " + std::to_string(k_min_token_length) + " characters");
      } else if (token.find_first_of(" \t\r\n") != std::string::npos) {
        c.add(value, path, "a token must not contain white space");
      }
      hash = util::sha256_hex(token);
    } else if (key == "sha256") {
      has_hash = true;
      hash = util::to_lower(c.scalar(value, path));
      if (!is_hex64(hash)) {
        c.add(value, path, "want 64 hexadecimal digits (the SHA-256 of the token)");
      }
    } else if (key == "namespaces") {
      has_namespaces = true;
      if (!value.IsSequence() || value.size() == 0) {
        c.add(value, path, "want a non-empty list of namespaces (\"*\" = all)");
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string ns = c.scalar(value[i], path + "[" + std::to_string(i) + "]");
        if (ns != "*" && !is_label(ns)) {
          c.add(value[i], path + "[" + std::to_string(i) + "]",
                util::quote(ns) + " is neither \"*\" nor a namespace name (DNS-1123 label)");
        }
        grant.namespaces.push_back(ns);
      }
    } else if (key == "access") {
      const std::string access = c.scalar(value, path);
      if (access == "read") {
        grant.access = Access::read;
      } else if (access == "write") {
        grant.access = Access::write;
      } else {
        c.add(value, path, util::quote(access) + " is not one of read, write");
      }
    } else {
      c.add(entry.first, field,
            "unknown field " + util::quote(key) +
                " (want name, token, sha256, namespaces, access)");
    }
  }
  if (grant.name.empty()) {
    c.add(item, field + ".name", "required");
  }
  if (has_token == has_hash) {
    c.add(item, field,
          has_token ? "give token or sha256, not both" : "token or sha256 is required");
  }
  if (!has_namespaces) {
    c.add(item, field + ".namespaces", "required (\"*\" = all namespaces)");
  }
  if (c.problems.size() != before) {
    return std::nullopt;
  }
  std::sort(grant.namespaces.begin(), grant.namespaces.end());
  grant.namespaces.erase(std::unique(grant.namespaces.begin(), grant.namespaces.end()),
                         grant.namespaces.end());
  return grant;
}

} // namespace

util::Result<TokenAuthenticator> TokenAuthenticator::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return util::fail(ErrorKind::not_found, "cannot read token file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

util::Result<TokenAuthenticator> TokenAuthenticator::parse(std::string_view text,
                                                           const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return util::fail(ErrorKind::invalid_input, where(origin, e.mark) + ": " + e.msg);
  }
  Checker c{origin, {}};
  TokenAuthenticator out;
  try {
    const YAML::Node tokens = root.IsMap() ? root["tokens"] : YAML::Node();
    if (!tokens.IsSequence()) {
      const YAML::Mark at = tokens.IsDefined() && !tokens.IsNull() ? tokens.Mark() : root.Mark();
      return util::fail(ErrorKind::invalid_input,
                        where(origin, at) + ": tokens: want a list of tokens");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string field = "tokens[" + std::to_string(i) + "]";
      std::string hash;
      auto grant = read_grant(c, tokens[i], field, hash);
      if (!grant) {
        continue;
      }
      if (!names.insert(grant->name).second) {
        c.add(tokens[i], field + ".name", util::quote(grant->name) + " is given twice");
        continue;
      }
      if (out.m_by_hash.contains(hash)) {
        c.add(tokens[i], field,
              "the same token is given twice (also for " + util::quote(out.m_by_hash[hash].name) +
                  ")");
        continue;
      }
      out.m_by_hash.emplace(hash, std::move(*grant));
    }
  } catch (const YAML::Exception& e) {
    c.problems.push_back(where(origin, e.mark) + ": " + e.msg);
  }
  if (!c.problems.empty()) {
    std::string message = c.problems.front();
    for (std::size_t i = 1; i < c.problems.size(); ++i) {
      message += "\n" + c.problems[i];
    }
    return util::fail(ErrorKind::invalid_input, message);
  }
  return out;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size() ||
      util::to_lower(authorization.substr(0, scheme.size())) != scheme) {
    return std::nullopt;
  }
  return util::trim(authorization.substr(scheme.size()));
}

Decision TokenAuthenticator::check(std::string_view authorization, std::string_view namespace_,
                                   bool write) const {
  Decision d;
  if (authorization.empty()) {
    d.message = "authentication required: send Authorization: Bearer <token>";
    return d;
  }
  const std::optional<std::string_view> token = bearer_token(authorization);
  if (!token) {
    d.message = "the Authorization header is not a bearer token";
    return d;
  }
  const auto it = m_by_hash.find(util::sha256_hex(*token));
  if (it == m_by_hash.end()) {
    d.message = "invalid bearer token";
    return d;
  }
  const Grant& grant = it->second;
  d.principal = grant.name;
  const bool everywhere = std::binary_search(grant.namespaces.begin(), grant.namespaces.end(), "*");
  const bool in_namespace =
      everywhere || (!namespace_.empty() && std::binary_search(grant.namespaces.begin(),
                                                               grant.namespaces.end(), namespace_));
  const std::string scope =
      namespace_.empty() ? std::string("all namespaces") : "namespace " + std::string(namespace_);
  if (!in_namespace) {
    d.outcome = Decision::Outcome::forbidden;
    d.message = "token " + util::quote(grant.name) + " may not access " + scope;
    return d;
  }
  if (write && grant.access != Access::write) {
    d.outcome = Decision::Outcome::forbidden;
    d.message = "token " + util::quote(grant.name) + " may read but not change " + scope;
    return d;
  }
  d.outcome = Decision::Outcome::allowed;
  return d;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") {
    return true;
  }
  // 127.0.0.0/8 written as a dotted quad.
  return host.starts_with("127.") && std::count(host.begin(), host.end(), '.') == 3 &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

} // namespace common::auth
