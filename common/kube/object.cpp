#include "common/kube/object.hpp"

#include <nlohmann/json.hpp>

namespace common::kube {

namespace {

using json = nlohmann::json;

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::map<std::string, std::string> string_map_at(const json& object, const char* key) {
  std::map<std::string, std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) {
    return out;
  }
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) {
      out.emplace(k, v.get<std::string>());
    }
  }
  return out;
}

} // namespace

util::Result<ObjectMeta> parse_meta(std::string_view object_json) {
  json object = json::parse(object_json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return util::fail(util::ErrorKind::invalid_input, "an object is not a JSON object");
  }
  auto mit = object.find("metadata");
  if (mit == object.end() || !mit->is_object()) {
    return util::fail(util::ErrorKind::invalid_input, "an object has no metadata");
  }
  const json& m = *mit;
  ObjectMeta meta;
  meta.name = string_at(m, "name");
  if (meta.name.empty()) {
    return util::fail(util::ErrorKind::invalid_input, "an object has no metadata.name");
  }
  meta.namespace_ = string_at(m, "namespace");
  meta.uid = string_at(m, "uid");
  meta.resource_version = string_at(m, "resourceVersion");
  if (auto g = m.find("generation"); g != m.end() && g->is_number_integer()) {
    meta.generation = g->get<std::int64_t>();
  }
  meta.labels = string_map_at(m, "labels");
  meta.annotations = string_map_at(m, "annotations");
  meta.deletion_timestamp = string_at(m, "deletionTimestamp");
  if (auto f = m.find("finalizers"); f != m.end() && f->is_array()) {
    for (const auto& v : *f) {
      if (v.is_string()) {
        meta.finalizers.push_back(v.get<std::string>());
      }
    }
  }
  return meta;
}

util::Result<CachedObject> parse_object(std::string object_json) {
  auto meta = parse_meta(object_json);
  if (!meta) {
    return std::unexpected(std::move(meta.error()));
  }
  return CachedObject{std::move(*meta), std::move(object_json)};
}

bool worth_reconciling(const ObjectMeta& old, const ObjectMeta& now) {
  return old.generation != now.generation || old.labels != now.labels ||
         old.annotations != now.annotations || old.deletion_timestamp != now.deletion_timestamp ||
         old.finalizers != now.finalizers;
}

} // namespace common::kube
