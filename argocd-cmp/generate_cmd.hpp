// The Argo CD Config Management Plugin's commands, run by cmp-server in the application's
// directory with ARGOCD_APP_*, ARGOCD_ENV_*, ARGOCD_APP_PARAMETERS and PARAM_* set.
//
// `imageupdater-cmp generate`: finds the application's ImageUpdater specs, renders the directory
// (plain, Kustomize or Helm), resolves the images, injects them and writes ONLY the manifests
// to stdout, all at once at the end (never partial output). Settings: common/render/settings.hpp
// (`--help` lists them). Logs go to stderr, one `level=... msg=...` line each. Exit 0 on success
// (also with no ImageUpdater: the manifests pass through), 1 when rendering or resolving failed
// (a tool, a registry, an image without an acceptable tag), 2 on bad settings or specs.
//
// `imageupdater-cmp discover`: for discover.find.command. Prints the files holding an
// ImageUpdater for this application (kind argocd, this app or none named) and exits 0; prints
// nothing when there is none (cmp-server then does not match). Exit 1 when the directory cannot
// be read.
#pragma once

#include <string>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct GenerateArgs {
  std::string path = "."; // the application directory (cmp-server runs us inside it)
};

int run_generate(const GenerateArgs& args, const Io& io);
int run_discover(const GenerateArgs& args, const Io& io);

// The settings table for --help.
std::string settings_help();

} // namespace argocd_cmp
