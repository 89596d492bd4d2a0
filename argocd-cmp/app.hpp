// imageupdater-cmp: verbs `policy` and `validate` (later `resolve`, `generate`, `discover`).
#pragma once

namespace argocd_cmp {

// Parses the command line, runs the verb and returns the process exit code. stdout carries only
// the verb's result; diagnostics go to stderr. Never throws.
int run(int argc, char** argv);

} // namespace argocd_cmp
