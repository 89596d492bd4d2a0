// Tables, patches, content negotiation, field selectors and strict field validation for
// kubectl (kube.hpp); the documents are in kube_documents.cpp.
#include "common/api/kube.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/api/crd.hpp"
#include "common/api/writes.hpp"
#include "common/util/strings.hpp"
#include "common/util/time.hpp"

namespace common::api::detail {
namespace {

using nlohmann::json;

// ---- printer columns: the JSONPath subset the CRD's columns use ----

// Evaluates ".a.b", "[*]" and "[?(@.key==\"value\")]" steps; every match, in order.
std::vector<const json*> evaluate(const json& root, std::string_view path) {
  std::vector<const json*> current{&root};
  while (!path.empty()) {
    std::vector<const json*> next;
    if (path.front() == '.') {
      path.remove_prefix(1);
      const auto end = path.find_first_of(".[");
      const std::string key(path.substr(0, end));
      path.remove_prefix(end == std::string_view::npos ? path.size() : end);
      for (const json* j : current) {
        if (j->is_object() && j->contains(key)) {
          next.push_back(&(*j)[key]);
        }
      }
    } else if (path.starts_with("[*]")) {
      path.remove_prefix(3);
      for (const json* j : current) {
        if (j->is_array()) {
          for (const json& item : *j) {
            next.push_back(&item);
          }
        }
      }
    } else if (path.starts_with("[?(@.")) {
      const auto close = path.find(")]");
      if (close == std::string_view::npos) {
        return {};
      }
      const std::string_view filter = path.substr(5, close - 5); // key=="value"
      path.remove_prefix(close + 2);
      const auto eq = filter.find("==");
      if (eq == std::string_view::npos || filter.size() < eq + 4) {
        return {};
      }
      const std::string key(filter.substr(0, eq));
      const std::string value(filter.substr(eq + 3, filter.size() - eq - 4));
      for (const json* j : current) {
        if (!j->is_array()) {
          continue;
        }
        for (const json& item : *j) {
          if (item.is_object() && item.contains(key) && item[key] == value) {
            next.push_back(&item);
          }
        }
      }
    } else {
      return {};
    }
    current = std::move(next);
  }
  return current;
}

// apimachinery's duration.HumanDuration.
std::string human_duration(std::chrono::seconds d) {
  const long long seconds = d.count();
  auto f = [](const char* format, long long a, long long b = 0) {
    char out[32];
    std::snprintf(out, sizeof out, format, a, b);
    return std::string(out);
  };
  if (seconds < -1) {
    return "<invalid>";
  }
  if (seconds < 0) {
    return "0s";
  }
  if (seconds < 120) {
    return f("%llds", seconds);
  }
  const long long minutes = seconds / 60;
  if (minutes < 10) {
    return seconds % 60 == 0 ? f("%lldm", minutes) : f("%lldm%llds", minutes, seconds % 60);
  }
  if (minutes < 180) {
    return f("%lldm", minutes);
  }
  const long long hours = seconds / 3600;
  if (hours < 8) {
    return minutes % 60 == 0 ? f("%lldh", hours) : f("%lldh%lldm", hours, minutes % 60);
  }
  if (hours < 48) {
    return f("%lldh", hours);
  }
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? f("%lldd", hours / 24) : f("%lldd%lldh", hours / 24, hours % 24);
  }
  if (hours < 24 * 365 * 2) {
    return f("%lldd", hours / 24);
  }
  if (hours < 24 * 365 * 8) {
    const long long days = (hours / 24) % 365;
    return days == 0 ? f("%lldy", hours / 24 / 365) : f("%lldy%lldd", hours / 24 / 365, days);
  }
  return f("%lldy", hours / 24 / 365);
}

json cell(const json& object, const json& column, std::chrono::system_clock::time_point now) {
  const auto found = evaluate(object, column["jsonPath"].get<std::string>());
  std::vector<std::string> values;
  for (const json* v : found) {
    if (v->is_null()) {
      continue;
    }
    values.push_back(v->is_string() ? v->get<std::string>() : v->dump());
  }
  if (values.empty()) {
    return nullptr;
  }
  if (column["type"] == "date") {
    auto t = util::parse_rfc3339(values.front());
    if (!t) {
      return "<invalid>";
    }
    return human_duration(std::chrono::floor<std::chrono::seconds>(now - *t));
  }
  std::string joined;
  for (const std::string& v : values) {
    joined += (joined.empty() ? "" : ",") + v;
  }
  return joined;
}

json row(const json& object, const json& columns, std::chrono::system_clock::time_point now) {
  json cells = json::array();
  cells.push_back(object["metadata"].value("name", ""));
  for (const json& column : columns) {
    cells.push_back(cell(object, column, now));
  }
  return {{"cells", std::move(cells)},
          {"object",
           {{"kind", "PartialObjectMetadata"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", object.value("metadata", json::object())}}}};
}

void unknown(const json& value, const json& schema, const std::string& at,
             std::vector<std::string>& out) {
  if (schema.value("x-kubernetes-preserve-unknown-fields", false)) {
    return;
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      unknown(value[i], schema["items"], at + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (!value.is_object()) {
    return;
  }
  for (const auto& [key, child] : value.items()) {
    const std::string path = at.empty() ? key : at + "." + key;
    if (schema.contains("properties") && schema["properties"].contains(key)) {
      unknown(child, schema["properties"][key], path, out);
    } else if (schema.contains("additionalProperties")) {
      unknown(child, schema["additionalProperties"], path, out);
    } else {
      out.push_back(path);
    }
  }
}

} // namespace


std::vector<std::string> unknown_fields(std::string_view object) {
  std::vector<std::string> out;
  json value = json::parse(object, nullptr, false);
  if (!value.is_object()) {
    return out;
  }
  static const json schema = [] {
    json root = json::parse(crd_json())["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    root["properties"]["metadata"]["x-kubernetes-preserve-unknown-fields"] = true;
    return root;
  }();
  unknown(value, schema, "", out);
  return out;
}

PatchType patch_type(std::string_view content_type) {
  if (content_type == "application/merge-patch+json") {
    return PatchType::merge;
  }
  if (content_type == "application/json-patch+json") {
    return PatchType::json;
  }
  return PatchType::unsupported;
}

util::Result<std::string> apply_patch(PatchType type, std::string_view object,
                                      std::string_view patch) {
  try {
    json target = json::parse(object);
    const json p = json::parse(patch);
    if (type == PatchType::merge) {
      if (!p.is_object()) {
        return util::fail(util::ErrorKind::invalid_input, "a merge patch must be a JSON object");
      }
      target.merge_patch(p);
    } else if (type == PatchType::json) {
      if (!p.is_array()) {
        return util::fail(util::ErrorKind::invalid_input,
                          "a JSON patch must be an array of operations");
      }
      target = target.patch(p);
    } else {
      return util::fail(util::ErrorKind::invalid_input, "unsupported patch type");
    }
    return target.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const json::exception& e) {
    return util::fail(util::ErrorKind::invalid_input,
                      std::string("the patch does not apply: ") + e.what());
  }
}

Output negotiate(std::string_view accept) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto end = accept.find(',', start);
    if (end == std::string_view::npos) {
      end = accept.size();
    }
    const std::string item = util::to_lower(util::trim(accept.substr(start, end - start)));
    start = end + 1;
    const std::string type(util::trim(std::string_view(item).substr(0, item.find(';'))));
    if (type == "application/yaml") {
      return Output::yaml;
    }
    if (type == "application/json" && item.find("as=table") != std::string::npos) {
      if (item.find("g=meta.k8s.io") != std::string::npos) {
        return Output::table;
      }
      continue;
    }
    if (type == "application/json" || type == "*/*" || type == "application/*") {
      return Output::json;
    }
  }
  return Output::json;
}

std::string to_table(std::string_view body, std::chrono::system_clock::time_point now) {
  const json value = json::parse(body);
  const json columns = json::parse(printer_columns_json());
  json definitions = json::array();
  definitions.push_back({{"name", "Name"},
                         {"type", "string"},
                         {"format", "name"},
                         {"description", "metadata.name"},
                         {"priority", 0}});
  for (const json& c : columns) {
    definitions.push_back({{"name", c["name"]},
                           {"type", c["type"]},
                           {"format", ""},
                           {"description", c.value("description", "")},
                           {"priority", c.value("priority", 0)}});
  }
  json rows = json::array();
  json metadata = json::object();
  if (value.contains("items")) {
    for (const json& item : value["items"]) {
      rows.push_back(row(item, columns, now));
    }
    metadata = value.value("metadata", json::object());
  } else {
    rows.push_back(row(value, columns, now));
    metadata["resourceVersion"] = value["metadata"].value("resourceVersion", "");
  }
  return json{{"kind", "Table"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", std::move(metadata)},
              {"columnDefinitions", std::move(definitions)},
              {"rows", std::move(rows)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<std::string> filter_by_fields(std::string_view list, std::string_view selector) {
  struct Term {
    std::string field;
    bool equal;
    std::string value;
  };
  std::vector<Term> terms;
  std::size_t start = 0;
  while (start <= selector.size()) {
    auto end = selector.find(',', start);
    if (end == std::string_view::npos) {
      end = selector.size();
    }
    const std::string_view term = util::trim(selector.substr(start, end - start));
    start = end + 1;
    if (term.empty()) {
      continue;
    }
    Term t;
    std::size_t op = term.find("!=");
    std::size_t width = 2;
    t.equal = op == std::string_view::npos;
    if (t.equal) {
      op = term.find("==");
      if (op == std::string_view::npos) {
        op = term.find('=');
        width = 1;
      }
    }
    if (op == std::string_view::npos) {
      return util::fail(util::ErrorKind::invalid_input,
                        "invalid field selector term " + util::quote(term));
    }
    t.field = std::string(util::trim(term.substr(0, op)));
    t.value = std::string(util::trim(term.substr(op + width)));
    if (t.field != "metadata.name" && t.field != "metadata.namespace") {
      return util::fail(util::ErrorKind::invalid_input,
                        "field label " + util::quote(t.field) +
                            " is not supported (supported: metadata.name, metadata.namespace)");
    }
    terms.push_back(std::move(t));
  }
  json value = json::parse(list);
  json kept = json::array();
  for (json& item : value["items"]) {
    bool keep = true;
    for (const Term& t : terms) {
      const std::string key = t.field.substr(9); // after "metadata."
      keep = keep && ((item["metadata"].value(key, "") == t.value) == t.equal);
    }
    if (keep) {
      kept.push_back(std::move(item));
    }
  }
  value["items"] = std::move(kept);
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace common::api::detail
