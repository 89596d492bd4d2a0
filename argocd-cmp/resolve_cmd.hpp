// `imageupdater-cmp resolve -f SPEC.yaml... [-o table|json|yaml]`: for every image of every
// ImageUpdater in the files, the chosen tag, its digest, the strategy, the constraint and why
// (or the error). Exit 0 when every image resolved, 1 when any failed (the others are still
// printed), 2 on bad arguments or a spec with errors (diagnostics on stderr, nothing resolved).
#pragma once

#include <string>
#include <vector>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct ResolveArgs {
  std::vector<std::string> files;
  std::string output = "table"; // table | json | yaml
  std::string cache_dir;        // "" = IMAGEUPDATER_CACHE_DIR, else the user's cache dir
  std::string cache_ttl;        // "" = IMAGEUPDATER_CACHE_TTL, else 2m
  bool no_cache = false;        // no disk cache (answers are still shared within the process)
  std::string registries_conf;  // "" = IMAGEUPDATER_REGISTRIES_CONF, else built-in defaults
  std::string secrets_dir;      // "" = IMAGEUPDATER_SECRETS_DIR, else none
  std::string timeout;          // "" = IMAGEUPDATER_TIMEOUT, else 30s; "0" = none
  std::string parallel;         // "" = IMAGEUPDATER_PARALLEL, else 4: images resolved at once
};

int run_resolve(const ResolveArgs& args, const Io& io);

} // namespace argocd_cmp
