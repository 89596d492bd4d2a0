#include "common/image/reference.hpp"

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "common/util/strings.hpp"

namespace common::image {
namespace {

using util::ErrorKind;

constexpr std::string_view k_default_registry = "docker.io";
constexpr std::string_view k_legacy_registry = "index.docker.io";
constexpr std::string_view k_official_prefix = "library/";
constexpr std::string_view k_localhost = "localhost";
constexpr std::size_t k_name_max = 255;
constexpr std::size_t k_tag_max = 128;
constexpr std::size_t k_digest_hex_min = 32;
// Error messages quote user input; a multi-kilobyte garbage string must not become a
// multi-kilobyte log line.
constexpr std::size_t k_quote_max = 200;

std::string quote_input(std::string_view s) {
  return util::quote(s, k_quote_max);
}

// The reason a reference was rejected, without the "invalid reference ..." prefix: the two
// public parsers wrap it differently.
using Parsed = std::expected<Reference, std::string>;

// Character classes by hand, not <cctype>: those depend on the locale and take int.
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_lower(char c) noexcept {
  return c >= 'a' && c <= 'z';
}
constexpr bool is_upper(char c) noexcept {
  return c >= 'A' && c <= 'Z';
}
constexpr bool is_lower_alnum(char c) noexcept {
  return is_lower(c) || is_digit(c);
}
constexpr bool is_alnum(char c) noexcept {
  return is_lower_alnum(c) || is_upper(c);
}
constexpr bool is_word(char c) noexcept {
  return is_alnum(c) || c == '_';
}
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_lower_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool has_upper(std::string_view s) noexcept {
  for (char c : s) {
    if (is_upper(c)) {
      return true;
    }
  }
  return false;
}

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool valid_path_component(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (true) {
    // One alphanumeric run is required here: at the start and after every separator.
    const std::size_t run = i;
    while (i < n && is_lower_alnum(s[i])) {
      ++i;
    }
    if (i == run) {
      return false;
    }
    if (i == n) {
      return true;
    }
    // A separator: one '.', one or two '_', or any number of '-'. Mixed separators ("-_", "._")
    // are not a separator.
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < n && s[i] == '_') {
        ++i;
      }
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-') {
        ++i;
      }
    } else {
      return false;
    }
  }
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view s) noexcept {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  for (char c : s) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// domain := ( domain-component ( "." domain-component )* | "[" [a-fA-F0-9:]+ "]" ) ( ":" [0-9]+ )?
bool valid_registry(std::string_view s) noexcept {
  std::string_view host = s;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) {
      return false;
    }
    for (char c : s.substr(1, close - 1)) {
      if (!is_hex(c) && c != ':') {
        return false;
      }
    }
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port = rest.substr(1);
      if (port.empty()) {
        return false;
      }
    }
    host = {};
  } else if (const std::size_t colon = s.find(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) {
      return false;
    }
  }
  for (char c : port) {
    if (!is_digit(c)) {
      return false;
    }
  }
  if (host.empty()) {
    // Either the bracketed IPv6 form (already checked) or an empty host before ':'.
    return !s.empty() && s.front() == '[';
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = host.find('.', start);
    if (!valid_domain_component(host.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; returns the reason or "".
std::string tag_problem(std::string_view tag) {
  if (tag.empty()) {
    return "empty tag after ':'";
  }
  if (tag.size() > k_tag_max) {
    return "tag " + quote_input(tag) + " is longer than 128 characters";
  }
  if (!is_word(tag.front())) {
    return "invalid tag " + quote_input(tag) + ": must start with a letter, digit or '_'";
  }
  for (char c : tag) {
    if (!is_word(c) && c != '.' && c != '-') {
      return "invalid tag " + quote_input(tag) +
             ": only letters, digits, '_', '.' and '-' are allowed";
    }
  }
  return {};
}

// digest := algorithm ":" hex, algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*,
// hex := [0-9a-fA-F]{32,}. The registered algorithms are held to their exact encoding (as
// go-digest does): lower-case hex of the hash's length. Returns the reason or "".
std::string digest_problem(std::string_view digest) {
  // Built only on failure: the success path runs for every image of every manifest.
  const auto bad = [digest] { return "invalid digest " + quote_input(digest); };
  const std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return bad() + ": expected algorithm:hex";
  }
  const std::string_view algorithm = digest.substr(0, colon);
  const std::string_view hex = digest.substr(colon + 1);
  bool component_start = true;
  for (char c : algorithm) {
    if (component_start) {
      if (!is_upper(c) && !is_lower(c)) {
        return bad() + ": malformed algorithm";
      }
      component_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      component_start = true;
    } else if (!is_alnum(c)) {
      return bad() + ": malformed algorithm";
    }
  }
  if (component_start) { // empty, or ends with a separator
    return bad() + ": malformed algorithm";
  }
  std::size_t exact = 0;
  if (algorithm == "sha256") {
    exact = 64;
  } else if (algorithm == "sha384") {
    exact = 96;
  } else if (algorithm == "sha512") {
    exact = 128;
  }
  if (exact != 0) {
    if (hex.size() != exact) {
      return bad() + ": " + std::string(algorithm) + " needs " + std::to_string(exact) +
             " hex digits";
    }
    for (char c : hex) {
      if (!is_lower_hex(c)) {
        return bad() + ": " + std::string(algorithm) + " needs lower-case hex digits";
      }
    }
    return {};
  }
  if (hex.size() < k_digest_hex_min) {
    return bad() + ": needs at least 32 hex digits";
  }
  for (char c : hex) {
    if (!is_hex(c)) {
      return bad() + ": not hex";
    }
  }
  return {};
}

// The repository path: '/'-separated path components, all lower case.
std::string path_problem(std::string_view path) {
  if (has_upper(path)) {
    // Checked before the grammar, as ParseNormalizedNamed does, so "Nginx" says what is wrong.
    return "repository name must be lowercase";
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const std::string_view component = path.substr(start, slash - start);
    if (component.empty()) {
      return path.size() == start && start == 0
                 ? std::string("repository name must have at least one component")
                 : "empty path component in " + quote_input(path);
    }
    if (!valid_path_component(component)) {
      return "invalid path component " + quote_input(component);
    }
    if (slash == std::string_view::npos) {
      return {};
    }
    start = slash + 1;
  }
}

bool is_identifier(std::string_view s) noexcept {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!is_lower_hex(c)) {
      return false;
    }
  }
  return true;
}

// The whole of ParseNormalizedNamed as one left-to-right pass: cut the digest at the first '@'
// (nothing before it may hold one), decide whether the first component is a registry, cut the
// tag at the first ':' of the remainder (a ':' before the first '/' is a port), then validate
// each part, the name first (its errors say most). Linear in the input, no backtracking.
Parsed parse(std::string_view text) {
  if (text.empty()) {
    return std::unexpected(std::string("empty reference"));
  }
  if (is_identifier(text)) {
    return std::unexpected(
        std::string("a 64-character hexadecimal string is an image ID, not a repository name"));
  }
  std::string_view head = text;
  std::string_view digest;
  const std::size_t at = text.find('@');
  if (at != std::string_view::npos) {
    head = text.substr(0, at);
    digest = text.substr(at + 1);
  }

  std::string_view registry = k_default_registry;
  std::string_view remainder = head;
  bool registry_by_case = false;
  if (const std::size_t slash = head.find('/'); slash != std::string_view::npos) {
    const std::string_view first = head.substr(0, slash);
    // distribution's splitDockerDomain: '.' or ':' (a host name, an IP, a port), "localhost",
    // or upper case (a namespace may not have it, so it can only be a host).
    const bool host_like =
        first == k_localhost || first.find_first_of(".:") != std::string_view::npos;
    registry_by_case = !host_like && has_upper(first);
    if (host_like || registry_by_case) {
      registry = first == k_legacy_registry ? k_default_registry : first;
      remainder = head.substr(slash + 1);
    }
  }

  std::string_view path = remainder;
  std::string_view tag;
  const std::size_t colon = remainder.find(':');
  if (colon != std::string_view::npos) {
    path = remainder.substr(0, colon);
    tag = remainder.substr(colon + 1);
  }

  if (std::string problem = path_problem(path); !problem.empty()) {
    return std::unexpected(std::move(problem));
  }
  if (!valid_registry(registry)) {
    if (registry_by_case) {
      // "Foo_bar/app" is no host either: distribution reports the case, and so do we.
      return std::unexpected(std::string("repository name must be lowercase"));
    }
    // Also where distribution would fall back to a registry-less name ("a__b.c/d"): every
    // Reference here has a registry, so such a name is refused instead.
    return std::unexpected("invalid registry " + quote_input(registry));
  }
  if (colon != std::string_view::npos) {
    if (std::string problem = tag_problem(tag); !problem.empty()) {
      return std::unexpected(std::move(problem));
    }
  }
  if (at != std::string_view::npos) {
    if (std::string problem = digest_problem(digest); !problem.empty()) {
      return std::unexpected(std::move(problem));
    }
  }

  Reference ref;
  ref.registry = registry;
  if (registry == k_default_registry && path.find('/') == std::string_view::npos) {
    ref.repository = k_official_prefix;
  }
  ref.repository += path;
  ref.tag = tag;
  ref.digest = digest;
  if (ref.registry.size() + 1 + ref.repository.size() > k_name_max) {
    return std::unexpected(std::string("repository name must not be more than 255 characters"));
  }
  return ref;
}

bool valid_alias(std::string_view s) noexcept {
  if (s.empty() || !is_alnum(s.front())) {
    return false;
  }
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '/') {
      return false;
    }
  }
  return true;
}

using util::trim;

} // namespace

std::string Reference::name() const {
  std::string out;
  out.reserve(registry.size() + 1 + repository.size());
  out += registry;
  out += '/';
  out += repository;
  return out;
}

std::string Reference::familiar_name() const {
  if (registry != k_default_registry) {
    return name();
  }
  // "library/" goes only when one component follows it (as distribution's familiarizeName):
  // "library/a/b" stays, since "a/b" would read back as docker.io/a/b.
  const std::string_view repo = repository;
  if (repo.starts_with(k_official_prefix)) {
    const std::string_view rest = repo.substr(k_official_prefix.size());
    // A 64-hex name would read back as an image ID, so it keeps "library/".
    if (rest.find('/') == std::string_view::npos && !is_identifier(rest)) {
      return std::string(rest);
    }
  }
  // A first component that would read as a registry ("foo.bar/app", "localhost/app") keeps the
  // registry, so the familiar name parses back to the same reference.
  const std::string_view first = repo.substr(0, repo.find('/'));
  if (first.size() < repo.size() &&
      (first == k_localhost || first.find('.') != std::string_view::npos)) {
    return name();
  }
  return repository;
}

std::string compose(std::string_view name, std::string_view tag, std::string_view digest) {
  std::string out;
  out.reserve(name.size() + tag.size() + digest.size() + 2);
  out += name;
  if (!tag.empty()) {
    out += ':';
    out += tag;
  }
  if (!digest.empty()) {
    out += '@';
    out += digest;
  }
  return out;
}

std::string Reference::to_string() const {
  return compose(name(), tag, digest);
}

util::Result<Reference> parse_reference(std::string_view text) {
  Parsed parsed = parse(text);
  if (!parsed) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid reference " + quote_input(text) + ": " + parsed.error());
  }
  return std::move(*parsed);
}

util::Result<ImageSpec> parse_image_spec(std::string_view text) {
  const std::string_view spec = trim(text);
  if (spec.empty()) {
    return util::fail(ErrorKind::invalid_input, "empty image spec");
  }

  // The alias ends at the first '=' only when that '=' comes before any ':'. A constraint
  // may hold '=' (">=1.0", "app:=1.2"), but it always follows a ':'; an alias never holds ':'.
  ImageSpec out;
  std::string_view image = spec;
  const std::size_t eq = spec.find('=');
  if (eq != std::string_view::npos && eq < spec.find(':')) {
    const std::string_view alias = spec.substr(0, eq);
    image = spec.substr(eq + 1);
    if (alias.empty()) {
      return util::fail(ErrorKind::invalid_input, "empty alias in image spec " + quote_input(spec));
    }
    if (!valid_alias(alias)) {
      return util::fail(ErrorKind::invalid_input, "invalid alias " + quote_input(alias) +
                                                      " in image spec " + quote_input(spec) +
                                                      ": must match [a-zA-Z0-9][a-zA-Z0-9-._/]*");
    }
    out.alias = alias;
  }
  if (image.empty()) {
    return util::fail(ErrorKind::invalid_input, "empty image in image spec " + quote_input(spec));
  }

  // The constraint starts at the first ':' after the last '/' of the name: a ':' before a
  // '/' is a registry port. A digest ("@algo:hex") is cut off first, its ':' is not one.
  const std::size_t at = image.find('@');
  const std::string_view head = image.substr(0, at);
  const std::size_t last_slash = head.rfind('/');
  const std::size_t colon =
      head.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
  std::string_view name = head;
  if (colon != std::string_view::npos) {
    name = head.substr(0, colon);
    const std::string_view constraint = trim(head.substr(colon + 1));
    if (constraint.empty()) {
      return util::fail(ErrorKind::invalid_input,
                        "empty constraint after ':' in image spec " + quote_input(spec));
    }
    out.constraint = constraint;
  }
  out.written = name;
  if (at != std::string_view::npos) {
    out.written += image.substr(at);
  }
  if (name.empty()) {
    return util::fail(ErrorKind::invalid_input, "empty image in image spec " + quote_input(spec));
  }

  Parsed parsed = parse(out.written);
  if (!parsed) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid image " + quote_input(out.written) + ": " + parsed.error());
  }
  if (!parsed->tag.empty()) {
    // Cannot happen: every ':' after the last '/' went to the constraint. Kept as a guard so a
    // future change to the split cannot hand out a tagged ref.
    return util::fail(ErrorKind::internal, "image " + quote_input(out.written) + " kept a tag");
  }
  out.ref = std::move(*parsed);
  if (out.alias.empty()) {
    out.alias = out.written;
  }
  return out;
}

} // namespace common::image
