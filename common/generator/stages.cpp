#include "common/generator/stages.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/artifact/external_artifact.hpp"
#include "common/flux/render.hpp"
#include "common/image/digest.hpp"
#include "common/spec/loader.hpp"
#include "common/util/file.hpp"
#include "common/util/outcome.hpp"
#include "common/util/strings.hpp"

namespace common::generator {

namespace {

using nlohmann::json;
using util::ErrorKind;

// Whether retrying an error of `kind` cannot help until something is changed: the outcome
// table's answer (util/outcome.hpp), the same for every stage.
bool stalls(ErrorKind kind) {
  return !util::retryable(kind);
}

Failure failure(std::string reason, util::Error error, bool stalled) {
  return Failure{std::move(reason), std::move(error), stalled};
}

// The stored object as a YAML/JSON document the spec loader reads.
std::string document_of(const store::Object& object) {
  json spec = json::parse(object.spec_json, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_object()) {
    spec = json::object(); // the API stored it; anything else fails validation below
  }
  // Labels and annotations too: the stages read annotations (git-secret, oci-repository).
  json metadata = {{"name", object.key.name}, {"namespace", object.key.namespace_}};
  if (!object.labels.empty()) {
    metadata["labels"] = object.labels;
  }
  if (!object.annotations.empty()) {
    metadata["annotations"] = object.annotations;
  }
  json doc = {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
              {"kind", "ImageUpdater"},
              {"metadata", std::move(metadata)},
              {"spec", std::move(spec)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Whether a tenant of `ns` may push to `repository`: under the operator's per-namespace layout
// (PREFIX/NS/...) or under a prefix the operator allowed for that namespace (or for "*").
bool oci_allowed(const std::string& repository, const std::string& ns,
                 const GeneratorOptions& options) {
  const auto under = [&](const std::string& prefix) {
    return !prefix.empty() && repository.size() > prefix.size() + 1 &&
           repository.starts_with(prefix) && repository[prefix.size()] == '/';
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

std::string external_artifact_file(const GeneratorOptions& options, const store::Key& key) {
  return options.external_artifacts_dir + "/" + key.namespace_ + "/" + key.name + ".yaml";
}

} // namespace

// ---- load ----

Loaded load_updater(const store::Object& object) {
  const std::string name = object.key.namespace_ + "/" + object.key.name;
  spec::LoadResult loaded = spec::parse_stream(document_of(object), name);
  Loaded out;
  if (loaded.updaters.size() != 1 || spec::document_has_errors(loaded, loaded.updaters.front())) {
    out.invalid = "the stored spec is not valid";
    for (const spec::Diagnostic& d : loaded.diagnostics) {
      if (d.severity == spec::Severity::error) {
        out.invalid += "; " + d.field + ": " + d.message;
      }
    }
    return out;
  }
  out.updater = std::move(loaded.updaters.front());
  return out;
}

std::chrono::nanoseconds interval_of(const Loaded& loaded,
                                     std::chrono::nanoseconds default_interval) {
  if (loaded.updater && loaded.updater->fluxcd &&
      loaded.updater->fluxcd->interval.value.count() > 0) {
    return loaded.updater->fluxcd->interval.value;
  }
  return default_interval;
}

// ---- resolve ----

Resolved resolved(std::vector<resolve::ImageResult> results, const std::string& invalid) {
  Resolved out;
  std::size_t failed = 0;
  bool any_retryable = false;
  std::string first_error;
  for (const resolve::ImageResult& r : results) {
    status::ImageResult image;
    image.alias = r.alias;
    image.image = r.image;
    image.repository = r.repository;
    image.strategy = r.strategy;
    image.constraint = r.constraint;
    image.warnings = r.warnings;
    if (r.error) {
      image.error = r.error->message;
      if (failed++ == 0) {
        first_error = r.alias + ": " + r.error->message;
        out.failure_kind = r.error->kind;
      }
      if (!any_retryable && !stalls(r.error->kind)) {
        any_retryable = true;
        out.failure_kind = r.error->kind;
      }
    } else {
      image.tag = r.tag;
      image.digest = r.digest;
      image.reason = r.reason;
    }
    out.images.push_back(std::move(image));
  }
  if (!invalid.empty()) {
    out.outcome = {status::Progress::stalled, "InvalidSpec", invalid};
    out.failure_kind = ErrorKind::invalid_input;
  } else if (failed > 0) {
    // Retried while any failure may pass by itself (an outage); stalled when every one needs a
    // change (a constraint no tag satisfies, an invalid pattern).
    out.outcome = {any_retryable ? status::Progress::retrying : status::Progress::stalled,
                   "ResolveFailed",
                   std::to_string(failed) + " of " + std::to_string(results.size()) +
                       " images not resolved; first: " + first_error};
  } else {
    out.outcome = {status::Progress::ready, "Resolved",
                   std::to_string(results.size()) + " images resolved"};
  }
  out.results = std::move(results);
  return out;
}

Resolved resolve_images(const Loaded& loaded, resolve::TagSource& tags,
                        const GeneratorOptions& options, std::chrono::nanoseconds max_age) {
  if (!loaded.updater) {
    return resolved({}, loaded.invalid);
  }
  resolve::ResolveOptions resolve_options;
  resolve_options.jobs = options.jobs;
  resolve_options.max_age = max_age;
  if (options.resolve_timeout.count() > 0) {
    // Real time: it bounds sockets and waits, whatever clock the reconciler is given.
    resolve_options.deadline = std::chrono::steady_clock::now() + options.resolve_timeout;
  }
  return resolved(resolve::resolve_updater(*loaded.updater, tags, resolve_options), "");
}

// ---- fetch ----

Staged<Fetched> fetch(Sources& sources, const spec::ImageUpdater& updater,
                      const std::string& known_revision) {
  auto fetched = sources.fetch(updater, known_revision);
  if (!fetched) {
    const bool stalled = stalls(fetched.error().kind);
    return std::unexpected(failure("SourceFailed", std::move(fetched.error()), stalled));
  }
  return std::move(*fetched);
}

// ---- render ----

Staged<std::string> render(const spec::ImageUpdater& updater,
                           const std::vector<resolve::ImageResult>& results, util::Tree files,
                           const std::string& namespace_) {
  auto overrides = flux::overrides_for(updater, results);
  if (!overrides) {
    const bool stalled = stalls(overrides.error().kind);
    return std::unexpected(failure("ResolveFailed", std::move(overrides.error()), stalled));
  }
  if (auto unknown = flux::unknown_setters(files, *overrides, namespace_); !unknown.empty()) {
    std::string message = unknown.front();
    for (std::size_t i = 1; i < unknown.size(); ++i) {
      message += "; " + unknown[i];
    }
    return std::unexpected(
        failure("UnknownSetter", {ErrorKind::invalid_input, std::move(message)}, true));
  }
  auto rendered = flux::render(std::move(files), *overrides);
  if (!rendered) {
    const bool stalled = stalls(rendered.error().kind);
    return std::unexpected(failure("RenderFailed", std::move(rendered.error()), stalled));
  }
  auto bytes = artifact::pack(rendered->files);
  if (!bytes) {
    // The same files fail the same way: only a change of the source helps.
    return std::unexpected(failure("RenderFailed", std::move(bytes.error()), true));
  }
  return std::move(*bytes);
}

// ---- publish ----

Staged<Published> publish(artifact::Storage& storage, const GeneratorOptions& options,
                          const store::Object& object, const Fetched& fetched,
                          std::string_view targz, const std::optional<status::Artifact>& previous,
                          util::Timestamp now) {
  const std::string& ns = object.key.namespace_;
  const std::string& name = object.key.name;
  auto stored = storage.put(k_artifact_kind, ns, name, targz);
  if (!stored) {
    return std::unexpected(failure("StorageFailed", std::move(stored.error()), false));
  }
  Published out;
  out.stored = *stored;
  if (stored->changed) {
    if (auto gc = storage.gc(); !gc) {
      out.problems.push_back({gc.error().kind, "artifact retention: " + gc.error().message});
    }
  }

  artifact::ExternalArtifactInput ea;
  ea.name = name;
  ea.namespace_ = ns;
  ea.updater_name = name;
  ea.updater_namespace = ns;
  ea.updater_uid = object.uid;
  ea.base_url = options.artifact_base_url;
  ea.path = stored->path;
  ea.digest = stored->digest;
  ea.size = stored->size;
  ea.last_update_time = std::chrono::floor<std::chrono::seconds>(now);
  ea.source_revision = fetched.revision;
  if (!stored->changed && previous && previous->digest == stored->digest) {
    // Same bytes as before: the artifact was not updated, so neither is its time.
    ea.last_update_time = previous->last_update_time;
  }
  out.external_artifact = artifact::artifact_json(ea);
  out.artifact.path = ea.path;
  out.artifact.url = ea.base_url + "/" + ea.path;
  out.artifact.revision = artifact::artifact_revision(ea.digest);
  out.artifact.digest = ea.digest;
  out.artifact.size = ea.size;
  out.artifact.last_update_time = std::chrono::floor<std::chrono::seconds>(ea.last_update_time);
  if (!ea.source_revision.empty()) {
    out.artifact.metadata[std::string(artifact::k_revision_annotation)] = ea.source_revision;
  }

  if (!options.external_artifacts_dir.empty()) {
    const std::string dir = options.external_artifacts_dir + "/" + ns;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      out.problems.push_back(
          {ErrorKind::invalid_input, "cannot create " + dir + ": " + ec.message()});
    } else if (auto written = util::write_file_atomic(external_artifact_file(options, object.key),
                                                      artifact::artifact_yaml(ea));
               !written) {
      out.problems.push_back(written.error());
    }
  }
  return out;
}

// ---- push ----

util::Result<std::optional<image::Reference>> oci_target(const store::Object& object,
                                                         const GeneratorOptions& options) {
  const std::string& ns = object.key.namespace_;
  if (auto it = object.annotations.find(std::string(k_oci_annotation));
      it != object.annotations.end() && !it->second.empty()) {
    const std::string& ref = it->second;
    const std::string where = "annotation " + std::string(k_oci_annotation) + ": ";
    auto parsed = image::parse_reference(ref);
    if (!parsed) {
      return util::fail(ErrorKind::invalid_input, where + parsed.error().message);
    }
    if (!parsed->digest.empty()) {
      return util::fail(ErrorKind::invalid_input,
                        where + util::quote(ref) +
                            " names a digest; an artifact is pushed to a tag");
    }
    if (!oci_allowed(parsed->name(), ns, options)) {
      return util::fail(ErrorKind::invalid_input,
                        where + util::quote(ref) + " is not a repository namespace " +
                            util::quote(ns) + " may push to (the operator allows " +
                            (options.oci_repository_prefix.empty()
                                 ? std::string("none")
                                 : options.oci_repository_prefix + "/" + ns + "/...") +
                            " and --oci-repository-allow entries)");
    }
    if (parsed->tag.empty()) {
      parsed->tag = "latest";
    }
    return std::optional<image::Reference>(std::move(*parsed));
  }
  if (options.oci_repository_prefix.empty()) {
    return std::optional<image::Reference>();
  }
  const std::string ref =
      options.oci_repository_prefix + "/" + ns + "/" + object.key.name + ":latest";
  auto parsed = image::parse_reference(ref);
  if (!parsed) {
    return util::fail(ErrorKind::invalid_input,
                      "--oci-repository-prefix: " + parsed.error().message);
  }
  return std::optional<image::Reference>(std::move(*parsed));
}

Staged<status::OciPush> push(OciPusher* pusher, const image::Reference& target,
                             std::string_view targz, const Fetched& fetched) {
  if (pusher == nullptr) {
    return std::unexpected(failure(
        "PushFailed",
        {ErrorKind::unsupported, "an OCI repository is set but the service cannot push"}, true));
  }
  oci::Annotations annotations;
  annotations.source = fetched.url;
  annotations.revision = fetched.revision;
  const std::string reference = target.to_string();
  auto pushed = pusher->push(reference, targz, annotations);
  if (!pushed) {
    const bool stalled = stalls(pushed.error().kind);
    return std::unexpected(failure(
        "PushFailed", {pushed.error().kind, reference + ": " + pushed.error().message}, stalled));
  }
  return status::OciPush{target.name(), target.tag, pushed->manifest_digest};
}

std::string inputs_digest(const store::Object& object, const spec::ImageUpdater& updater,
                          const Fetched& fetched, const std::vector<resolve::ImageResult>& results,
                          const std::optional<image::Reference>& target,
                          const GeneratorOptions& options) {
  std::string text = "generation " + std::to_string(object.generation) + "\n";
  text += "source " + fetched.url + " " + fetched.revision + "\n";
  text += "path " + updater.fluxcd->update.path + "\n";
  text += "strategy " + updater.fluxcd->update.strategy + "\n";
  text += "oci " + (target ? target->to_string() : std::string()) + "\n";
  text += "url " + options.artifact_base_url + "\n";
  for (const auto& r : results) {
    text += "image " + r.alias + "=" + r.repository + ":" + r.tag + "@" + r.digest + "\n";
  }
  return image::sha256_digest(text);
}

// ---- forget ----

util::Result<void> forget(artifact::Storage& storage, const GeneratorOptions& options,
                          const store::Key& key) {
  // Both are tried whatever the first did: a failure of one must not leave the other behind.
  auto removed = storage.remove_object(k_artifact_kind, key.namespace_, key.name);
  util::Result<void> file;
  if (!options.external_artifacts_dir.empty()) {
    const std::string path = external_artifact_file(options, key);
    std::error_code ec;
    std::filesystem::remove(path, ec); // an absent file is no error
    if (ec) {
      file = util::fail(ErrorKind::invalid_input, "cannot remove " + path + ": " + ec.message());
    }
  }
  if (!removed) {
    return removed;
  }
  return file;
}

} // namespace common::generator
