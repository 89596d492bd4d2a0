// The streams a verb reads and writes, passed in so verbs can be tested without a process.
#pragma once

#include <cstdio>

namespace argocd_cmp {

struct Io {
  std::FILE* in = stdin;   // tag lists, "-" files
  std::FILE* out = stdout; // the verb's result only
  std::FILE* err = stderr; // diagnostics, explanations, logs
};

// Process exit codes shared by every verb.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failed = 1; // the verb ran and the answer is "no" (no tag qualifies)
inline constexpr int k_exit_usage = 2;  // bad arguments or bad input

} // namespace argocd_cmp
