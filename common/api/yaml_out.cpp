// A block-style YAML writer for JSON values: deterministic (keys sorted, as nlohmann keeps
// them), strings plain when that cannot change their meaning, else in JSON's
// double-quoted form (which is YAML's).
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/api/yaml_json.hpp"

namespace common::api::detail {
namespace {

using nlohmann::json;

bool plain_safe(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front())) || s.back() == ' ') {
    return false;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != ' ' && c != '.' && c != '_' && c != '/' && c != '-' && c != '(' &&
        c != ')') {
      return false;
    }
  }
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}) {
    if (lower == word) {
      return false;
    }
  }
  return true;
}

std::string scalar(const json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    return plain_safe(s) ? s : json(s).dump(); // a JSON string is a YAML double-quoted scalar
  }
  return j.dump();
}

bool inline_value(const json& j) {
  return j.is_primitive() || j.empty();
}

void emit(const json& j, int indent, std::string& out);

// One value after "key:" or "- ".
void emit_value(const json& j, int indent, std::string& out) {
  if (inline_value(j)) {
    out += ' ';
    out += j.is_primitive() ? scalar(j) : j.is_array() ? "[]" : "{}";
    out += '\n';
    return;
  }
  out += "\n";
  emit(j, indent, out);
}

void emit(const json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      out += pad;
      out += scalar(json(key));
      out += ':';
      emit_value(value, indent + 2, out);
    }
    return;
  }
  for (const json& item : j) {
    if (inline_value(item)) {
      out += pad;
      out += '-';
      emit_value(item, indent + 2, out);
      continue;
    }
    // "- " then the item's first line, its other lines indented under it.
    std::string nested;
    emit(item, indent + 2, nested);
    out += pad;
    out += "- ";
    out.append(nested, static_cast<std::size_t>(indent) + 2);
  }
}

} // namespace

std::string json_to_yaml(std::string_view json_text) {
  std::string out;
  const json value = json::parse(json_text, nullptr, false);
  if (value.is_discarded()) {
    return out;
  }
  if (inline_value(value)) {
    out = value.is_primitive() ? scalar(value) : value.is_array() ? "[]" : "{}";
    out += '\n';
    return out;
  }
  emit(value, 0, out);
  return out;
}

} // namespace common::api::detail
