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

// ---- decoding ----

std::string field_of(const std::string& where, const char* key) {
  return where.empty() ? std::string(key) : where + "." + key;
}

// Reads a decoded JSON document into the status types. The first type error is kept (naming the
// field); after it the readers return empty values, so the walk ends without branching at every
// step, and decode() reports that error instead of the value.
class Decoder {
public:
  ImageUpdaterStatus status(const json& s) {
    ImageUpdaterStatus out;
    out.observed_generation = integer(s, "", "observedGeneration");
    if (const json* t = member(s, "lastCheckTime")) {
      out.last_check_time = time_of(*t, "lastCheckTime");
    }
    out.images = list<ImageResult>(s, "images", &Decoder::image);
    out.conditions = list<Condition>(s, "conditions", &Decoder::condition);
    if (const json* src = object_member(s, "", "source")) {
      out.source = Source{text(*src, "source", "url"), text(*src, "source", "revision")};
    }
    if (const json* a = object_member(s, "", "artifact")) {
      out.artifact = artifact(*a);
    }
    if (const json* e = object_member(s, "", "externalArtifact")) {
      out.external_artifact = e->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (const json* o = object_member(s, "", "oci")) {
      out.oci =
          OciPush{text(*o, "oci", "repository"), text(*o, "oci", "tag"), text(*o, "oci", "digest")};
    }
    out.inputs_digest = text(s, "", "inputsDigest");
    out.last_handled_reconcile_at = text(s, "", "lastHandledReconcileAt");
    out.warnings = strings(s, "", "warnings");
    return out;
  }

  const std::optional<util::Error>& error() const { return m_error; }

private:
  void bad(const std::string& field, const char* want) {
    if (!m_error) {
      m_error = util::Error{ErrorKind::invalid_input, "status." + field + ": want " + want};
    }
  }

  static const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  // An object member; nullptr when absent or not an object (then the error is kept).
  const json* object_member(const json& object, const std::string& where, const char* key) {
    const json* j = member(object, key);
    if (j != nullptr && !j->is_object()) {
      bad(field_of(where, key), "an object");
      return nullptr;
    }
    return j;
  }

  std::string string_of(const json& j, const std::string& where) {
    if (!j.is_string()) {
      bad(where, "a string");
      return {};
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
      bad(field_of(where, key), "an integer");
      return 0;
    }
    const auto v = j->get<std::int64_t>();
    if (v < 0) {
      bad(field_of(where, key), "a non-negative integer");
      return 0;
    }
    return v;
  }

  util::Timestamp time_of(const json& j, const std::string& where) {
    if (!j.is_string()) {
      bad(where, "a string");
      return {};
    }
    auto t = util::parse_rfc3339(j.get<std::string>());
    if (!t) {
      bad(where, "an RFC 3339 time");
      return {};
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
      bad(field, "a list of strings");
      return out;
    }
    for (std::size_t i = 0; i < j->size(); ++i) {
      out.push_back(string_of((*j)[i], field + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  // The objects of a list member, each read by `read(element, "key[i]")`.
  template <class T>
  std::vector<T> list(const json& object, const char* key,
                      T (Decoder::*read)(const json&, const std::string&)) {
    std::vector<T> out;
    const json* j = member(object, key);
    if (j == nullptr) {
      return out;
    }
    if (!j->is_array()) {
      bad(key, "a list");
      return out;
    }
    for (std::size_t i = 0; i < j->size(); ++i) {
      const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
      if (!(*j)[i].is_object()) {
        bad(where, "an object");
        continue;
      }
      out.push_back((this->*read)((*j)[i], where));
    }
    return out;
  }

  Condition condition(const json& c, const std::string& where) {
    Condition out;
    out.type = text(c, where, "type");
    if (out.type.empty()) {
      bad(field_of(where, "type"), "a condition type");
    }
    const std::string status = text(c, where, "status");
    if (status == "True") {
      out.status = ConditionStatus::true_;
    } else if (status == "False") {
      out.status = ConditionStatus::false_;
    } else if (status == "Unknown") {
      out.status = ConditionStatus::unknown;
    } else {
      bad(field_of(where, "status"), "True, False or Unknown");
    }
    out.reason = text(c, where, "reason");
    out.message = text(c, where, "message");
    out.observed_generation = integer(c, where, "observedGeneration");
    if (const json* t = member(c, "lastTransitionTime")) {
      out.last_transition_time = time_of(*t, field_of(where, "lastTransitionTime"));
    }
    return out;
  }

  ImageResult image(const json& i, const std::string& where) {
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

  Artifact artifact(const json& a) {
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
    if (const json* m = object_member(a, where, "metadata")) {
      for (const auto& [key, value] : m->items()) {
        out.metadata[key] = string_of(value, "artifact.metadata." + key);
      }
    }
    return out;
  }

  std::optional<util::Error> m_error;
};

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
  if (!s.last_handled_reconcile_at.empty()) {
    out["lastHandledReconcileAt"] = s.last_handled_reconcile_at;
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
  Decoder decoder;
  ImageUpdaterStatus status = decoder.status(j);
  if (decoder.error()) {
    return std::unexpected(*decoder.error());
  }
  return status;
}

} // namespace common::status
