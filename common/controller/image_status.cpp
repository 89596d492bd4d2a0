#include "common/controller/image_status.hpp"

#include <nlohmann/json.hpp>

#include "common/spec/loader.hpp"
#include "common/util/time.hpp"

namespace common::controller {

namespace {

using nlohmann::json;

std::string timestamp(std::chrono::system_clock::time_point t) {
  return util::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(
      util::Timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()))));
}

json parse_or_empty(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

// The previous condition of `type` in `status`, if any.
json previous_condition(const json& status, const std::string& type) {
  auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) {
    return json();
  }
  for (const json& c : *conditions) {
    if (c.is_object() && c.value("type", "") == type) {
      return c;
    }
  }
  return json();
}

json condition(const json& before, const std::string& type, bool ok, const std::string& reason,
               const std::string& message, std::int64_t generation, const std::string& now) {
  const std::string status = ok ? "True" : "False";
  json previous = previous_condition(before, type);
  std::string since = now;
  if (previous.is_object() && previous.value("status", "") == status &&
      previous.contains("lastTransitionTime") && previous["lastTransitionTime"].is_string()) {
    since = previous["lastTransitionTime"].get<std::string>();
  }
  return json{{"type", type},
              {"status", status},
              {"reason", reason},
              {"message", message},
              {"observedGeneration", generation},
              {"lastTransitionTime", since}};
}

// The stored object as a YAML/JSON document the spec loader reads.
std::string document_of(const store::Object& object) {
  // Labels and annotations too: the reconcilers read annotations (git-secret, oci-repository).
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
              {"spec", parse_or_empty(object.spec_json)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string image_status(const store::Object& object,
                         const std::vector<resolve::ImageResult>& results,
                         const std::string& invalid, std::chrono::system_clock::time_point now) {
  const json before = parse_or_empty(object.status_json);
  const std::string at = timestamp(now);
  json images = json::array();
  std::size_t failed = 0;
  std::string first_error;
  for (const resolve::ImageResult& r : results) {
    json image = {{"alias", r.alias},
                  {"image", r.image},
                  {"repository", r.repository},
                  {"strategy", r.strategy},
                  {"constraint", r.constraint}};
    if (r.error) {
      image["error"] = r.error->message;
      if (failed++ == 0) {
        first_error = r.alias + ": " + r.error->message;
      }
    } else {
      image["tag"] = r.tag;
      image["digest"] = r.digest;
      image["reason"] = r.reason;
    }
    if (!r.warnings.empty()) {
      image["warnings"] = r.warnings;
    }
    images.push_back(std::move(image));
  }
  json ready;
  if (!invalid.empty()) {
    ready = condition(before, "Ready", false, "InvalidSpec", invalid, object.generation, at);
  } else if (failed > 0) {
    std::string message = std::to_string(failed) + " of " + std::to_string(results.size()) +
                          " images not resolved; first: " + first_error;
    ready = condition(before, "Ready", false, "ResolveFailed", message, object.generation, at);
  } else {
    ready = condition(before, "Ready", true, "Resolved",
                      std::to_string(results.size()) + " images resolved", object.generation, at);
  }
  json status = {{"observedGeneration", object.generation},
                 {"lastCheckTime", at},
                 {"images", std::move(images)},
                 {"conditions", json::array({std::move(ready)})}};
  return status.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string condition_json(const std::string& status_before, const Condition& c,
                           std::int64_t generation, const std::string& now) {
  return condition(parse_or_empty(status_before), c.type, c.ok, c.reason, c.message, generation,
                   now)
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

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

ImageStatusReconciler::ImageStatusReconciler(store::Store& store, resolve::TagSource& source,
                                             util::Clock& clock, ImageStatusOptions options)
    : m_store(store), m_source(source), m_clock(clock), m_options(options) {}

util::Result<std::chrono::nanoseconds> ImageStatusReconciler::reconcile(const store::Key& key) {
  auto object = m_store.get(key);
  if (!object) {
    if (object.error().kind == util::ErrorKind::not_found) {
      return std::chrono::nanoseconds(0); // deleted: nothing to check any more
    }
    return std::unexpected(object.error());
  }
  Loaded loaded = load_updater(*object);
  std::vector<resolve::ImageResult> results;
  const std::string& invalid = loaded.invalid;
  std::chrono::nanoseconds interval = m_options.default_interval;
  if (loaded.updater) {
    const spec::ImageUpdater& updater = *loaded.updater;
    if (updater.fluxcd && updater.fluxcd->interval.value.count() > 0) {
      interval = updater.fluxcd->interval.value;
    }
    resolve::ResolveOptions options;
    options.jobs = m_options.jobs;
    results = resolve::resolve_updater(updater, m_source, options);
  }
  const std::string status = image_status(*object, results, invalid, m_clock.now());
  auto written = m_store.replace_status(key, object->resource_version, status);
  if (!written) {
    if (written.error().kind == util::ErrorKind::not_found) {
      return std::chrono::nanoseconds(0);
    }
    return std::unexpected(written.error()); // conflict: changed meanwhile, check again at once
  }
  return interval;
}

} // namespace common::controller
