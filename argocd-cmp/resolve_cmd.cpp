#include "argocd-cmp/resolve_cmd.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "argocd-cmp/registry_run.hpp"
#include "common/log/logger.hpp"
#include "common/resolve/resolver.hpp"
#include "common/spec/loader.hpp"
#include "common/util/clock.hpp"
#include "common/util/duration.hpp"
#include "common/util/file.hpp"

namespace argocd_cmp {

namespace {

using common::resolve::ImageResult;

std::string env_or(const std::string& flag, const char* var, std::string fallback) {
  if (!flag.empty()) {
    return flag;
  }
  const char* v = std::getenv(var);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

// 1..64 registry requests at once.
common::util::Result<std::size_t> parse_jobs(const std::string& text) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > 64) {
    return common::util::fail(common::util::ErrorKind::invalid_input,
                              "\"" + text + "\" is not a number from 1 to 64");
  }
  return n;
}

std::string short_digest(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(0, 19) : digest;
}

void print_table(const std::vector<ImageResult>& results, std::FILE* out) {
  const char* headers[] = {"UPDATER", "ALIAS", "IMAGE", "STRATEGY", "CONSTRAINT", "TAG", "DIGEST"};
  std::vector<std::array<std::string, 7>> rows;
  for (const auto& r : results) {
    rows.push_back({r.updater, r.alias, r.image, r.strategy,
                    r.constraint.empty() ? "-" : r.constraint, r.tag.empty() ? "-" : r.tag,
                    r.digest.empty() ? "-" : short_digest(r.digest)});
  }
  std::array<std::size_t, 7> width{};
  for (std::size_t c = 0; c < 7; ++c) {
    width[c] = std::string_view(headers[c]).size();
    for (const auto& row : rows) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  for (std::size_t c = 0; c < 7; ++c) {
    std::fprintf(out, "%-*s  ", static_cast<int>(width[c]), headers[c]);
  }
  std::fprintf(out, "STATUS\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < 7; ++c) {
      std::fprintf(out, "%-*s  ", static_cast<int>(width[c]), rows[i][c].c_str());
    }
    const auto& r = results[i];
    std::fprintf(out, "%s\n", r.error ? ("error: " + r.error->message).c_str() : r.reason.c_str());
  }
}

nlohmann::ordered_json to_json(const ImageResult& r) {
  nlohmann::ordered_json j;
  j["updater"] = r.updater;
  j["alias"] = r.alias;
  j["image"] = r.image;
  j["repository"] = r.repository;
  j["strategy"] = r.strategy;
  j["constraint"] = r.constraint;
  j["tag"] = r.tag;
  j["digest"] = r.digest;
  // The message only: the key set is the documented output (the kind is not part of it).
  j["error"] = r.error ? nlohmann::ordered_json(r.error->message) : nlohmann::ordered_json(nullptr);
  j["reason"] = r.reason;
  j["warnings"] = r.warnings;
  return j;
}

// YAML through JSON's string escapes, which YAML's double-quoted scalars accept.
void print_yaml(const std::vector<ImageResult>& results, std::FILE* out) {
  if (results.empty()) {
    std::fprintf(out, "[]\n");
    return;
  }
  for (const auto& r : results) {
    const nlohmann::ordered_json j = to_json(r);
    bool first = true;
    for (auto it = j.cbegin(); it != j.cend(); ++it) {
      std::fprintf(out, "%s%s: %s\n", first ? "- " : "  ", it.key().c_str(), it->dump().c_str());
      first = false;
    }
  }
}

int fail(const Io& io, const std::string& message) {
  std::fprintf(io.err, "imageupdater-cmp resolve: error: %s\n", message.c_str());
  return k_exit_usage;
}

} // namespace

int run_resolve(const ResolveArgs& args, const Io& io) {
  if (args.output != "table" && args.output != "json" && args.output != "yaml") {
    return fail(io, "-o: unknown output format \"" + args.output + "\" (valid: table, json, yaml)");
  }
  auto ttl =
      common::util::parse_go_duration(env_or(args.cache_ttl, "IMAGEUPDATER_CACHE_TTL", "2m"));
  if (!ttl || ttl->count() < 0) {
    return fail(io, "--cache-ttl: " +
                        (ttl ? std::string("must not be negative") : ttl.error().message));
  }

  // Read and validate every spec first: nothing is resolved for a spec with errors.
  std::vector<common::spec::ImageUpdater> updaters;
  bool spec_errors = false;
  for (const auto& file : args.files) {
    auto text = file == "-" ? common::util::read_stream(io.in, "-") : common::util::read_file(file);
    if (!text) {
      return fail(io, text.error().message);
    }
    auto loaded = common::spec::parse_stream(*text, file);
    for (const auto& d : loaded.diagnostics) {
      std::fprintf(io.err, "%s\n", common::spec::format(d).c_str());
    }
    spec_errors = spec_errors || common::spec::has_errors(loaded.diagnostics);
    for (auto& u : loaded.updaters) {
      updaters.push_back(std::move(u));
    }
  }
  if (spec_errors) {
    return fail(io, "the specs have errors (listed above); nothing was resolved");
  }

  RegistryRun run;
  run.registries_conf = env_or(args.registries_conf, "IMAGEUPDATER_REGISTRIES_CONF", "");
  run.secrets_dir = env_or(args.secrets_dir, "IMAGEUPDATER_SECRETS_DIR", "");
  run.cache_dir =
      args.no_cache ? std::string() : env_or(args.cache_dir, "IMAGEUPDATER_CACHE_DIR", "");
  run.use_cache = !args.no_cache;
  run.cache_ttl = *ttl;
  auto timeout =
      common::util::parse_go_duration(env_or(args.timeout, "IMAGEUPDATER_TIMEOUT", "30s"));
  if (!timeout || timeout->count() < 0) {
    return fail(io, "--timeout: " +
                        (timeout ? std::string("must not be negative") : timeout.error().message));
  }
  run.timeout = *timeout;
  const auto jobs = parse_jobs(env_or(args.parallel, "IMAGEUPDATER_PARALLEL", "4"));
  if (!jobs) {
    return fail(io, "--parallel: " + jobs.error().message);
  }
  run.parallel = *jobs;
  common::util::SystemClock clock;
  common::log::Logger log(io.err, clock);
  auto resolved = resolve_images(updaters, run, log);
  if (!resolved) {
    return fail(io, resolved.error().message);
  }
  const std::vector<ImageResult>& results = *resolved;

  if (args.output == "json") {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      all.push_back(to_json(r));
    }
    std::fprintf(io.out, "%s\n", all.dump(2).c_str());
  } else if (args.output == "yaml") {
    print_yaml(results, io.out);
  } else {
    print_table(results, io.out);
  }
  const bool any_failed = std::any_of(results.begin(), results.end(),
                                      [](const ImageResult& r) { return r.error.has_value(); });
  return any_failed ? k_exit_failed : k_exit_ok;
}

} // namespace argocd_cmp
