#include "common/generator/reconciler.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/artifact/external_artifact.hpp"
#include "common/controller/image_status.hpp"
#include "common/flux/render.hpp"
#include "common/resolve/resolver.hpp"
#include "common/util/file.hpp"
#include "common/util/outcome.hpp"
#include "common/util/strings.hpp"
#include "common/util/time.hpp"

namespace common::generator {

namespace {

using nlohmann::json;
using util::ErrorKind;

constexpr std::string_view k_kind = "externalartifact";

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_object(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

util::Timestamp to_timestamp(std::chrono::system_clock::time_point t) {
  return util::Timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch()));
}

// Why a fluxcd reconcile did not publish.
struct Failure {
  std::string reason;
  std::string message;
  bool stalled = false; // retrying cannot help until something is changed
};

// Whether a tenant of `ns` may push to `ref`: under the operator's per-namespace layout
// (PREFIX/NS/...) or under a prefix the operator allowed for that namespace (or for "*").
bool oci_allowed(const std::string& ref, const std::string& ns, const GeneratorOptions& options) {
  const auto under = [&](const std::string& prefix) {
    return !prefix.empty() && ref.size() > prefix.size() + 1 && ref.starts_with(prefix) &&
           ref[prefix.size()] == '/';
  };
  if (!options.oci_repository_prefix.empty() && under(options.oci_repository_prefix + "/" + ns)) {
    return true;
  }
  for (const char* who : {ns.c_str(), "*"}) {
    if (auto it = options.oci_allowed.find(who); it != options.oci_allowed.end()) {
      if (std::any_of(it->second.begin(), it->second.end(), under)) {
        return true;
      }
    }
  }
  return false;
}

// "host/repo:tag" for the object, "" when no OCI artifact is wanted. An annotation naming a
// repository the operator did not give the object's namespace is refused (the push uses the
// service's credentials: a tenant must not overwrite another team's artifact with them).
util::Result<std::string> oci_target(const store::Object& object, const GeneratorOptions& options) {
  if (auto it = object.annotations.find(std::string(k_oci_annotation));
      it != object.annotations.end() && !it->second.empty()) {
    const std::string& ref = it->second;
    const auto slash = ref.rfind('/');
    const auto colon = ref.rfind(':');
    const bool has_tag =
        colon != std::string::npos && (slash == std::string::npos || colon > slash);
    const std::string repository = has_tag ? ref.substr(0, colon) : ref;
    if (!oci_allowed(repository, object.key.namespace_, options)) {
      return util::fail(
          ErrorKind::invalid_input,
          "annotation " + std::string(k_oci_annotation) + ": " + util::quote(ref) +
              " is not a repository namespace " + util::quote(object.key.namespace_) +
              " may push to (the operator allows " +
              (options.oci_repository_prefix.empty()
                   ? std::string("none")
                   : options.oci_repository_prefix + "/" + object.key.namespace_ + "/...") +
              " and --oci-repository-allow entries)");
    }
    return has_tag ? ref : ref + ":latest";
  }
  if (options.oci_repository_prefix.empty()) {
    return "";
  }
  return options.oci_repository_prefix + "/" + object.key.namespace_ + "/" + object.key.name +
         ":latest";
}

std::string inputs_digest(const store::Object& object, const spec::ImageUpdater& updater,
                          const Fetched& fetched, const std::vector<resolve::ImageResult>& results,
                          const std::string& oci, const GeneratorOptions& options) {
  std::string text = "generation " + std::to_string(object.generation) + "\n";
  text += "source " + fetched.url + " " + fetched.revision + "\n";
  text += "path " + updater.fluxcd->update.path + "\n";
  text += "strategy " + updater.fluxcd->update.strategy + "\n";
  text += "oci " + oci + "\n";
  text += "url " + options.artifact_base_url + "\n";
  for (const auto& r : results) {
    text += "image " + r.alias + "=" + r.repository + ":" + r.tag + "@" + r.digest + "\n";
  }
  return artifact::sha256_digest(text);
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
    (void)m_storage.remove_object(k_kind, key.namespace_, key.name);
    if (!m_options.external_artifacts_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove(
          m_options.external_artifacts_dir + "/" + key.namespace_ + "/" + key.name + ".yaml", ec);
    }
    return std::chrono::nanoseconds(0);
  }
  const auto now = m_clock.now();
  const std::string at = util::format_rfc3339(to_timestamp(now));
  const json before = parse_object(object->status_json);
  const auto condition_of = [&](const std::string& type, bool ok, const std::string& reason,
                                const std::string& message, std::int64_t generation,
                                const std::string& when) {
    return json::parse(controller::condition_json(object->status_json, {type, ok, reason, message},
                                                  generation, when));
  };
  controller::Loaded loaded = controller::load_updater(*object);
  std::chrono::nanoseconds interval = m_options.default_interval;
  std::vector<resolve::ImageResult> results;
  if (loaded.updater) {
    if (loaded.updater->fluxcd && loaded.updater->fluxcd->interval.value.count() > 0) {
      interval = loaded.updater->fluxcd->interval.value;
    }
    resolve::ResolveOptions options;
    options.jobs = m_options.jobs;
    if (m_options.resolve_timeout.count() > 0) {
      // Real time: it bounds sockets and waits, whatever clock the reconciler is given.
      options.deadline = std::chrono::steady_clock::now() + m_options.resolve_timeout;
    }
    results = resolve::resolve_updater(*loaded.updater, m_tags, options);
  }
  json status = parse_object(controller::image_status(*object, results, loaded.invalid, now));
  const auto write = [&](const json& s) -> util::Result<void> {
    auto written = m_store.replace_status(key, object->resource_version, dump(s));
    if (!written && written.error().kind != ErrorKind::not_found) {
      return std::unexpected(written.error());
    }
    return {};
  };
  const bool flux = loaded.updater && loaded.updater->kind == spec::Engine::fluxcd;
  if (!flux) {
    if (auto w = write(status); !w) {
      return std::unexpected(w.error());
    }
    return interval;
  }
  const spec::ImageUpdater& updater = *loaded.updater;
  const std::string ns = key.namespace_;
  const std::int64_t generation = object->generation;

  // The last good artifact stays in status whatever happens now.
  for (const char* kept : {"source", "artifact", "externalArtifact", "oci", "inputsDigest"}) {
    if (before.contains(kept)) {
      status[kept] = before[kept];
    }
  }
  const auto fail = [&](const Failure& f) -> util::Result<std::chrono::nanoseconds> {
    json conditions = json::array();
    conditions.push_back(condition_of("Ready", false, f.reason, f.message, generation, at));
    if (f.stalled) {
      conditions.push_back(condition_of("Stalled", true, f.reason, f.message, generation, at));
    }
    status["conditions"] = std::move(conditions);
    if (auto w = write(status); !w) {
      return std::unexpected(w.error());
    }
    if (f.stalled) {
      return interval; // nothing changes until the spec, the secret or the source does
    }
    return util::fail(ErrorKind::transient, f.reason + ": " + f.message);
  };

  for (const auto& r : results) {
    if (r.error) {
      // image_status summed the failures up in its Ready condition; the first failure's kind
      // decides whether to retry (a registry outage) or wait for a change (a bad constraint).
      const json& ready = status["conditions"][0];
      return fail({"ResolveFailed", ready.value("message", "images not resolved"),
                   !util::retryable(r.error->kind)});
    }
  }
  // The last good reconcile's source revision: if the source is still there (and nothing else
  // changed) the files need not even be read.
  std::string known_revision;
  if (before.contains("inputsDigest") && before.contains("source") &&
      before["source"].is_object()) {
    known_revision = before["source"].value("revision", "");
  }
  auto fetched = m_sources.fetch(updater, known_revision);
  if (!fetched) {
    return fail({"SourceFailed", fetched.error().message, !util::retryable(fetched.error().kind)});
  }
  status["source"] = {{"url", fetched->url}, {"revision", fetched->revision}};
  if (!fetched->warnings.empty()) {
    status["warnings"] = fetched->warnings;
  } else {
    status.erase("warnings");
  }
  auto oci_wanted = oci_target(*object, m_options);
  if (!oci_wanted) {
    return fail({"PushFailed", oci_wanted.error().message, true});
  }
  const std::string oci = *oci_wanted;
  const std::string inputs = inputs_digest(*object, updater, *fetched, results, oci, m_options);

  // Warm path: same inputs as the last good reconcile and its artifact still current.
  if (before.value("inputsDigest", "") == inputs && before.contains("artifact")) {
    auto current = m_storage.current(k_kind, ns, key.name);
    if (current && *current && (*current)->digest == before["artifact"].value("digest", "")) {
      status["conditions"] = json::array({condition_of(
          "Ready", true, "Succeeded",
          "stored artifact for revision '" + before["artifact"].value("revision", "") + "'",
          generation, at)});
      if (auto w = write(status); !w) {
        return std::unexpected(w.error());
      }
      return interval;
    }
  }

  if (fetched->unchanged) {
    // Same source, other inputs changed (a new tag): now the files are needed.
    fetched = m_sources.fetch(updater, "");
    if (!fetched) {
      return fail(
          {"SourceFailed", fetched.error().message, !util::retryable(fetched.error().kind)});
    }
  }
  auto overrides = flux::overrides_for(updater, results);
  if (!overrides) {
    return fail(
        {"ResolveFailed", overrides.error().message, !util::retryable(overrides.error().kind)});
  }
  if (auto unknown = flux::unknown_setters(fetched->files, *overrides, ns); !unknown.empty()) {
    std::string message = unknown.front();
    for (std::size_t i = 1; i < unknown.size(); ++i) {
      message += "; " + unknown[i];
    }
    return fail({"UnknownSetter", message, true});
  }
  auto rendered = flux::render(std::move(fetched->files), *overrides);
  if (!rendered) {
    return fail(
        {"RenderFailed", rendered.error().message, !util::retryable(rendered.error().kind)});
  }
  auto bytes = artifact::pack(rendered->files);
  if (!bytes) {
    return fail({"RenderFailed", bytes.error().message, true});
  }
  auto stored = m_storage.put(k_kind, ns, key.name, *bytes);
  if (!stored) {
    return fail({"StorageFailed", stored.error().message, false});
  }
  if (stored->changed) {
    (void)m_storage.gc();
  }

  artifact::ExternalArtifactInput ea;
  ea.name = key.name;
  ea.namespace_ = ns;
  ea.updater_name = key.name;
  ea.updater_namespace = ns;
  ea.updater_uid = object->uid;
  ea.base_url = m_options.artifact_base_url;
  ea.path = stored->path;
  ea.digest = stored->digest;
  ea.size = stored->size;
  ea.last_update_time = to_timestamp(now);
  ea.source_revision = fetched->revision;
  if (!stored->changed && before.contains("artifact") &&
      before["artifact"].value("digest", "") == stored->digest) {
    // Same bytes as before: the artifact was not updated, so neither is its time.
    auto previous = util::parse_rfc3339(before["artifact"].value("lastUpdateTime", ""));
    if (previous) {
      ea.last_update_time = *previous;
    }
  }
  const json external = json::parse(artifact::artifact_json(ea));
  if (!m_options.external_artifacts_dir.empty()) {
    const std::string dir = m_options.external_artifacts_dir + "/" + ns;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto written =
        util::write_file_atomic(dir + "/" + key.name + ".yaml", artifact::artifact_yaml(ea));
    if (!written && m_logger != nullptr) {
      m_logger->warn("cannot write the ExternalArtifact file",
                     {{"object", ns + "/" + key.name}, {"error", written.error().message}});
    }
  }
  status["artifact"] = external["status"]["artifact"];
  status["externalArtifact"] = external;

  if (!oci.empty()) {
    if (m_pusher == nullptr) {
      return fail({"PushFailed", "an OCI repository is set but the service cannot push", true});
    }
    oci::Annotations annotations;
    annotations.source = fetched->url;
    annotations.revision = fetched->revision;
    auto pushed = m_pusher->push(oci, *bytes, annotations);
    if (!pushed) {
      return fail({"PushFailed", oci + ": " + pushed.error().message,
                   !util::retryable(pushed.error().kind)});
    }
    const auto colon = oci.rfind(':');
    status["oci"] = {{"repository", oci.substr(0, colon)},
                     {"tag", oci.substr(colon + 1)},
                     {"digest", pushed->manifest_digest}};
  } else {
    status.erase("oci");
  }
  status["inputsDigest"] = inputs;
  status["conditions"] = json::array({condition_of(
      "Ready", true, "Succeeded",
      "stored artifact for revision '" + status["artifact"].value("revision", "") + "'", generation,
      at)});
  if (auto w = write(status); !w) {
    return std::unexpected(w.error());
  }
  if (stored->changed && m_logger != nullptr) {
    m_logger->info("artifact published", {{"object", ns + "/" + key.name},
                                          {"revision", status["artifact"].value("revision", "")},
                                          {"source", fetched->revision}});
  }
  return interval;
}

} // namespace common::generator
