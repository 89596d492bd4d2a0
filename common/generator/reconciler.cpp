#include "common/generator/reconciler.hpp"

#include "common/status/codec.hpp"
#include "common/util/try.hpp"

namespace common::generator {

namespace {

using util::ErrorKind;

std::string object_name(const store::Key& key) {
  return key.namespace_ + "/" + key.name;
}

status::Outcome outcome_of(const Failure& f) {
  return {f.stalled ? status::Progress::stalled : status::Progress::retrying, f.reason,
          f.error.message};
}

// What survives a failed reconcile: the last good one's results (Flux keeps applying the last
// artifact, so status keeps describing it).
void keep_last_good(status::ImageUpdaterStatus& status, const status::ImageUpdaterStatus& before) {
  status.source = before.source;
  status.artifact = before.artifact;
  status.external_artifact = before.external_artifact;
  status.oci = before.oci;
  status.inputs_digest = before.inputs_digest;
}

std::string ready_message(const std::string& revision) {
  return "stored artifact for revision '" + revision + "'";
}

} // namespace

GeneratorReconciler::GeneratorReconciler(store::Store& store, resolve::TagSource& tags,
                                         Sources& sources, artifact::Storage& storage,
                                         OciPusher* pusher, util::Clock& clock, log::Logger* logger,
                                         GeneratorOptions options)
    : m_store(store), m_tags(tags), m_sources(sources), m_storage(storage), m_pusher(pusher),
      m_clock(clock), m_logger(logger), m_options(std::move(options)) {}

util::Result<std::chrono::nanoseconds> GeneratorReconciler::reconcile(const store::Key& key) {
  auto object = m_store.get(key);
  if (!object) {
    if (object.error().kind != ErrorKind::not_found) {
      return std::unexpected(object.error());
    }
    // Deleted: its artifacts go too (Flux then reports the source as gone).
    IU_TRY(forget(m_storage, m_options, key));
    return std::chrono::nanoseconds(0);
  }
  const util::Timestamp now = std::chrono::floor<std::chrono::seconds>(util::Timestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(m_clock.now().time_since_epoch())));
  const status::ImageUpdaterStatus before = previous_status(*object);
  const Loaded loaded = load_updater(*object);
  if (loaded.updater && loaded.updater->suspend) {
    // Flux's convention: a suspended object is left as it is, status included, until it is
    // resumed (a spec change, which queues it again).
    return std::chrono::nanoseconds(0);
  }
  const std::chrono::nanoseconds interval = interval_of(loaded, m_options.default_interval);
  // Registry answers no older than the interval: a tag pushed is seen within it, however long
  // the shared cache keeps answers for others.
  const Resolved images = resolve_images(loaded, m_tags, m_options, interval);

  status::ImageUpdaterStatus status;
  status.observed_generation = object->generation;
  if (auto asked = object->annotations.find("reconcile.fluxcd.io/requestedAt");
      asked != object->annotations.end()) {
    status.last_handled_reconcile_at = asked->second;
  }
  status.last_check_time = now;
  status.images = images.images;
  if (!loaded.updater || loaded.updater->kind != spec::Engine::fluxcd) {
    // Images only: checked again at the interval whatever the outcome.
    return finish(*object, status, before, images.outcome, std::nullopt, now, interval);
  }

  keep_last_good(status, before);
  auto generated = generate(*object, *loaded.updater, images, before, now, status);
  if (!generated) {
    const Failure& f = generated.error();
    std::optional<util::Error> retry;
    if (!f.stalled) {
      retry = util::Error{ErrorKind::transient, f.reason + ": " + f.error.message};
    }
    return finish(*object, status, before, outcome_of(f), std::move(retry), now, interval);
  }
  return finish(*object, status, before,
                {status::Progress::ready, "Succeeded", ready_message(*generated)}, std::nullopt,
                now, interval);
}

Staged<std::string>
GeneratorReconciler::generate(const store::Object& object, const spec::ImageUpdater& updater,
                              const Resolved& images, const status::ImageUpdaterStatus& before,
                              util::Timestamp now, status::ImageUpdaterStatus& status) {
  if (images.outcome.progress != status::Progress::ready) {
    return std::unexpected(Failure{images.outcome.reason,
                                   {images.failure_kind, images.outcome.message},
                                   images.outcome.progress == status::Progress::stalled});
  }
  // The last good reconcile's source revision: if the source is still there (and nothing else
  // changed) the files need not even be read.
  const std::string known_revision =
      !before.inputs_digest.empty() && before.source ? before.source->revision : std::string();
  auto fetched = fetch(m_sources, updater, known_revision);
  if (!fetched) {
    return std::unexpected(fetched.error());
  }
  status.source = status::Source{fetched->url, fetched->revision};
  status.warnings = fetched->warnings;
  auto target = oci_target(object, m_options);
  if (!target) {
    return std::unexpected(Failure{"PushFailed", target.error(), true});
  }
  const std::string inputs =
      inputs_digest(object, updater, *fetched, images.results, *target, m_options);

  // Warm path: same inputs as the last good reconcile and its artifact still current.
  if (before.inputs_digest == inputs && before.artifact) {
    auto current = m_storage.current(k_artifact_kind, object.key.namespace_, object.key.name);
    if (!current) {
      warn("cannot read the current artifact; rendering again", object.key, current.error());
    } else if (*current && (*current)->digest == before.artifact->digest) {
      return before.artifact->revision;
    }
  }
  if (fetched->unchanged) {
    // Same source, other inputs changed (a new tag): now the files are needed.
    fetched = fetch(m_sources, updater, "");
    if (!fetched) {
      return std::unexpected(fetched.error());
    }
  }
  auto targz = render(updater, images.results, std::move(fetched->files), object.key.namespace_);
  if (!targz) {
    return std::unexpected(targz.error());
  }
  auto published = publish(m_storage, m_options, object, *fetched, *targz, before.artifact, now);
  if (!published) {
    return std::unexpected(published.error());
  }
  for (const util::Error& problem : published->problems) {
    warn("artifact published with a problem", object.key, problem);
  }
  status.artifact = published->artifact;
  status.external_artifact = published->external_artifact;
  if (!*target) {
    status.oci.reset();
  } else {
    auto pushed = push(m_pusher, **target, *targz, *fetched);
    if (!pushed) {
      return std::unexpected(pushed.error());
    }
    status.oci = *pushed;
  }
  status.inputs_digest = inputs;
  if (published->stored.changed && m_logger != nullptr) {
    m_logger->info("artifact published", {{"object", object_name(object.key)},
                                          {"revision", published->artifact.revision},
                                          {"source", fetched->revision}});
  }
  return published->artifact.revision;
}

util::Result<std::chrono::nanoseconds>
GeneratorReconciler::finish(const store::Object& object, status::ImageUpdaterStatus& status,
                            const status::ImageUpdaterStatus& before,
                            const status::Outcome& outcome, std::optional<util::Error> retry,
                            util::Timestamp now, std::chrono::nanoseconds interval) {
  status.conditions = status::conditions_for(outcome, object.generation, now, before.conditions);
  auto written =
      m_store.replace_status(object.key, object.resource_version, status::encode(status));
  // not_found: deleted meanwhile (its deletion comes as a change of its own); conflict: changed
  // meanwhile, checked again at once.
  if (!written && written.error().kind != ErrorKind::not_found) {
    return std::unexpected(written.error());
  }
  if (retry) {
    return std::unexpected(std::move(*retry));
  }
  return interval;
}

status::ImageUpdaterStatus GeneratorReconciler::previous_status(const store::Object& object) {
  auto decoded = status::decode(object.status_json);
  if (!decoded) {
    // Only this service writes status; an unreadable one loses the last good artifact's
    // description (the files stay) and is replaced by this reconcile's.
    warn("stored status unreadable; writing a new one", object.key, decoded.error());
    return {};
  }
  return std::move(*decoded);
}

void GeneratorReconciler::warn(std::string_view message, const store::Key& key,
                               const util::Error& error) {
  if (m_logger != nullptr) {
    m_logger->warn(message, {{"object", object_name(key)},
                             {"kind", util::to_string(error.kind)},
                             {"error", error.message}});
  }
}

} // namespace common::generator
