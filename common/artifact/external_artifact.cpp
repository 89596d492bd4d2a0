#include "common/artifact/external_artifact.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace common::artifact {
namespace {

using nlohmann::json;

std::string seconds_rfc3339(util::Timestamp t) {
  return util::format_rfc3339(std::chrono::floor<std::chrono::seconds>(t));
}

json object_of(const ExternalArtifactInput& in) {
  const std::string revision = artifact_revision(in.digest);
  const std::string updated = seconds_rfc3339(in.last_update_time);

  json artifact = {
      {"digest", in.digest},  {"lastUpdateTime", updated}, {"path", in.path},
      {"revision", revision}, {"size", in.size},           {"url", in.base_url + "/" + in.path},
  };
  if (!in.source_revision.empty()) {
    artifact["metadata"] = {{std::string(k_revision_annotation), in.source_revision}};
  }
  json metadata = {
      {"name", in.name},
      {"namespace", in.namespace_},
      {"labels", {{"app.kubernetes.io/managed-by", "imageupdater"}}},
  };
  if (!in.updater_uid.empty() && in.updater_namespace == in.namespace_) {
    metadata["ownerReferences"] = json::array({{
        {"apiVersion", std::string(k_updater_api_version)},
        {"kind", std::string(k_updater_kind)},
        {"name", in.updater_name},
        {"uid", in.updater_uid},
        {"controller", true},
        {"blockOwnerDeletion", true},
    }});
  }
  return {
      {"apiVersion", std::string(k_external_artifact_api_version)},
      {"kind", std::string(k_external_artifact_kind)},
      {"metadata", metadata},
      {"spec",
       {{"sourceRef",
         {{"apiVersion", std::string(k_updater_api_version)},
          {"kind", std::string(k_updater_kind)},
          {"name", in.updater_name},
          {"namespace", in.updater_namespace}}}}},
      {"status",
       {{"artifact", artifact},
        {"conditions", json::array({{
                           {"type", "Ready"},
                           {"status", "True"},
                           {"reason", "Succeeded"},
                           {"message", "stored artifact for revision '" + revision + "'"},
                           {"lastTransitionTime", updated},
                       }})}}},
  };
}

std::string json_text(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// A string that YAML reads back as the same string without quotes: an identifier-like run
// that no YAML 1.1 or 1.2 resolver turns into a boolean, null or number.
bool plain_safe(std::string_view s) {
  if (s.empty() ||
      !((s.front() >= 'a' && s.front() <= 'z') || (s.front() >= 'A' && s.front() <= 'Z'))) {
    return false;
  }
  const bool chars_ok = std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-';
  });
  if (!chars_ok) {
    return false;
  }
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  for (const char* word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}) {
    if (lower == word) {
      return false;
    }
  }
  return true;
}

std::string yaml_scalar(const json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    // A JSON string is a valid YAML double-quoted scalar (YAML 1.2 is a superset of JSON).
    return plain_safe(s) ? s : json_text(j);
  }
  return json_text(j); // numbers, booleans, null, {} and []
}

bool is_block(const json& j) {
  return (j.is_object() || j.is_array()) && !j.empty();
}

void emit(const json& j, std::size_t indent, std::string& out);

// One `key: value` line (or `key:` and the block below it), at the current position.
void emit_member(const std::string& key, const json& value, std::size_t indent, std::string& out) {
  out += yaml_scalar(json(key));
  out += ':';
  if (is_block(value)) {
    out += '\n';
    // Sequences sit at their key's indentation, as kubectl writes them.
    emit(value, value.is_array() ? indent : indent + 2, out);
  } else {
    out += ' ' + yaml_scalar(value) + '\n';
  }
}

void emit(const json& j, std::size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      out += pad;
      emit_member(key, value, indent, out);
    }
    return;
  }
  for (const json& item : j) {
    out += pad + "- ";
    if (item.is_object() && !item.empty()) {
      // The first member on the dash's line, the others aligned under it.
      bool first = true;
      for (const auto& [key, value] : item.items()) {
        if (!first) {
          out += pad + "  ";
        }
        first = false;
        emit_member(key, value, indent + 2, out);
      }
    } else if (is_block(item)) {
      out += '\n';
      emit(item, indent + 2, out);
    } else {
      out += yaml_scalar(item) + '\n';
    }
  }
}

} // namespace

std::string artifact_revision(std::string_view digest) {
  return "latest@" + std::string(digest);
}

std::string artifact_json(const ExternalArtifactInput& input) {
  return json_text(object_of(input), 2) + "\n";
}

std::string artifact_yaml(const ExternalArtifactInput& input) {
  // Through the JSON text, so both forms carry exactly the same (U+FFFD-replaced) strings.
  const json doc = json::parse(json_text(object_of(input)), nullptr, false);
  std::string out;
  emit(doc, 0, out);
  return out;
}

} // namespace common::artifact
