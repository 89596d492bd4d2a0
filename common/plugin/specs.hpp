// Finding the ImageUpdater specs of an application directory (reads files).
#pragma once

#include <string>
#include <vector>

#include "common/spec/diagnostic.hpp"
#include "common/spec/model.hpp"
#include "common/util/error.hpp"

namespace common::plugin {

struct FoundSpecs {
  std::vector<spec::ImageUpdater> updaters; // every ImageUpdater read, in file then stream order
  std::vector<spec::Diagnostic> diagnostics;
  std::vector<std::string> files; // the files that held at least one ImageUpdater, relative
};

// With `named` empty: every document of kind ImageUpdater in the *.yaml, *.yml and *.json files
// directly in `dir` (not below), whatever the file's name, files in byte order. Otherwise the
// named files, relative to `dir` (or absolute), in the given order; a name whose last component
// holds '*', '?' or '[' is a glob over that directory's files (sorted; matching nothing is an
// error, as is a named file that does not exist). Files are read with the spec loader's bounds.
// Named files come from the application (untrusted): with `root` given (the canonical repository
// root), each must resolve, symlinks followed, inside it (an absolute name means relative to the
// root, as Argo CD reads absolute value file paths). `default_namespace` is what a bare secret
// name means in a spec without metadata.namespace (spec::parse_stream).
// Fails (not_found / invalid_input / too_large) naming the file; spec problems are diagnostics,
// not failures (the caller decides).
util::Result<FoundSpecs> find_specs(const std::string& dir, const std::vector<std::string>& named,
                                    const std::string& root = {},
                                    std::string_view default_namespace = {});

// Whether the text may hold an ImageUpdater (a cheap screen before parsing).
bool may_hold_updater(std::string_view text) noexcept;

} // namespace common::plugin
