// Keeping an application's render inside its own repository. Everything in an application's
// repository and in its plugin parameters is written by an app team; the sidecar that renders it
// also holds the platform's mounted secrets. So every file an application setting names (values
// files, spec files, Jsonnet libraries and imports) must resolve, symlinks followed, inside the
// repository root, and a repository holding a symlink that leaves it is refused before any tool
// reads it (as Argo CD's repo-server does for its own source types).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::render {

// The repository root of an application directory. cmp-server runs the plugin in
// <root>/<ARGOCD_APP_SOURCE_PATH>; `source_path` is that relative path ("" or "." when the app is
// the repository root, and when it is unknown: then the app directory is the root). Returns the
// canonical root. Fails (invalid_input) when `source_path` is absolute or holds "..", or when the
// app directory does not end with it; not_found when the directory does not exist.
util::Result<std::string> repository_root(const std::string& app_dir, std::string_view source_path);

// The canonical path of `path` (relative to `base`, or absolute meaning relative to `root`, as
// Argo CD reads absolute value file paths), symlinks followed, when it exists and lies inside
// `root` (canonical). `what` names the setting in messages ("helm-values-files"). Fails with
// not_found (no such file, naming it as given) or invalid_input (outside the repository, naming
// it and where it leads relative to nothing secret: only "outside the repository").
util::Result<std::string> resolve_inside(const std::string& root, const std::string& base,
                                         std::string_view path, std::string_view what);

// Whether canonical `path` is `root` or below it (both canonical).
bool is_within(std::string_view root, std::string_view path) noexcept;

// Walks `root` (canonical; `.git` skipped) and fails (invalid_input) at the first symlink, in
// sorted order, whose target resolves outside `root` (or would, for a dangling one), naming the
// link relative to the root. Bounded: more than `max_entries` entries is too_large.
util::Result<void> check_symlinks(const std::string& root, std::size_t max_entries = 200'000);

} // namespace common::render
