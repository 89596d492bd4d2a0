#include "common/plugin/selection.hpp"

#include <algorithm>
#include <map>

#include "common/registry/digest.hpp"

namespace common::plugin {

Selection select_for_app(std::vector<spec::ImageUpdater> all, std::string_view app_name) {
  Selection out;
  for (auto& u : all) {
    const std::string who =
        (u.metadata.namespace_.empty() ? std::string("default") : u.metadata.namespace_) + "/" +
        u.metadata.name;
    if (u.kind != spec::Engine::argocd) {
      out.skipped.push_back(who + ": kind fluxcd (served by imageupdater-flux-source)");
      continue;
    }
    const std::string target = u.argocd ? u.argocd->app.name : std::string();
    if (!app_name.empty() && !target.empty() && target != app_name) {
      out.skipped.push_back(who + ": for application " + target + ", not " + std::string(app_name));
      continue;
    }
    out.updaters.push_back(std::move(u));
  }
  return out;
}

util::Result<manifest::Overrides> overrides_from(const std::vector<resolve::ImageResult>& results,
                                                 const OverrideOptions& options) {
  std::string failures;
  std::size_t failed = 0;
  util::ErrorKind kind = util::ErrorKind::not_found;
  for (const auto& r : results) {
    if (r.error) {
      if (failed++ == 0) {
        // A registry outage is worth retrying (Argo CD will); a bad constraint is not.
        kind = r.error->find("timed out") != std::string::npos ||
                       r.error->find("deadline") != std::string::npos
                   ? util::ErrorKind::transient
                   : util::ErrorKind::not_found;
      }
      failures += "\n  " + r.updater + " " + r.alias + " (" + r.image + "): " + *r.error;
    }
  }
  if (failed > 0) {
    return util::fail(kind, "cannot resolve " + std::to_string(failed) + " of " +
                                std::to_string(results.size()) + " image(s):" + failures);
  }
  manifest::Overrides out;
  std::map<std::string, std::size_t> by_repository; // lookup only; output order is results'
  for (const auto& r : results) {
    manifest::ImageOverride o;
    o.repository = r.repository;
    o.tag = r.tag;
    if (options.pin_digests || r.strategy == "digest") {
      o.digest = r.digest;
    }
    o.label = r.updater + " " + r.alias;
    const auto [it, inserted] = by_repository.try_emplace(r.repository, out.images.size());
    if (inserted) {
      out.images.push_back(std::move(o));
      continue;
    }
    const auto& first = out.images[it->second];
    if (first.tag != o.tag || first.digest != o.digest) {
      const auto show = [](const manifest::ImageOverride& x) {
        return x.tag.value_or("") + (x.digest ? "@" + *x.digest : std::string());
      };
      return util::fail(util::ErrorKind::conflict,
                        "two images govern " + r.repository + " and disagree: " + first.label +
                            " chose " + show(first) + ", " + o.label + " chose " + show(o) +
                            " (give them the same constraint, or one spec per repository)");
    }
  }
  return out;
}

std::string fingerprint(const std::vector<resolve::ImageResult>& results) {
  std::vector<std::string> lines;
  lines.reserve(results.size());
  for (const auto& r : results) {
    lines.push_back(r.repository + "=" + (r.error ? "error:" + *r.error : r.tag + "@" + r.digest));
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::string all;
  for (const auto& l : lines) {
    all += l;
    all += '\n';
  }
  return registry::sha256_digest(all);
}

} // namespace common::plugin
