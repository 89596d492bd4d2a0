#include "common/status/codec.hpp"

#include <chrono>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

namespace common::status {

namespace {

using nlohmann::json;
using util::ErrorKind;

std::string time_text(util::Timestamp t) {
  return util::format_rfc3339(t);
}

json encode_condition(const Condition& c) {
  return json{{"type", c.type},
              {"status", std::string(to_string(c.status))},
              {"reason", c.reason},
              {"message", c.message},
              {"observedGeneration", c.observed_generation},
              {"lastTransitionTime", time_text(c.last_transition_time)}};
}

json encode_image(const ImageResult& r) {
  json image = {{"alias", r.alias},
                {"image", r.image},
                {"repository", r.repository},
                {"strategy", r.strategy},
                {"constraint", r.constraint}};
  if (r.error) {
    image["error"] = *r.error;
  } else {
    image["tag"] = r.tag;
    image["digest"] = r.digest;
    image["reason"] = r.reason;
  }
  if (!r.warnings.empty()) {
    image["warnings"] = r.warnings;
  }
  return image;
}

json encode_artifact(const Artifact& a) {
  json artifact = {{"digest", a.digest}, {"lastUpdateTime", time_text(a.last_update_time)},
                   {"path", a.path},     {"revision", a.revision},
                   {"size", a.size},     {"url", a.url}};
  if (!a.metadata.empty()) {
    artifact["metadata"] = a.metadata;
  }
  return artifact;
}

// ---- decoding: every reader names the field it failed on ----

// The failure of a decode, carried out of the nested readers by exception inside this file only
// (the readers stay flat), turned into an Error at the one entry point.
struct Bad {
  std::string field;
  std::string want;
};

const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string field_of(const std::string& where, const char* key) {
  return where.empty() ? std::string(key) : where + "." + key;
}

const json& object_at(const json& j, const std::string& where) {
  if (!j.is_object()) {
    throw Bad{where, "an object"};
  }
  return j;
}

std::string string_of(const json& j, const std::string& where) {
  if (!j.is_string()) {
    throw Bad{where, "a string"};
  }
  return j.get<std::string>();
}

// A string member; "" when absent.
std::string text(const json& object, const std::string& where, const char* key) {
  const json* j = member(object, key);
  return j == nullptr ? std::string() : string_of(*j, field_of(where, key));
}

std::int64_t integer(const json& object, const std::string& where, const char* key) {
  const json* j = member(object, key);
  if (j == nullptr) {
    return 0;
  }
  constexpr auto k_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!j->is_number_integer() || (j->is_number_unsigned() && j->get<std::uint64_t>() > k_max)) {
    throw Bad{field_of(where, key), "an integer"};
  }
  const auto v = j->get<std::int64_t>();
  if (v < 0) {
    throw Bad{field_of(where, key), "a non-negative integer"};
  }
  return v;
}

util::Timestamp time_of(const json& j, const std::string& where) {
  auto t = util::parse_rfc3339(string_of(j, where));
  if (!t) {
    throw Bad{where, "an RFC 3339 time"};
  }
  return *t;
}

std::vector<std::string> strings(const json& object, const std::string& where, const char* key) {
  std::vector<std::string> out;
  const json* j = member(object, key);
  if (j == nullptr) {
    return out;
  }
  const std::string field = field_of(where, key);
  if (!j->is_array()) {
    throw Bad{field, "a list of strings"};
  }
  for (std::size_t i = 0; i < j->size(); ++i) {
    out.push_back(string_of((*j)[i], field + "[" + std::to_string(i) + "]"));
  }
  return out;
}

// The elements of a list member, each read by `read(element, "key[i]")`.
template <class T, class F>
std::vector<T> list(const json& object, const char* key, F read) {
  std::vector<T> out;
  const json* j = member(object, key);
  if (j == nullptr) {
    return out;
  }
  if (!j->is_array()) {
    throw Bad{key, "a list"};
  }
  for (std::size_t i = 0; i < j->size(); ++i) {
    const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    out.push_back(read(object_at((*j)[i], where), where));
  }
  return out;
}

Condition decode_condition(const json& c, const std::string& where) {
  Condition out;
  out.type = text(c, where, "type");
  if (out.type.empty()) {
    throw Bad{field_of(where, "type"), "a condition type"};
  }
  const std::string status = text(c, where, "status");
  if (status == "True") {
    out.status = ConditionStatus::true_;
  } else if (status == "False") {
    out.status = ConditionStatus::false_;
  } else if (status == "Unknown") {
    out.status = ConditionStatus::unknown;
  } else {
    throw Bad{field_of(where, "status"), "True, False or Unknown"};
  }
  out.reason = text(c, where, "reason");
  out.message = text(c, where, "message");
  out.observed_generation = integer(c, where, "observedGeneration");
  if (const json* t = member(c, "lastTransitionTime")) {
    out.last_transition_time = time_of(*t, field_of(where, "lastTransitionTime"));
  }
  return out;
}

ImageResult decode_image(const json& i, const std::string& where) {
  ImageResult out;
  out.alias = text(i, where, "alias");
  out.image = text(i, where, "image");
  out.repository = text(i, where, "repository");
  out.strategy = text(i, where, "strategy");
  out.constraint = text(i, where, "constraint");
  if (const json* e = member(i, "error")) {
    out.error = string_of(*e, field_of(where, "error"));
  } else {
    out.tag = text(i, where, "tag");
    out.digest = text(i, where, "digest");
    out.reason = text(i, where, "reason");
  }
  out.warnings = strings(i, where, "warnings");
  return out;
}

Artifact decode_artifact(const json& a) {
  const std::string where = "artifact";
  Artifact out;
  out.digest = text(a, where, "digest");
  if (const json* t = member(a, "lastUpdateTime")) {
    out.last_update_time = time_of(*t, "artifact.lastUpdateTime");
  }
  out.path = text(a, where, "path");
  out.revision = text(a, where, "revision");
  out.size = static_cast<std::uint64_t>(integer(a, where, "size"));
  out.url = text(a, where, "url");
  if (const json* m = member(a, "metadata")) {
    for (const auto& [key, value] : object_at(*m, "artifact.metadata").items()) {
      out.metadata[key] = string_of(value, "artifact.metadata." + key);
    }
  }
  return out;
}

ImageUpdaterStatus decode_status(const json& s) {
  ImageUpdaterStatus out;
  out.observed_generation = integer(s, "", "observedGeneration");
  if (const json* t = member(s, "lastCheckTime")) {
    out.last_check_time = time_of(*t, "lastCheckTime");
  }
  out.images = list<ImageResult>(s, "images", decode_image);
  out.conditions = list<Condition>(s, "conditions", decode_condition);
  if (const json* src = member(s, "source")) {
    const json& o = object_at(*src, "source");
    out.source = Source{text(o, "source", "url"), text(o, "source", "revision")};
  }
  if (const json* a = member(s, "artifact")) {
    out.artifact = decode_artifact(object_at(*a, "artifact"));
  }
  if (const json* e = member(s, "externalArtifact")) {
    out.external_artifact =
        object_at(*e, "externalArtifact").dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (const json* o = member(s, "oci")) {
    const json& oci = object_at(*o, "oci");
    out.oci = OciPush{text(oci, "oci", "repository"), text(oci, "oci", "tag"),
                      text(oci, "oci", "digest")};
  }
  out.inputs_digest = text(s, "", "inputsDigest");
  out.warnings = strings(s, "", "warnings");
  return out;
}

} // namespace

std::string encode(const ImageUpdaterStatus& s) {
  json out = json::object();
  out["observedGeneration"] = s.observed_generation;
  if (s.last_check_time) {
    out["lastCheckTime"] = time_text(*s.last_check_time);
  }
  json images = json::array();
  for (const ImageResult& r : s.images) {
    images.push_back(encode_image(r));
  }
  out["images"] = std::move(images);
  json conditions = json::array();
  for (const Condition& c : s.conditions) {
    conditions.push_back(encode_condition(c));
  }
  out["conditions"] = std::move(conditions);
  if (s.source) {
    out["source"] = {{"url", s.source->url}, {"revision", s.source->revision}};
  }
  if (s.artifact) {
    out["artifact"] = encode_artifact(*s.artifact);
  }
  if (!s.external_artifact.empty()) {
    // Written by this service (artifact_json); text that is not an object is a bug upstream and
    // is left out rather than written as something readers would choke on.
    json external = json::parse(s.external_artifact, nullptr, /*allow_exceptions=*/false);
    if (external.is_object()) {
      out["externalArtifact"] = std::move(external);
    }
  }
  if (s.oci) {
    out["oci"] = {
        {"repository", s.oci->repository}, {"tag", s.oci->tag}, {"digest", s.oci->digest}};
  }
  if (!s.inputs_digest.empty()) {
    out["inputsDigest"] = s.inputs_digest;
  }
  if (!s.warnings.empty()) {
    out["warnings"] = s.warnings;
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<ImageUpdaterStatus> decode(std::string_view text) {
  if (text.empty()) {
    return ImageUpdaterStatus{};
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return util::fail(ErrorKind::invalid_input, "status: not JSON");
  }
  if (!j.is_object()) {
    return util::fail(ErrorKind::invalid_input, "status: want an object");
  }
  try {
    return decode_status(j);
  } catch (const Bad& bad) {
    return util::fail(ErrorKind::invalid_input, "status." + bad.field + ": want " + bad.want);
  } catch (const json::exception& e) {
    return util::fail(ErrorKind::invalid_input, std::string("status: ") + e.what());
  }
}

} // namespace common::status
