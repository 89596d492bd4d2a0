// Where a fluxcd ImageUpdater's manifests come from: a Git repository (spec.fluxcd.sourceRef.url
// with spec.fluxcd.git.checkout.ref, through common/gitsource) or a local directory
// (sourceRef.url "file:///abs/dir", allowed only under the service's --source-root
// directories), read at spec.fluxcd.update.path. Behind an interface so the reconciler is tested
// with fakes.
//
// Git credentials come from a mounted Secret, as Flux's GitRepository secretRef would hold them:
// the ImageUpdater's annotation k_git_secret_annotation names a Secret of its namespace, read
// from <secrets_dir>/<namespace>/<secret>/<key> with Flux's keys: username + password (https
// basic), bearerToken, identity (+ known_hosts, for ssh), ca.crt (an extra CA for https).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/model.hpp"
#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::generator {

inline constexpr std::string_view k_git_secret_annotation = "imageupdater.kubesphere.io/git-secret";

struct Fetched {
  std::string url;      // the source as shown in status (never with credentials)
  std::string revision; // "main@sha1:<commit>" (git), "sha256:<tree digest>" (a directory)
  util::Tree files;     // under update.path, paths relative to it, sorted
  std::vector<std::string> warnings; // skipped entries (symlinks, submodules), one line each
  // The source is still at the `known_revision` given to fetch(): `files` was not read.
  bool unchanged = false;
};

class Sources {
public:
  virtual ~Sources() = default;
  // The files of `updater`'s source. invalid_input for a spec this cannot serve (no url, a
  // file:// outside the roots, a bad secret), auth, not_found, transient, too_large as the
  // source says; messages name the URL without credentials.
  // `known_revision` (a revision an earlier fetch returned, "" = none): when the source is still
  // there, a git source answers without reading the files (Fetched::unchanged); a directory is
  // always read (its revision is the digest of its files).
  virtual util::Result<Fetched> fetch(const spec::ImageUpdater& updater,
                                      const std::string& known_revision) = 0;
};

struct SourceSettings {
  std::string git_cache_dir;            // the mirrors (DATA/git)
  std::string secrets_dir;              // mounted Secrets; "" = none
  // Where file:// sources may read, per namespace: "DIR" lets namespace NS read DIR/NS/ only;
  // "NS=DIR" lets namespace NS read DIR. A source of another namespace's directory is refused.
  std::vector<std::string> local_roots;
  std::chrono::milliseconds timeout{60'000};
};

// The real sources (thread-safe).
std::unique_ptr<Sources> make_sources(SourceSettings settings);

// "sha256:<hex>" over the paths, modes and contents of `files` (sorted): a directory's revision.
std::string tree_revision(const util::Tree& files);

} // namespace common::generator
