#include "argocd-cmp/inject_cmd.hpp"

#include <filesystem>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/log/logger.hpp"
#include "common/manifest/changes.hpp"
#include "common/manifest/overrides.hpp"
#include "common/manifest/rewrite.hpp"
#include "common/util/clock.hpp"
#include "common/util/dir.hpp"
#include "common/util/file.hpp"

namespace argocd_cmp {

namespace {

namespace manifest = common::manifest;
namespace util = common::util;

// Manifests may be large; this bounds memory, not usefulness (20 MB is 5,000 Deployments).
constexpr std::size_t k_max_input = std::size_t{1} << 30;

// The files Flux's updater considers: *.yaml, *.yml and files named exactly Kustomization.
bool is_manifest_file(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization";
}

int usage(const Io& io, const std::string& message) {
  std::fprintf(io.err, "imageupdater-cmp inject: %s\n", message.c_str());
  return k_exit_usage;
}

nlohmann::ordered_json to_json(const std::vector<manifest::FileChanges>& files) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& f : files) {
    nlohmann::ordered_json objects = nlohmann::ordered_json::array();
    for (const auto& o : f.objects) {
      nlohmann::ordered_json changes = nlohmann::ordered_json::array();
      for (const auto& c : o.changes) {
        changes.push_back({{"field", c.field},
                           {"line", c.line},
                           {"old", c.old_value},
                           {"new", c.new_value},
                           {"source", manifest::to_string(c.source)},
                           {"by", c.by}});
      }
      objects.push_back({{"apiVersion", o.object.api_version},
                         {"kind", o.object.kind},
                         {"namespace", o.object.namespace_name},
                         {"name", o.object.name},
                         {"changes", std::move(changes)}});
    }
    out.push_back({{"file", f.file}, {"objects", std::move(objects)}});
  }
  return out;
}

// Pieces of the output of a stream rewrite, kept until the whole stream is known to be good:
// ranges of the input by offset (no copy) and replacements by value.
class PendingOutput {
public:
  explicit PendingOutput(std::string_view input) : m_input(input) {}
  void add(std::string_view piece) {
    const auto begin = reinterpret_cast<std::uintptr_t>(m_input.data());
    const auto at = reinterpret_cast<std::uintptr_t>(piece.data());
    if (at >= begin && at + piece.size() <= begin + m_input.size()) {
      m_pieces.push_back({at - begin, piece.size(), std::string()});
    } else {
      m_pieces.push_back({0, 0, std::string(piece)});
    }
  }
  bool write(std::FILE* out) const {
    for (const auto& p : m_pieces) {
      const std::string_view s =
          p.owned.empty() ? m_input.substr(p.offset, p.size) : std::string_view(p.owned);
      if (!s.empty() && std::fwrite(s.data(), 1, s.size(), out) != s.size()) {
        return false;
      }
    }
    return std::fflush(out) == 0;
  }

private:
  struct Piece {
    std::size_t offset;
    std::size_t size;
    std::string owned;
  };
  std::string_view m_input;
  std::vector<Piece> m_pieces;
};

util::Result<void> write_changes(const std::string& path,
                                 const std::vector<manifest::FileChanges>& files) {
  return util::write_file_atomic(path, to_json(files).dump(2) + "\n");
}

int run_stream(const manifest::Rewriter& rewriter, const InjectArgs& args, const Io& io,
               common::log::Logger& log) {
  auto input = util::read_stream(io.in, "stdin", k_max_input);
  if (!input) {
    return usage(io, input.error().message);
  }
  PendingOutput pending(*input);
  auto changes = rewriter.rewrite_stream(*input, "<stdin>",
                                         [&](std::string_view piece) { pending.add(piece); });
  if (!changes) {
    return usage(io, changes.error().message + " (nothing was written)");
  }
  if (!args.changes.empty()) {
    if (auto w = write_changes(args.changes, {*changes}); !w) {
      return usage(io, "--changes: " + w.error().message + " (nothing was written)");
    }
  }
  if (!pending.write(io.out)) {
    std::fprintf(io.err, "imageupdater-cmp inject: cannot write stdout\n");
    return k_exit_failed;
  }
  log.info("inject: " + std::to_string(changes->count()) + " change(s)",
           {{"changes", changes->count()}});
  return k_exit_ok;
}

struct FileResult {
  util::ListedFile file;
  manifest::RewriteResult result;
};

int run_directory(const manifest::Rewriter& rewriter, const InjectArgs& args, const Io& io,
                  common::log::Logger& log) {
  util::ListOptions list_options;
  list_options.select = is_manifest_file;
  auto files = util::list_files(args.path, list_options);
  if (!files) {
    return usage(io, "--path: " + files.error().message);
  }
  // Only setters: like Flux, read only files that carry a marker token.
  const bool setters_only = rewriter.overrides().images.empty();
  std::vector<FileResult> changed;
  std::vector<std::string> errors;
  for (auto& f : *files) {
    if (!f.skipped.empty()) {
      log.warn("skipped: " + f.skipped, {{"file", f.relative}});
      continue;
    }
    auto text = util::read_file(f.path, k_max_input);
    if (!text) {
      errors.push_back(text.error().message);
      continue;
    }
    if (setters_only && text->find("\"$imagepolicy\"") == std::string::npos) {
      continue;
    }
    auto result = rewriter.rewrite(*text, f.relative);
    if (!result) {
      errors.push_back(result.error().message);
      continue;
    }
    if (result->changed()) {
      changed.push_back({std::move(f), std::move(*result)});
    }
  }
  if (!errors.empty()) {
    for (const auto& e : errors) {
      std::fprintf(io.err, "imageupdater-cmp inject: %s\n", e.c_str());
    }
    std::fprintf(io.err, "imageupdater-cmp inject: %zu file(s) with errors; nothing was written\n",
                 errors.size());
    return k_exit_usage;
  }
  std::vector<manifest::FileChanges> record;
  for (const auto& c : changed) {
    record.push_back(c.result.changes);
  }
  if (!args.changes.empty()) {
    if (auto w = write_changes(args.changes, record); !w) {
      return usage(io, "--changes: " + w.error().message + " (nothing was written)");
    }
  }
  for (const auto& c : changed) {
    std::string target;
    std::error_code ec;
    if (args.in_place) {
      // A symlink inside the tree: edit the file it points to, keep the link.
      target = std::filesystem::canonical(c.file.path, ec).string();
      if (ec) {
        target = c.file.path;
      }
    } else {
      const std::filesystem::path out = std::filesystem::path(args.out) / c.file.relative;
      std::filesystem::create_directories(out.parent_path(), ec);
      if (ec) {
        return usage(io,
                     "--out: cannot create " + out.parent_path().string() + ": " + ec.message());
      }
      target = out.string();
    }
    if (auto w = util::write_file_atomic(target, c.result.output); !w) {
      std::fprintf(io.err, "imageupdater-cmp inject: %s\n", w.error().message.c_str());
      return k_exit_failed;
    }
    log.info(std::to_string(c.result.changes.count()) + " change(s)",
             {{"file", c.file.relative}, {"changes", c.result.changes.count()}});
  }
  log.info("inject: " + std::to_string(changed.size()) + " file(s) changed",
           {{"files", changed.size()}});
  return k_exit_ok;
}

} // namespace

int run_inject(const InjectArgs& args, const Io& io) {
  manifest::Overrides overrides;
  for (const auto& arg : args.images) {
    auto parsed = manifest::parse_image_arg(arg);
    if (!parsed) {
      return usage(io, "--image: " + parsed.error().message);
    }
    overrides.images.push_back(std::move(*parsed));
  }
  for (const auto& arg : args.setters) {
    auto parsed = manifest::parse_setter_arg(arg);
    if (!parsed) {
      return usage(io, "--setter: " + parsed.error().message);
    }
    if (!overrides.setters.emplace(parsed->setter, parsed->value).second) {
      return usage(io, "--setter: \"" + parsed->setter + "\" is given twice");
    }
  }
  if (overrides.images.empty() && overrides.setters.empty()) {
    return usage(io, "nothing to inject: give --image and/or --setter");
  }
  if (args.path.empty() && (args.in_place || !args.out.empty())) {
    return usage(io, "--in-place and --out need --path");
  }
  if (!args.path.empty() && args.in_place == !args.out.empty()) {
    return usage(io, "--path needs exactly one of --in-place and --out");
  }
  auto rewriter = manifest::Rewriter::create(std::move(overrides));
  if (!rewriter) {
    return usage(io, rewriter.error().message);
  }
  common::util::SystemClock clock;
  common::log::Logger log(io.err, clock);
  return args.path.empty() ? run_stream(*rewriter, args, io, log)
                           : run_directory(*rewriter, args, io, log);
}

} // namespace argocd_cmp
