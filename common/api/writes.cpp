#include "common/api/writes.hpp"

#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/api/yaml_json.hpp"
#include "common/spec/loader.hpp"
#include "common/util/strings.hpp"

namespace common::api {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Rejection refused(std::string message) {
  return Rejection{
      util::Error{util::ErrorKind::invalid_input, std::move(message)}, std::nullopt, {}};
}

std::string qualified(const std::string& name) {
  return std::string(k_resource) + "." + std::string(k_group) + " \"" + name + "\"";
}

WriteResult<json> parse_object(std::string_view text) {
  if (auto bounded = detail::check_json_bounds(text); !bounded) {
    return std::unexpected(refused(std::move(bounded.error().message)));
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return std::unexpected(refused(std::string("invalid JSON: ") + e.what()));
  }
}

// A string member of an object, "" when absent, nullopt when present but not a string.
std::optional<std::string> string_member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::map<std::string, std::string> string_map(const json& metadata, const char* key) {
  std::map<std::string, std::string> out;
  auto it = metadata.find(key);
  if (it != metadata.end() && it->is_object()) {
    for (auto m = it->begin(); m != it->end(); ++m) {
      if (m.value().is_string()) {
        out.emplace(m.key(), m.value().get<std::string>());
      }
    }
  }
  return out;
}

// Fills apiVersion, kind, metadata.namespace (and, on replace, metadata.name) from the caller,
// refuses contradictions (no causes), then validates with the spec model (every problem a
// cause). What is stored is what was validated: the JSON text, not the client's bytes.
WriteResult<Written> validate(std::string_view object_json, const std::string& namespace_,
                              const std::string* path_name) {
  auto parsed = parse_object(object_json);
  if (!parsed) {
    return std::unexpected(std::move(parsed.error()));
  }
  json& body = *parsed;
  if (!body.is_object()) {
    return std::unexpected(refused("the body must be an object (an ImageUpdater)"));
  }
  auto api_version = string_member(body, "apiVersion");
  if (!api_version || (!api_version->empty() && *api_version != k_api_version)) {
    return std::unexpected(
        refused("apiVersion must be \"" + std::string(k_api_version) + "\" on this endpoint"));
  }
  auto kind = string_member(body, "kind");
  if (!kind || (!kind->empty() && *kind != k_kind)) {
    return std::unexpected(
        refused("kind must be \"" + std::string(k_kind) + "\" on this endpoint"));
  }
  body["apiVersion"] = k_api_version;
  body["kind"] = k_kind;
  json& metadata = body["metadata"];
  if (metadata.is_null()) {
    metadata = json::object();
  }
  if (!metadata.is_object()) {
    return std::unexpected(refused("metadata must be an object"));
  }
  auto body_namespace = string_member(metadata, "namespace");
  if (!body_namespace || (!body_namespace->empty() && *body_namespace != namespace_)) {
    return std::unexpected(refused(
        "the namespace of the provided object does not match the namespace sent on the request"));
  }
  metadata["namespace"] = namespace_;
  auto body_name = string_member(metadata, "name");
  if (path_name != nullptr) {
    if (!body_name || (!body_name->empty() && *body_name != *path_name)) {
      return std::unexpected(refused("the name of the object does not match the name on the "
                                     "URL (" +
                                     util::quote(*path_name) + ")"));
    }
    metadata["name"] = *path_name;
  }

  std::vector<Cause> causes;
  Written out;
  if (!body_name) {
    causes.push_back({"metadata.name", "FieldValueInvalid", "must be a string"});
  }
  for (const char* section : {"labels", "annotations"}) {
    const std::string field = std::string("metadata.") + section;
    auto it = metadata.find(section);
    if (it == metadata.end() || it->is_null()) {
      continue;
    }
    if (!it->is_object()) {
      causes.push_back({field, "FieldValueInvalid", "must be a map of strings to strings"});
      continue;
    }
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        causes.push_back(
            {field, "FieldValueInvalid", "key " + util::quote(k) + ": the value must be a string"});
      }
    }
  }
  spec::LoadResult loaded = spec::parse_stream(dump(body), "request body");
  for (const spec::Diagnostic& d : loaded.diagnostics) {
    if (d.severity == spec::Severity::error) {
      causes.push_back({d.field, "FieldValueInvalid", d.message});
    } else {
      out.warnings.push_back(d.field.empty() ? d.message : d.field + ": " + d.message);
    }
  }
  if (loaded.updaters.empty() && causes.empty()) {
    causes.push_back({"", "FieldValueInvalid", "the body is not an ImageUpdater"});
  }
  for (const char* section : {"labels", "annotations"}) {
    std::string field = std::string("metadata.") + section;
    for (const auto& [k, v] : string_map(metadata, section)) {
      if (std::string why = check_label_key(k); !why.empty()) {
        causes.push_back({field, "FieldValueInvalid", why});
      }
      if (std::string why = check_label_value(v); section[0] == 'l' && !why.empty()) {
        causes.push_back({field, "FieldValueInvalid", "key " + util::quote(k) + ": " + why});
      }
    }
  }
  auto resource_version = string_member(metadata, "resourceVersion");
  if (!resource_version) {
    causes.push_back({"metadata.resourceVersion", "FieldValueInvalid", "must be a string"});
  } else if (path_name != nullptr && resource_version->empty()) {
    causes.push_back(
        {"metadata.resourceVersion", "FieldValueRequired", "must be specified for an update"});
  }
  std::string name = body_name.value_or("");
  if (path_name != nullptr) {
    name = *path_name;
  }
  if (!causes.empty()) {
    std::string message =
        std::string(k_kind) + "." + std::string(k_group) + " \"" + name + "\" is invalid: ";
    for (std::size_t i = 0; i < causes.size(); ++i) {
      message += (i ? ", " : "") + (causes[i].field.empty() ? "" : causes[i].field + ": ") +
                 causes[i].message;
    }
    return std::unexpected(Rejection{util::Error{util::ErrorKind::invalid_input, message},
                                     std::move(name), std::move(causes)});
  }

  store::Object& o = out.object;
  o.key = {namespace_, name};
  o.labels = string_map(metadata, "labels");
  o.annotations = string_map(metadata, "annotations");
  if (path_name != nullptr) {
    o.resource_version = resource_version.value_or("");
  }
  auto spec = body.find("spec");
  o.spec_json = spec == body.end() ? "{}" : dump(*spec);
  o.status_json = "{}";
  return out;
}

} // namespace

Rejection store_failure(const util::Error& error, const std::string& name, bool creating) {
  Rejection r{error, name, {}};
  if (error.kind == util::ErrorKind::not_found) {
    r.error.message = qualified(name) + " not found";
  } else if (error.kind == util::ErrorKind::conflict && creating) {
    r.error.message = qualified(name) + " already exists";
  } else if (error.kind == util::ErrorKind::conflict) {
    r.error.message = "Operation cannot be fulfilled on " + qualified(name) +
                      ": the object has been modified; please apply your changes to the latest "
                      "version and try again";
  }
  return r;
}

util::Result<std::string> yaml_document_to_json(std::string_view text) {
  return detail::yaml_to_json(text, {100'000, detail::k_max_json_depth});
}

Writes::Writes(store::Store& store, std::function<void(const store::Key&)> on_change)
    : m_store(store), m_on_change(std::move(on_change)) {}

void Writes::notify(const store::Key& key) const {
  if (m_on_change) {
    m_on_change(key);
  }
}

WriteResult<Written> Writes::create(std::string_view namespace_, std::string_view object_json) {
  auto valid = validate(object_json, std::string(namespace_), nullptr);
  if (!valid) {
    return std::unexpected(std::move(valid.error()));
  }
  const std::string name = valid->object.key.name;
  auto created = m_store.create(std::move(valid->object));
  if (!created) {
    return std::unexpected(store_failure(created.error(), name, /*creating=*/true));
  }
  notify(created->key);
  valid->object = std::move(*created);
  return valid;
}

WriteResult<Written> Writes::replace(std::string_view namespace_, std::string_view name,
                                     std::string_view object_json) {
  const std::string path_name(name);
  auto valid = validate(object_json, std::string(namespace_), &path_name);
  if (!valid) {
    return std::unexpected(std::move(valid.error()));
  }
  // The store replaces spec, labels and annotations only: the client's status never reaches it.
  auto replaced = m_store.replace(valid->object);
  if (!replaced) {
    return std::unexpected(store_failure(replaced.error(), path_name, /*creating=*/false));
  }
  notify(replaced->key);
  valid->object = std::move(*replaced);
  return valid;
}

WriteResult<store::Object> Writes::remove(const store::Key& key,
                                          std::string_view resource_version) {
  // Read first: the answer names the uid of what was deleted.
  auto found = m_store.get(key);
  if (!found) {
    return std::unexpected(store_failure(found.error(), key.name, /*creating=*/false));
  }
  if (auto removed = m_store.remove(key, std::string(resource_version)); !removed) {
    return std::unexpected(store_failure(removed.error(), key.name, /*creating=*/false));
  }
  notify(found->key);
  return std::move(*found);
}

WriteResult<Applied> Writes::apply(std::string_view namespace_, std::string_view object_json) {
  auto valid = validate(object_json, std::string(namespace_), nullptr);
  if (!valid) {
    return std::unexpected(std::move(valid.error()));
  }
  const store::Key key = valid->object.key;
  auto stored = m_store.get(key);
  if (!stored && stored.error().kind != util::ErrorKind::not_found) {
    return std::unexpected(store_failure(stored.error(), key.name, /*creating=*/false));
  }
  Applied out;
  if (!stored) {
    auto created = m_store.create(std::move(valid->object));
    if (!created) {
      return std::unexpected(store_failure(created.error(), key.name, /*creating=*/true));
    }
    notify(created->key);
    out.outcome = Applied::Outcome::created;
    valid->object = std::move(*created);
    out.written = std::move(*valid);
    return out;
  }
  if (stored->spec_json == valid->object.spec_json && stored->labels == valid->object.labels &&
      stored->annotations == valid->object.annotations) {
    out.outcome = Applied::Outcome::unchanged;
    valid->object = std::move(*stored);
    out.written = std::move(*valid);
    return out;
  }
  valid->object.resource_version = stored->resource_version;
  auto replaced = m_store.replace(valid->object);
  if (!replaced) {
    return std::unexpected(store_failure(replaced.error(), key.name, /*creating=*/false));
  }
  notify(replaced->key);
  out.outcome = Applied::Outcome::updated;
  valid->object = std::move(*replaced);
  out.written = std::move(*valid);
  return out;
}

} // namespace common::api
