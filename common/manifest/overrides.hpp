// What to inject into manifests: image overrides keyed by repository (the `--image` form and
// the resolved images of an ImageUpdater), Flux setters keyed by "namespace:name" (the
// `$imagepolicy` markers), and where a governed image lives in Helm values. Also the parsing of
// the command-line forms `--image REPO=NEWREF` and `--setter NS:NAME=IMAGE:TAG[@DIGEST]`.
// Pure: no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/util/error.hpp"

namespace common::manifest {

// Where one governed image is written in a Helm values document, as argocd-image-updater's
// `helm.image-name`, `helm.image-tag` and `helm.image-spec` settings: dotted key paths from the
// document root with list indices ("image.repository", "image.tag", "images[0].tag",
// "spec"). An empty path is not set. When `spec` is set it wins and name/tag are ignored.
// The caller supplies defaults (argocd-image-updater's are image.name / image.tag); none are
// assumed here.
struct HelmPaths {
  std::string name;
  std::string tag;
  std::string spec;

  bool empty() const noexcept { return name.empty() && tag.empty() && spec.empty(); }
  friend bool operator==(const HelmPaths&, const HelmPaths&) = default;
};

// One governed image. `repository` is matched on its normalised name (image::Reference::name():
// "nginx" == "docker.io/nginx" == "docker.io/library/nginx"; a registry port is part of the
// name); it must be a name without tag or digest.
// The replacement follows Kustomize's image transformer (what `kustomize edit set image` and an
// `images:` entry do):
//   tag and digest  -> "name:tag@digest" (digest pinning)
//   tag only        -> "name:tag"        (a digest in the manifest is dropped)
//   digest only     -> "name@digest"     (a tag in the manifest is dropped)
//   neither         -> tag and digest kept (a rename only)
// `new_name` replaces the repository as written when its normalised name differs from the
// governed one; otherwise the manifest keeps its own spelling ("nginx" stays "nginx" when the
// override says docker.io/library/nginx).
struct ImageOverride {
  std::string repository;
  std::optional<std::string> new_name;
  std::optional<std::string> tag;    // without ':'
  std::optional<std::string> digest; // "sha256:<hex>", without '@'
  HelmPaths helm;                    // only for Helm values documents; may be empty
  // How change records name this override; empty means `repository`.
  std::string label;

  friend bool operator==(const ImageOverride&, const ImageOverride&) = default;
};

// A Flux ImagePolicy's latest image (status.latestRef): the four setters "S", "S:tag",
// "S:name" and "S:digest" (S = "namespace:name") write full(), tag, name and digest.
// `digest` may be empty; a ":digest" marker then writes an empty string, as Flux does.
struct SetterValue {
  std::string name; // as the policy's ImageRepository writes it, not normalised
  std::string tag;
  std::string digest;

  // "name:tag", plus "@digest" when there is one.
  std::string full() const;
  friend bool operator==(const SetterValue&, const SetterValue&) = default;
};

struct Overrides {
  std::vector<ImageOverride> images;
  std::map<std::string, SetterValue, std::less<>> setters; // key "namespace:name"
};

// A Helm path parsed: keys and list indices in order.
using HelmPathSegment = std::variant<std::string, std::size_t>;
// Parses "a.b[0].c" into {"a", "b", 0, "c"}. Fails (invalid_input, naming the path) on an
// empty path or key ("a..b", ".a", "a."), an unclosed or non-numeric index ("a[x]", "a[1"),
// or an index that does not follow a key or another index ("[0]").
util::Result<std::vector<HelmPathSegment>> parse_helm_path(std::string_view path);

// Checks one override: the repository is a valid name without tag or digest, `new_name` a
// valid name, `tag` a valid tag, `digest` a valid digest, every Helm path parses. Fails
// (invalid_input) with a message naming the override and the bad part.
util::Result<void> validate(const ImageOverride& override);

// Parses `--image REPO=NEWREF`. NEWREF is ":TAG", "@DIGEST", ":TAG@DIGEST" or a full reference
// "name[:tag][@digest]" (its name becomes new_name; a name alone renames and keeps tags).
// The result passes validate(). Fails (invalid_input) with a message that quotes the
// argument: no '=', an empty or invalid REPO, REPO with a tag or digest, an empty or invalid
// NEWREF.
util::Result<ImageOverride> parse_image_arg(std::string_view arg);

struct SetterArg {
  std::string setter; // "namespace:name"
  SetterValue value;
};

// Parses `--setter NS:NAME=IMAGE:TAG[@DIGEST]`: NS and NAME are non-empty and hold no ':',
// '=' or white space; IMAGE:TAG[@DIGEST] is a valid reference with a tag. The image part is kept
// as written. Fails (invalid_input) with a message that quotes the argument.
util::Result<SetterArg> parse_setter_arg(std::string_view arg);

} // namespace common::manifest
