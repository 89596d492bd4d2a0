#include "common/cluster/cluster_store.hpp"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/util/try.hpp"

namespace common::cluster {

namespace {

using nlohmann::json;
using util::ErrorKind;

constexpr std::string_view k_api_version = "gitops.kubesphere.io/v1alpha1";
constexpr std::string_view k_kind = "ImageUpdater";

util::Result<json> parse(std::string_view text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return util::fail(ErrorKind::internal, std::string(what) + " is not JSON: " + e.what());
  }
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

util::Result<std::map<std::string, std::string>> string_map(const json& metadata, const char* key) {
  std::map<std::string, std::string> out;
  auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) {
    return out;
  }
  if (!it->is_object()) {
    return util::fail_at(ErrorKind::invalid_input, util::at_field(std::string("metadata.") + key),
                         "want an object of strings");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return util::fail_at(ErrorKind::invalid_input,
                           util::at_field(std::string("metadata.") + key + "." + k),
                           "want a string");
    }
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

json metadata_of(const store::Object& object) {
  json metadata = {{"name", object.key.name}, {"namespace", object.key.namespace_}};
  if (!object.labels.empty()) {
    metadata["labels"] = object.labels;
  }
  if (!object.annotations.empty()) {
    metadata["annotations"] = object.annotations;
  }
  if (!object.resource_version.empty()) {
    metadata["resourceVersion"] = object.resource_version;
  }
  return metadata;
}

util::Result<json> spec_of(const store::Object& object) {
  if (object.spec_json.empty()) {
    return json::object();
  }
  return parse(object.spec_json, "spec");
}

// An object the API server answered with, decoded; a decoding failure is the server's (internal),
// not the caller's.
util::Result<store::Object> decode_answer(const util::Result<std::string>& answer) {
  if (!answer) {
    return std::unexpected(answer.error());
  }
  auto object = decode(*answer);
  if (!object) {
    return std::unexpected(util::with_context(
        util::Error{ErrorKind::internal, object.error().message}, "the API server's answer"));
  }
  return object;
}

const char* op_text(store::Requirement::Op op) {
  switch (op) {
  case store::Requirement::Op::equals:
    return "=";
  case store::Requirement::Op::not_equals:
    return "!=";
  case store::Requirement::Op::in:
    return " in ";
  case store::Requirement::Op::not_in:
    return " notin ";
  case store::Requirement::Op::exists:
  case store::Requirement::Op::not_exists:
    return "";
  }
  return "";
}

} // namespace

util::Result<store::Object> decode(std::string_view text) {
  auto document = IU_TRY(parse(text, "an ImageUpdater"));
  if (!document.is_object()) {
    return util::fail(ErrorKind::invalid_input, "an ImageUpdater must be a JSON object");
  }
  if (string_at(document, "apiVersion") != k_api_version || string_at(document, "kind") != k_kind) {
    return util::fail(ErrorKind::invalid_input,
                      "not an ImageUpdater: apiVersion \"" + string_at(document, "apiVersion") +
                          "\", kind \"" + string_at(document, "kind") + "\"");
  }
  auto metadata = document.find("metadata");
  if (metadata == document.end() || !metadata->is_object()) {
    return util::fail_at(ErrorKind::invalid_input, util::at_field("metadata"), "want an object");
  }
  store::Object object;
  object.key.namespace_ = string_at(*metadata, "namespace");
  object.key.name = string_at(*metadata, "name");
  object.uid = string_at(*metadata, "uid");
  object.resource_version = string_at(*metadata, "resourceVersion");
  object.creation_timestamp = string_at(*metadata, "creationTimestamp");
  if (auto g = metadata->find("generation"); g != metadata->end() && g->is_number_integer()) {
    object.generation = g->template get<std::int64_t>();
  }
  object.labels = IU_TRY(string_map(*metadata, "labels"));
  object.annotations = IU_TRY(string_map(*metadata, "annotations"));
  auto spec = document.find("spec");
  object.spec_json = spec == document.end() ? "{}" : spec->dump();
  auto status = document.find("status");
  object.status_json = status == document.end() || status->is_null() ? "{}" : status->dump();
  return object;
}

std::string encode(const store::Object& object, bool with_status) {
  json document = {{"apiVersion", k_api_version}, {"kind", k_kind}};
  document["metadata"] = metadata_of(object);
  auto spec = spec_of(object);
  document["spec"] = spec ? *spec : json::object();
  if (with_status && !object.status_json.empty()) {
    auto status = parse(object.status_json, "status");
    if (status) {
      document["status"] = *status;
    }
  }
  return document.dump();
}

std::string selector_text(const store::Selector& selector) {
  std::string out;
  for (const store::Requirement& r : selector) {
    if (!out.empty()) {
      out += ',';
    }
    if (r.op == store::Requirement::Op::not_exists) {
      out += '!';
    }
    out += r.key;
    out += op_text(r.op);
    if (r.op == store::Requirement::Op::in || r.op == store::Requirement::Op::not_in) {
      out += '(';
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        out += (i ? "," : "") + r.values[i];
      }
      out += ')';
    } else if (r.op == store::Requirement::Op::equals ||
               r.op == store::Requirement::Op::not_equals) {
      out += r.values.empty() ? std::string() : r.values.front();
    }
  }
  return out;
}

ClusterStore::ClusterStore(kube::Api& api, CacheLookup cache)
    : m_api(api), m_cache(std::move(cache)) {}

ClusterStore::ClusterStore(std::unique_ptr<kube::Api> api)
    : m_owned(std::move(api)), m_api(*m_owned) {}

util::Result<store::Object> ClusterStore::create(store::Object object) {
  object.resource_version.clear();
  return decode_answer(
      m_api.create(kube::imageupdaters(), object.key.namespace_, encode(object, false)));
}

util::Result<store::Object> ClusterStore::get(const store::Key& key) {
  if (m_cache) {
    std::optional<std::string> cached = m_cache(key);
    if (!cached) {
      return util::fail(ErrorKind::not_found,
                        "imageupdaters.gitops.kubesphere.io \"" + key.name + "\" not found");
    }
    return decode_answer(*cached);
  }
  return decode_answer(m_api.get(kube::imageupdaters(), key.namespace_, key.name));
}

util::Result<store::Page> ClusterStore::list(const std::string& namespace_,
                                             const store::ListOptions& options) {
  kube::ListOptions query;
  query.limit = options.limit;
  query.continue_token = options.continue_token;
  query.label_selector = selector_text(options.selector);
  kube::ListPage page = IU_TRY(m_api.list(kube::imageupdaters(), namespace_, query));
  store::Page out;
  out.continue_token = page.continue_token;
  out.resource_version = page.resource_version;
  out.items.reserve(page.items.size());
  for (const std::string& item : page.items) {
    store::Object object = IU_TRY(decode_answer(item));
    out.items.push_back(std::move(object));
  }
  return out;
}

util::Result<store::Object> ClusterStore::replace(const store::Object& object) {
  if (object.resource_version.empty()) {
    return util::fail(ErrorKind::invalid_input, "replace needs metadata.resourceVersion");
  }
  std::string current_text =
      IU_TRY(m_api.get(kube::imageupdaters(), object.key.namespace_, object.key.name));
  json current = IU_TRY(parse(current_text, "the API server's answer"));
  json spec = IU_TRY(spec_of(object));
  json& metadata = current["metadata"];
  if (object.labels.empty()) {
    metadata.erase("labels");
  } else {
    metadata["labels"] = object.labels;
  }
  if (object.annotations.empty()) {
    metadata.erase("annotations");
  } else {
    metadata["annotations"] = object.annotations;
  }
  // The caller's version, not the one just read: the API server refuses a stale one.
  metadata["resourceVersion"] = object.resource_version;
  current["spec"] = std::move(spec);
  current.erase("status");
  return decode_answer(
      m_api.update(kube::imageupdaters(), object.key.namespace_, object.key.name, current.dump()));
}

util::Result<store::Object> ClusterStore::replace_status(const store::Key& key,
                                                         const std::string& resource_version,
                                                         const std::string& status_json) {
  if (resource_version.empty()) {
    return util::fail(ErrorKind::invalid_input, "a status write needs metadata.resourceVersion");
  }
  json status = IU_TRY(parse(status_json, "status"));
  json document = {
      {"apiVersion", k_api_version},
      {"kind", k_kind},
      {"metadata",
       {{"name", key.name}, {"namespace", key.namespace_}, {"resourceVersion", resource_version}}},
      {"status", std::move(status)}};
  return decode_answer(
      m_api.update(kube::imageupdaters(), key.namespace_, key.name, document.dump(), "status"));
}

util::Result<void> ClusterStore::remove(const store::Key& key,
                                        const std::string& resource_version) {
  kube::DeleteOptions options;
  options.resource_version = resource_version;
  IU_TRY(m_api.remove(kube::imageupdaters(), key.namespace_, key.name, options));
  return {};
}

std::shared_ptr<store::Store> caller_store(const kube::Client& client, std::string token) {
  return std::make_shared<ClusterStore>(
      std::unique_ptr<kube::Api>(client.with_token(std::move(token))));
}

} // namespace common::cluster
