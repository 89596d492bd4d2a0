// `imageupdater-cmp inject`: the injection engine on its own, for users and pipelines (like
// `kustomize edit set image`, for any manifests). Overrides: `--image REPO=NEWREF` (NEWREF a
// full reference, ":TAG", "@DIGEST" or ":TAG@DIGEST") and `--setter NS:NAME=IMAGE:TAG[@DIGEST]`
// (Flux `$imagepolicy` markers), any number of each.
//   stream:     stdin -> stdout, the stream with only the governed values changed;
//   directory:  --path DIR with --in-place (edit the files) or --out OUT (write the changed
//               files only, at the same relative paths, as Flux's updater does).
// `--changes FILE` writes the change record as JSON. Nothing is written unless every input was
// processed: on any error stdout stays empty and no file is touched. Exit 0 (also when nothing
// changed), 2 on bad arguments or bad input (every problem listed on stderr).
#pragma once

#include <string>
#include <vector>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct InjectArgs {
  std::vector<std::string> images;  // --image REPO=NEWREF
  std::vector<std::string> setters; // --setter NS:NAME=IMAGE:TAG[@DIGEST]
  std::string path;                 // --path DIR ("" = stream mode)
  bool in_place = false;            // --in-place
  std::string out;                  // --out DIR
  std::string changes;              // --changes FILE ("" = none)
};

int run_inject(const InjectArgs& args, const Io& io);

} // namespace argocd_cmp
