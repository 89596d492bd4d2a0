// Where a registry credential comes from: the credential source strings of argocd-image-updater
// (pull-secret annotations, registries.conf `credentials`) and of KubeSphere's ImageUpdater
// (`argo.secrets` values). Parsing only: no I/O (resolver.hpp reads them).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "common/util/error.hpp"

namespace common::credentials {

// `pullsecret:<ns>/<name>`: a Kubernetes secret of type kubernetes.io/dockerconfigjson; the
// credential is the `.dockerconfigjson` entry for the registry being accessed.
struct PullSecret {
  std::string ns;
  std::string name;
  friend bool operator==(const PullSecret&, const PullSecret&) = default;
};

// `secret:<ns>/<name>#<field>`: one field of a secret, holding "user:pass".
struct SecretField {
  std::string ns;
  std::string name;
  std::string field;
  friend bool operator==(const SecretField&, const SecretField&) = default;
};

// `env:<VAR>`: an environment variable holding "user:pass".
struct EnvVar {
  std::string name;
  friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

// `ext:<absolute path>`: a program run without arguments that prints "user:pass".
struct ExtScript {
  std::string path;
  friend bool operator==(const ExtScript&, const ExtScript&) = default;
};

struct Source {
  // The optional "<registry>=" prefix, as written ("" when none). A source with a registry
  // applies to that registry only (applies_to()).
  std::string registry;
  std::variant<PullSecret, SecretField, EnvVar, ExtScript> what;

  friend bool operator==(const Source&, const Source&) = default;
};

// Parses a credential source. Accepted forms, each optionally prefixed by "<registry>=":
//   pullsecret:<ns>/<name>        secret:<ns>/<name>#<field>
//   env:<VAR>                     ext:<absolute path>
//   <ns>/<name>  and  <name>      (KubeSphere: a pull secret)
// The kind is case-insensitive ("PullSecret:" works, as in the anchor). Space around the whole
// string is dropped. Where a namespace may be omitted (`<name>`, `pullsecret:<name>`,
// `secret:<name>#<field>`), `default_ns` is used; it is an error when `default_ns` is empty.
// A string starting with a known kind has no registry prefix, so "ext:/opt/a=b" is a script
// path; otherwise the text before the first '=' is the registry ("ghcr.io=pullsecret:ns/n",
// "host:5000=env:X").
// Checks: namespaces and names are Kubernetes names (lower-case alphanumerics, '-' and '.',
// namespace at most 63 and name at most 253 characters), a field is a secret key
// ([-._a-zA-Z0-9]+, not "." or ".."), a variable is [A-Za-z_][A-Za-z0-9_]*, a script path is
// absolute without "." or ".." components, a registry has no space, scheme ("://") or '='. These
// names become file paths in the resolver, so nothing can climb out of its directory.
// Fails (invalid_input) with a message that quotes the whole source string and says what is
// wrong. A source string holds no secret value, so quoting it is safe.
util::Result<Source> parse_source(std::string_view text, std::string_view default_ns = {});

// The canonical form ("pullsecret:ns/name", "ghcr.io=secret:ns/name#field", ...): parse_source()
// of it gives an equal Source. Used as a cache key and in messages.
std::string to_string(const Source& source);

// Whether a source may be used for `registry_host`: true when the source names no registry, or
// when both name the same registry after normalisation (scheme, path and trailing '/' dropped,
// case folded, the Docker Hub spellings docker.io / index.docker.io / registry-1.docker.io
// taken as one: see dockerconfig.hpp normalize_registry()).
bool applies_to(const Source& source, std::string_view registry_host);

} // namespace common::credentials
