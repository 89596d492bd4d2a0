// Container image references, parsed and normalised by the Docker reference grammar
// (distribution/reference ParseNormalizedNamed), and the "[alias=]image[:constraint]" entries
// of an ImageUpdater's `images` list. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::image {

// A normalised reference. Docker Hub names are canonical: "nginx" becomes registry
// "docker.io", repository "library/nginx"; "docker.io/nginx" and "index.docker.io/nginx" too.
// A registry port is part of the registry ("127.0.0.1:5000", "[::1]:5000"). The first path
// component is a registry when it contains '.' or ':', is "localhost", or has upper case (the
// grammar's rule; a registry keeps its case). A name without '/' is never a registry:
// "localhost:5000" is docker.io/library/localhost with tag "5000", as in Docker.
struct Reference {
  std::string registry;   // "docker.io", "ghcr.io", "127.0.0.1:5000"
  std::string repository; // "library/nginx", "acme/app"
  std::string tag;        // "" when none
  std::string digest;     // "sha256:<64 hex>", "" when none

  // "registry/repository", the identity two references are matched on.
  std::string name() const;
  // The name as Docker users write it: "nginx" for docker.io/library/nginx,
  // "acme/app" for docker.io/acme/app, otherwise name(). It always parses back to the same
  // name: docker.io/foo.bar/app, docker.io/library/a/b and a 64-hex library name keep their
  // longer forms.
  std::string familiar_name() const;
  // name() plus ":tag" and "@digest" when present.
  std::string to_string() const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

// "name", plus ":tag" and "@digest" when they are not empty: how every reference is written.
std::string compose(std::string_view name, std::string_view tag, std::string_view digest);

// Parses a full reference "name[:tag][@digest]" (no surrounding space). Fails (invalid_input,
// "invalid reference \"<text>\": <reason>") on upper-case repository names ("repository name
// must be lowercase"), illegal characters, a tag not matching [A-Za-z0-9_][A-Za-z0-9._-]{0,127},
// a malformed digest, an empty name, a 64-hex image ID, or a normalised name() over 255
// characters. Digests follow the grammar (algorithm:hex, 32+ hex digits); sha256, sha384 and
// sha512 must have exactly 64, 96 or 128 lower-case hex digits. Where distribution would return
// a name without registry ("a__b.c/d"), this fails ("invalid registry").
// to_string() of the result parses back to an equal Reference.
util::Result<Reference> parse_reference(std::string_view text);

// One entry of ImageUpdater.spec.images: "[alias=]image[:constraint]".
// The part after the image name's ':' is a version constraint (or, for the digest strategy, the
// tag to track) and may hold characters no tag may ("nginx:^0.1", "app:>=1.0 <2",
// "127.0.0.1:5000/app:~1.2"). A registry port is recognised as such ("host:5000/app").
// "name@sha256:..." is accepted and kept as digest, also after a constraint
// ("name:1.2@sha256:...").
// Splitting: space around the entry and around the constraint is dropped. The first '=' ends
// the alias only when it comes before any ':' (a constraint may hold '=': "app:>=1.0",
// "app:=1.2"). The digest is cut at the first '@'. The constraint starts at the first ':' after
// the last '/' (a ':' before a '/' is a registry port; without a '/' the first ':' starts it,
// so "localhost:5000" is image "localhost" with constraint "5000").
struct ImageSpec {
  std::string alias;      // as written, or the image part as written when no alias is given
  std::string written;    // the image part exactly as written, without alias and constraint
                          // ("nginx", "ghcr.io/a/b@sha256:...")
  Reference ref;          // normalised; tag always empty
  std::string constraint; // "" when none
};

// Fails (invalid_input) on an empty entry, alias or image, an alias outside
// [a-zA-Z0-9][a-zA-Z0-9-._/]*, a ':' with no constraint after it, or an image name the grammar
// rejects ("invalid image \"Nginx\": repository name must be lowercase").
util::Result<ImageSpec> parse_image_spec(std::string_view text);

} // namespace common::image
