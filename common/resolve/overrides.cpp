#include "common/resolve/overrides.hpp"

#include <cstddef>
#include <map>
#include <string>

namespace common::resolve {

util::Result<manifest::Overrides> overrides_from(const std::vector<resolve::ImageResult>& results,
                                                 const OverrideOptions& options) {
  std::string failures;
  std::size_t failed = 0;
  util::ErrorKind kind = util::ErrorKind::not_found;
  for (const auto& r : results) {
    if (r.error) {
      if (failed++ == 0) {
        // The first failure's kind decides: a registry outage is worth retrying (Argo CD
        // will), a bad constraint is not.
        kind = r.error->kind;
      }
      failures += "\n  " + r.updater + " " + r.alias + " (" + r.image + "): " + r.error->message;
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

} // namespace common::resolve
