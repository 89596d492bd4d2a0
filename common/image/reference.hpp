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
// A registry port is part of the registry ("127.0.0.1:5000"). The first path component is a
// registry when it contains '.' or ':' or is "localhost" (the grammar's rule).
struct Reference {
  std::string registry;   // "docker.io", "ghcr.io", "127.0.0.1:5000"
  std::string repository; // "library/nginx", "acme/app"
  std::string tag;        // "" when none
  std::string digest;     // "sha256:<64 hex>", "" when none

  // "registry/repository", the identity two references are matched on.
  std::string name() const;
  // The name as Docker users write it: "nginx" for docker.io/library/nginx,
  // "acme/app" for docker.io/acme/app, otherwise name().
  std::string familiar_name() const;
  // name() plus ":tag" and "@digest" when present.
  std::string to_string() const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

// Parses a full reference "name[:tag][@digest]". Fails (invalid_input, naming the bad part)
// on upper-case repository names, illegal characters, a tag not matching
// [A-Za-z0-9_][A-Za-z0-9._-]{0,127}, a malformed digest, an empty name or a name over 255
// characters.
util::Result<Reference> parse_reference(std::string_view text);

// One entry of ImageUpdater.spec.images: "[alias=]image[:constraint]".
// The part after the image name's ':' is a version constraint (or, for the digest strategy, the
// tag to track) and may hold characters no tag may ("nginx:^0.1", "app:>=1.0 <2",
// "127.0.0.1:5000/app:~1.2"). A registry port is recognised as such ("host:5000/app").
// "name@sha256:..." is accepted and kept as digest.
struct ImageSpec {
  std::string alias;      // as written, or the image part as written when no alias is given
  std::string written;    // the image part exactly as written (without alias and constraint)
  Reference ref;          // normalised; tag always empty
  std::string constraint; // "" when none
};

// Fails (invalid_input) on an empty alias or image, an alias outside
// [a-zA-Z0-9][a-zA-Z0-9-._/]*, or an image name the grammar rejects.
util::Result<ImageSpec> parse_image_spec(std::string_view text);

} // namespace common::image
