// The Argo CD Config Management Plugin's commands, run by cmp-server in the application's
// directory with ARGOCD_APP_*, ARGOCD_ENV_*, ARGOCD_APP_PARAMETERS and PARAM_* set.
//
// `imageupdater-cmp generate`: finds the application's ImageUpdater specs, renders the directory
// (plain with Jsonnet, Kustomize or Helm, as Argo CD's own source types do), resolves the images,
// injects them and writes ONLY the manifests to stdout, all at once at the end (never partial
// output). Settings: common/render/settings.hpp (`--help` lists them). Logs go to stderr, one
// logfmt event per line. Exit 0 on success (also with no ImageUpdater: the manifests pass
// through); 1 when rendering, resolving or injecting failed (a tool, a registry, an image without
// an acceptable tag, zero manifests without allow-empty, an unmatched image under strict); 2 on
// bad settings, specs or repository content refused before rendering (an operator setting given
// by the Application, a path or symlink leaving the repository, a secret of another namespace).
//
// `imageupdater-cmp discover`: for discover.find.command. Prints the files holding an
// ImageUpdater for this application (kind argocd, this app or none named) and exits 0; prints
// nothing when there is none (cmp-server then does not match). Exit 1 when the directory or the
// settings cannot be read.
//
// `imageupdater-cmp jsonnet-eval` (internal): evaluates the render::JsonnetJob read as JSON on
// stdin and prints the JSON result; the renderer runs it as a child it can kill at a deadline.
#pragma once

#include <string>

#include "argocd-cmp/io.hpp"

namespace argocd_cmp {

struct GenerateArgs {
  std::string path = "."; // the application directory (cmp-server runs us inside it)
};

int run_generate(const GenerateArgs& args, const Io& io);
int run_discover(const GenerateArgs& args, const Io& io);
int run_jsonnet_eval(const Io& io);

// The settings table for --help.
std::string settings_help();

} // namespace argocd_cmp
