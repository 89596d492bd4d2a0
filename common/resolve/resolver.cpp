#include "common/resolve/resolver.hpp"

#include <atomic>
#include <utility>

#include "common/policy/policy.hpp"
#include "common/util/deadline.hpp"
#include "common/util/parallel.hpp"

namespace common::resolve {

namespace {

// newest-build asks the registry for one manifest and one config per candidate tag; past this
// many the user is told to narrow the candidates (allow-tags) instead of us hammering the
// registry into rate limits (the anchors' #313: 5000 requests per cycle).
constexpr std::size_t k_max_metadata_tags = 1000;

std::string updater_name(const spec::ImageUpdater& u) {
  return (u.metadata.namespace_.empty() ? std::string("default") : u.metadata.namespace_) + "/" +
         u.metadata.name;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string reason_for(const policy::Options& o, std::size_t tag_count,
                       const std::optional<util::Timestamp>& created) {
  switch (o.strategy) {
  case policy::Strategy::semver:
    return "highest version of " + plural(tag_count, "tag") + " satisfying " +
           (o.constraint.empty() ? std::string("*") : o.constraint);
  case policy::Strategy::newest_build:
    return "newest build of " + plural(tag_count, "tag") +
           (created ? " (created " + util::format_rfc3339(*created) + ")" : std::string());
  case policy::Strategy::alphabetical:
    return std::string(o.order == policy::Order::asc ? "greatest" : "least") + " by name of " +
           plural(tag_count, "tag");
  case policy::Strategy::numerical:
    return std::string(o.order == policy::Order::asc ? "greatest" : "least") + " number of " +
           plural(tag_count, "tag");
  case policy::Strategy::digest:
    return "tracked tag " + o.constraint;
  }
  return {};
}

// Fills in the created times of the tags newest-build may choose from and returns only those
// tags: a tag whose image has no variant for the wanted platforms has no build time (the
// anchors drop it too), anything else that fails is the image's error.
util::Result<std::vector<policy::Tag>>
with_build_times(const policy::Policy& policy, std::vector<policy::Tag> tags, TagSource& source,
                 const Target& target, const std::vector<image::Platform>& platforms,
                 std::size_t jobs, std::vector<std::string>& warnings) {
  auto candidates = policy.candidates(tags);
  if (candidates.size() > k_max_metadata_tags) {
    return util::fail(
        util::ErrorKind::too_large,
        std::to_string(candidates.size()) + " candidate tags for newest-build (at most " +
            std::to_string(k_max_metadata_tags) + "): narrow them with allow-tags or ignore-tags");
  }
  // Fetched `jobs` at a time into slots, then read in candidate order: the outcome does not
  // depend on the scheduling. After a failure other than not_found no new fetch is started (the
  // registry is probably down; each would retry until the deadline); the failure reported is
  // the first in candidate order among those fetched.
  std::vector<std::optional<util::Result<util::Timestamp>>> fetched(candidates.size());
  std::atomic<bool> failed{false};
  const auto deadline = util::thread_deadline(); // carried onto the worker threads
  util::parallel_for(candidates.size(), jobs, [&](std::size_t k) {
    const util::ThreadDeadline scope(deadline);
    if (failed.load()) {
      return;
    }
    auto created = source.created(target, std::string(tags[candidates[k]].name), platforms);
    if (!created && created.error().kind != util::ErrorKind::not_found) {
      failed = true;
    }
    fetched[k] = std::move(created);
  });
  std::vector<policy::Tag> out;
  out.reserve(candidates.size());
  std::size_t no_platform = 0;
  std::string first_missing; // the registry's word on the first tag without a build time
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    if (!fetched[k]) {
      continue; // not started after a failure, which is returned below
    }
    const std::size_t i = candidates[k];
    auto& created = *fetched[k];
    if (!created) {
      if (created.error().kind == util::ErrorKind::not_found) {
        if (no_platform++ == 0) {
          first_missing = created.error().message;
        }
        continue;
      }
      return std::unexpected(created.error());
    }
    out.push_back({tags[i].name, *created});
  }
  if (out.empty() && no_platform > 0) {
    std::string wanted;
    for (const auto& p : platforms) {
      wanted += (wanted.empty() ? "" : ", ") + p.to_string();
    }
    return util::fail(util::ErrorKind::not_found,
                      "none of the " + plural(no_platform, "candidate tag") +
                          " has a build time for " + (wanted.empty() ? "any platform" : wanted) +
                          " (first: " + first_missing + ")");
  }
  if (no_platform > 0) {
    warnings.push_back(plural(no_platform, "tag") +
                       " skipped: no build time for the wanted platforms");
  }
  return out;
}

ImageResult resolve_image(const spec::ImageUpdater& updater, const spec::ImageEntry& entry,
                          TagSource& source, const ResolveOptions& options) {
  ImageResult r;
  r.updater = updater_name(updater);
  r.alias = entry.spec.alias;
  r.image = entry.spec.written;
  r.repository = entry.spec.ref.name();
  const spec::ImageSettings settings = spec::image_settings(updater, entry);
  r.strategy = std::string(policy::to_string(settings.policy.strategy));
  r.constraint = settings.policy.constraint;

  auto policy = policy::Policy::compile(settings.policy);
  if (!policy) {
    r.error = std::move(policy.error());
    return r;
  }
  const Target target{entry.spec.ref, settings.credentials, options.max_age};
  auto listed = source.list_tags(target);
  if (!listed) {
    r.error = std::move(listed.error());
    return r;
  }
  if (!listed->warning.empty()) {
    r.warnings.push_back(listed->warning);
  }
  std::vector<policy::Tag> tags;
  tags.reserve(listed->tags.size());
  for (const auto& t : listed->tags) {
    tags.push_back({t, std::nullopt});
  }
  if (settings.policy.strategy == policy::Strategy::newest_build) {
    auto timed = with_build_times(*policy, std::move(tags), source, target, settings.platforms,
                                  options.jobs, r.warnings);
    if (!timed) {
      r.error = std::move(timed.error());
      return r;
    }
    tags = std::move(*timed);
  }

  auto chosen = policy->select(tags);
  if (!chosen) {
    r.error = std::move(chosen.error());
    return r;
  }
  std::optional<util::Timestamp> created;
  for (const auto& t : tags) {
    if (t.name == chosen->tag) {
      created = t.created;
      break;
    }
  }
  if (options.fetch_digest) {
    auto digest = source.digest(target, chosen->tag);
    if (!digest) {
      r.error = util::with_context(std::move(digest.error()),
                                   "tag " + chosen->tag + " chosen, but its digest");
      return r;
    }
    r.digest = *digest;
  }
  r.tag = chosen->tag;
  r.reason = reason_for(settings.policy, listed->tags.size(), created);
  return r;
}

} // namespace

std::vector<ImageResult> resolve_updater(const spec::ImageUpdater& updater, TagSource& source,
                                         const ResolveOptions& options) {
  return resolve_all({updater}, source, options);
}

std::vector<ImageResult> resolve_all(const std::vector<spec::ImageUpdater>& updaters,
                                     TagSource& source, const ResolveOptions& options) {
  std::vector<std::pair<const spec::ImageUpdater*, const spec::ImageEntry*>> work;
  for (const auto& u : updaters) {
    for (const auto& entry : u.images) {
      work.emplace_back(&u, &entry);
    }
  }
  std::vector<ImageResult> out(work.size());
  util::parallel_for(work.size(), options.jobs, [&](std::size_t i) {
    const util::ThreadDeadline scope(options.deadline);
    out[i] = resolve_image(*work[i].first, *work[i].second, source, options);
  });
  return out;
}

} // namespace common::resolve
