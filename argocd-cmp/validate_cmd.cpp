#include "argocd-cmp/validate_cmd.hpp"

#include <algorithm>

#include "common/spec/diagnostic.hpp"
#include "common/spec/loader.hpp"
#include "common/util/file.hpp"

namespace argocd_cmp {

int run_validate(const ValidateArgs& args, const Io& io) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t updaters = 0;
  for (const auto& file : args.files) {
    auto text = file == "-" ? common::util::read_stream(io.in, "-") : common::util::read_file(file);
    if (!text) {
      // The message already names the file.
      std::fprintf(io.out, "%s: error: %s\n", file.c_str(), text.error().message.c_str());
      ++errors;
      continue;
    }
    auto loaded = common::spec::parse_stream(*text, file);
    updaters += loaded.updaters.size();
    for (const auto& d : loaded.diagnostics) {
      std::fprintf(io.out, "%s\n", common::spec::format(d).c_str());
      ++(d.severity == common::spec::Severity::error ? errors : warnings);
    }
  }
  std::fprintf(io.err, "%zu file(s), %zu ImageUpdater(s): %zu error(s), %zu warning(s)\n",
               args.files.size(), updaters, errors, warnings);
  return errors > 0 ? k_exit_usage : k_exit_ok;
}

} // namespace argocd_cmp
