// The typed model of a `gitops.kubesphere.io/v1alpha1` ImageUpdater, whichever of the two
// spellings it was written in:
//   - the design proposal's: spec.kind (or spec.engine), spec.images, spec.argocd
//     {app{name,namespace}, write, update-strategy, allow-tags, ignore-tags, platforms, secret}
//     and spec.fluxcd {interval, secret, policy, filterTags, sourceRef, git, update};
//   - the one KubeSphere shipped (ks-devops pkg/api/gitops/v1alpha1): spec.kind, spec.images,
//     spec.argo {app{name}, write, updateStrategy, allowTags, ignoreTags, platforms, secrets}.
// Both become the same values here; `dialect` only remembers the spelling (field paths in
// diagnostics use the names as written). Pure data plus engine-agnostic accessors; no I/O.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/image/platform.hpp"
#include "common/image/reference.hpp"
#include "common/policy/policy.hpp"
#include "common/policy/strategy.hpp"

namespace common::spec {

// A place in the source text, 1-based; {0, 0} when unknown (a model built in code).
struct Location {
  int line = 0;
  int column = 0;
  friend bool operator==(const Location&, const Location&) = default;
};

enum class Engine { argocd, fluxcd };
// Which spelling the spec used for its Argo CD settings.
enum class Dialect {
  proposal,  // spec.argocd with kebab-case keys (the design proposal)
  kubesphere // spec.argo with camelCase keys (ks-devops as shipped)
};
enum class WriteMethod {
  argocd, // "built-in" (KubeSphere) or "argocd": patch the live Application
  git     // "git" or "git:<credentials>": commit to the Application's source repository
};

std::string_view to_string(Engine engine) noexcept;     // "argocd" | "fluxcd"
std::string_view to_string(WriteMethod write) noexcept; // "argocd" | "git"

// Where the updater came from. `fields` maps a field path as written
// ("spec.argocd.update-strategy.nginx", "spec.images[0]") to the location of its value.
struct Source {
  std::string file;
  int document = 0; // 0-based index in the YAML stream
  Location at;      // the document's root node
  std::map<std::string, Location, std::less<>> fields;

  // The location of a field's value; the document's location when the field is not recorded.
  Location find(std::string_view field) const;
};

struct Metadata {
  std::string name;
  std::string namespace_; // "" when not given
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  friend bool operator==(const Metadata&, const Metadata&) = default;
};

// One entry of spec.images, "[alias=]image[:constraint]".
struct ImageEntry {
  image::ImageSpec spec;
  std::string text;  // the entry as written, "myalias=some/image:~1.2"
  std::string field; // "spec.images[2]"
  Location at;       // the entry's scalar
};

struct AppRef {
  std::string name;
  std::string namespace_; // "" = the ImageUpdater's namespace (always so in the KubeSphere dialect)
  friend bool operator==(const AppRef&, const AppRef&) = default;
};

// Settings that apply to every image without a per-alias value. The proposal dialect gives one
// by writing a plain value instead of an alias map (`update-strategy: newest-build`); the
// KubeSphere dialect has none.
struct ArgoDefaults {
  std::optional<policy::Strategy> update_strategy;
  std::optional<std::string> allow_tags;
  std::optional<std::vector<std::string>> ignore_tags;
  std::optional<std::vector<image::Platform>> platforms;
  std::optional<std::string> secret;
  friend bool operator==(const ArgoDefaults&, const ArgoDefaults&) = default;
};

struct ArgoSettings {
  AppRef app;
  WriteMethod write = WriteMethod::argocd;
  std::string git_credentials; // the part after "git:" in "git:<credentials>", "" otherwise
  // Per image, keyed by alias (an entry for an alias not in `images` is kept, with a warning).
  std::map<std::string, policy::Strategy> update_strategy;
  // argocd-image-updater's allow-tags expression: "", "any" or "regexp:<RE2>". The
  // KubeSphere dialect's bare regexps get the "regexp:" prefix here.
  std::map<std::string, std::string> allow_tags;
  std::map<std::string, std::vector<std::string>> ignore_tags; // Go filepath.Match globs
  std::map<std::string, std::vector<image::Platform>> platforms;
  // Registry credentials in argocd-image-updater's grammar: "pullsecret:<ns>/<name>",
  // "secret:<ns>/<name>#<field>", "env:<VAR>", "ext:<path>". A bare Secret name ("regcred")
  // means a pull secret in the ImageUpdater's namespace ("default" when it has none);
  // the KubeSphere "ns/name" form is a pull secret.
  std::map<std::string, std::string> secrets;
  ArgoDefaults defaults;
  friend bool operator==(const ArgoSettings&, const ArgoSettings&) = default;
};

// A Go duration ("1m", "30s", "1h30m", "500ms") as written and as parsed.
struct Interval {
  std::string written;
  std::chrono::nanoseconds value{0};
  friend bool operator==(const Interval&, const Interval&) = default;
};

struct SemverPolicy {
  std::string range; // a Masterminds constraint, tags parsed the Flux way (three parts)
  friend bool operator==(const SemverPolicy&, const SemverPolicy&) = default;
};
struct AlphabeticalPolicy {
  policy::Order order = policy::Order::asc;
  friend bool operator==(const AlphabeticalPolicy&, const AlphabeticalPolicy&) = default;
};
struct NumericalPolicy {
  policy::Order order = policy::Order::asc;
  friend bool operator==(const NumericalPolicy&, const NumericalPolicy&) = default;
};
using FluxPolicy = std::variant<SemverPolicy, AlphabeticalPolicy, NumericalPolicy>;

struct FilterTags {
  std::string pattern; // RE2, unanchored
  std::string extract; // "$name" / "${1}" template, "" = the tag itself
  friend bool operator==(const FilterTags&, const FilterTags&) = default;
};

// The Git repository the automation commits to: a Flux GitRepository by name, or a URL.
struct SourceRef {
  std::string kind = "GitRepository";
  std::string name;
  std::string namespace_;
  std::string url;
  friend bool operator==(const SourceRef&, const SourceRef&) = default;
};

// Flux GitRepositoryRef; precedence commit > name > semver > tag > branch.
struct GitCheckoutRef {
  std::string branch;
  std::string tag;
  std::string semver;
  std::string name;
  std::string commit;
  friend bool operator==(const GitCheckoutRef&, const GitCheckoutRef&) = default;
};

struct GitAuthor {
  std::string name;
  std::string email;
  friend bool operator==(const GitAuthor&, const GitAuthor&) = default;
};

struct SigningKey {
  std::string secret_name; // signingKey.secretRef.name
  std::string type;        // "gpg" (default) | "ssh"
  friend bool operator==(const SigningKey&, const SigningKey&) = default;
};

struct GitCommit {
  GitAuthor author;
  std::string message_template; // Go text/template; "" = Flux's default message
  std::map<std::string, std::string> message_template_values;
  std::optional<SigningKey> signing_key;
  friend bool operator==(const GitCommit&, const GitCommit&) = default;
};

struct GitPush {
  std::string branch;  // "" = the checkout branch
  std::string refspec; // "" = none
  friend bool operator==(const GitPush&, const GitPush&) = default;
};

struct GitSettings {
  std::optional<GitCheckoutRef> checkout;
  GitCommit commit;
  GitPush push;
  friend bool operator==(const GitSettings&, const GitSettings&) = default;
};

struct UpdateSettings {
  std::string path;                 // "" = the repository root
  std::string strategy = "Setters"; // the only strategy Flux has
  friend bool operator==(const UpdateSettings&, const UpdateSettings&) = default;
};

struct FluxSettings {
  Interval interval;
  std::string secret; // a docker-registry Secret in the ImageUpdater's namespace, "" = none
  std::optional<FluxPolicy> policy;
  std::optional<FilterTags> filter_tags;
  std::optional<SourceRef> source_ref;
  std::optional<GitSettings> git;
  UpdateSettings update;
  friend bool operator==(const FluxSettings&, const FluxSettings&) = default;
};

struct ImageUpdater {
  Metadata metadata;
  // spec.kind (or spec.engine). When neither is written: fluxcd if only spec.fluxcd is given,
  // else argocd (KubeSphere's default).
  Engine kind = Engine::argocd;
  Dialect dialect = Dialect::proposal;
  // spec.suspend (Flux's convention): the controller leaves a suspended object alone (no
  // resolution, no publication, status kept) until it is resumed.
  bool suspend = false;
  std::vector<ImageEntry> images;
  std::optional<ArgoSettings> argocd;
  std::optional<FluxSettings> fluxcd;
  Source source;
};

// Everything a resolver needs for one image, whichever engine the updater names.
struct ImageSettings {
  policy::Options policy;
  std::vector<image::Platform> platforms; // empty = the resolver's own platform
  std::string credentials;                // ArgoSettings::secrets grammar, "" = anonymous
};

// The effective settings of `entry` (one of `updater.images`):
//   argocd: per-alias value, else the app-wide default, else the anchors' default (semver,
//     allow all, ignore none). The constraint is the entry's constraint for semver and digest
//     (the tag to track), "" for strategies that ignore it. Dialect masterminds.
//   fluxcd: the policy (semver range with dialect flux, or alphabetical/numerical order) and
//     filterTags; the entry's own constraint is ignored. Credentials are
//     "pullsecret:<ns>/<secret>" when a secret is set.
// Never fails: validation has reported what could not be honoured.
ImageSettings image_settings(const ImageUpdater& updater, const ImageEntry& entry);

// image_settings(updater, entry).policy.
policy::Options policy_options(const ImageUpdater& updater, const ImageEntry& entry);

} // namespace common::spec
