#include "common/specdir/sync.hpp"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/util/dir.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::specdir {

namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Wanted {
  std::string file;
  std::size_t line = 0;
  json object;
};

std::map<std::string, std::string> string_map(const json& metadata, const char* key) {
  std::map<std::string, std::string> out;
  auto it = metadata.find(key);
  if (it != metadata.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) {
        out[k] = v.get<std::string>();
      }
    }
  }
  return out;
}

// The message of a Status answer, with its causes.
std::string status_message(const api::HttpResponse& r) {
  json status = json::parse(r.body, nullptr, false);
  if (!status.is_object()) {
    return "HTTP " + std::to_string(r.status);
  }
  std::string message = status.value("message", "HTTP " + std::to_string(r.status));
  return message;
}

std::string collection(const store::Key& key) {
  return std::string(api::k_api_prefix) + "/namespaces/" + key.namespace_ + "/imageupdaters";
}

api::HttpRequest request(std::string method, std::string path, std::string body = "") {
  api::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

} // namespace

SpecDirectory::SpecDirectory(std::string directory, api::ImageUpdaterApi& api, store::Store& store,
                             std::string default_namespace)
    : m_directory(std::move(directory)), m_api(api), m_store(store),
      m_default_namespace(std::move(default_namespace)) {}

util::Result<SyncResult> SpecDirectory::sync() {
  util::ListOptions options;
  options.select = [](std::string_view name) {
    const std::string lower = util::to_lower(name);
    return lower.ends_with(".yaml") || lower.ends_with(".yml");
  };
  auto listed = util::list_files(m_directory, options);
  if (!listed) {
    return std::unexpected(listed.error());
  }
  SyncResult result;
  std::map<store::Key, Wanted> wanted;
  std::set<std::string> broken; // files with a problem: their objects are not deleted
  const auto problem = [&](const std::string& file, std::size_t line, const std::string& why) {
    std::string at = file;
    if (line > 0) {
      at += ':';
      at += std::to_string(line);
    }
    result.errors.push_back(at + ": " + why);
    broken.insert(file);
  };

  for (const util::ListedFile& f : *listed) {
    if (!f.skipped.empty()) {
      problem(f.relative, 0, "skipped: " + f.skipped);
      continue;
    }
    auto text = util::read_file(f.path);
    if (!text) {
      problem(f.relative, 0, text.error().message);
      continue;
    }
    yamlscan::Scanner scanner(*text);
    while (true) {
      auto document = scanner.next();
      if (!document) {
        problem(f.relative, 0, document.error().message);
        break;
      }
      if (!*document) {
        break;
      }
      const yamlscan::Document& d = **document;
      if (d.root == yamlscan::k_no_node) {
        continue;
      }
      const std::size_t line = d.begin.line;
      const std::string_view part =
          std::string_view(*text).substr(d.begin.offset, d.end - d.begin.offset);
      auto converted = api::yaml_document_to_json(part);
      if (!converted) {
        problem(f.relative, line, converted.error().message);
        continue;
      }
      json object = json::parse(*converted, nullptr, false);
      if (!object.is_object() || object.value("kind", json()) != "ImageUpdater") {
        continue; // other objects may live beside the specs
      }
      json& metadata = object["metadata"];
      if (!metadata.is_object()) {
        metadata = json::object();
      }
      if (!metadata.contains("namespace") || metadata["namespace"].is_null()) {
        metadata["namespace"] = m_default_namespace;
      }
      const json ns = metadata["namespace"];
      const json name = metadata.value("name", json());
      if (!ns.is_string() || !name.is_string() || name.get<std::string>().empty()) {
        problem(f.relative, line, "an ImageUpdater needs metadata.name (and a string namespace)");
        continue;
      }
      metadata["annotations"][std::string(k_file_annotation)] = f.relative;
      store::Key key{ns.get<std::string>(), name.get<std::string>()};
      if (auto it = wanted.find(key); it != wanted.end()) {
        problem(f.relative, line,
                "ImageUpdater " + key.namespace_ + "/" + key.name + " is also defined at " +
                    it->second.file + ":" + std::to_string(it->second.line) +
                    " (that one is used)");
        continue;
      }
      wanted.emplace(key, Wanted{f.relative, line, std::move(object)});
    }
  }

  for (auto& [key, w] : wanted) {
    auto stored = m_store.get(key);
    if (!stored && stored.error().kind != util::ErrorKind::not_found) {
      problem(w.file, w.line, stored.error().message);
      continue;
    }
    if (!stored) {
      auto r = m_api.handle(request("POST", collection(key), dump(w.object)));
      if (r.status == 201) {
        ++result.created;
      } else {
        problem(w.file, w.line, status_message(r));
      }
      continue;
    }
    const json& metadata = w.object["metadata"];
    const auto spec = w.object.find("spec");
    const std::string spec_json = spec == w.object.end() ? "{}" : dump(*spec);
    if (stored->spec_json == spec_json && stored->labels == string_map(metadata, "labels") &&
        stored->annotations == string_map(metadata, "annotations")) {
      ++result.unchanged;
      continue;
    }
    w.object["metadata"]["resourceVersion"] = stored->resource_version;
    auto r = m_api.handle(request("PUT", collection(key) + "/" + key.name, dump(w.object)));
    if (r.status == 200) {
      ++result.updated;
    } else {
      problem(w.file, w.line, status_message(r));
    }
  }

  store::ListOptions all;
  while (true) {
    auto page = m_store.list("", all);
    if (!page) {
      result.errors.push_back(m_directory +
                              ": cannot list stored objects: " + page.error().message);
      break;
    }
    for (const store::Object& o : page->items) {
      auto file = o.annotations.find(std::string(k_file_annotation));
      if (file == o.annotations.end() || wanted.contains(o.key) || broken.contains(file->second)) {
        continue;
      }
      json delete_options = {{"kind", "DeleteOptions"},
                             {"apiVersion", "v1"},
                             {"preconditions", {{"resourceVersion", o.resource_version}}}};
      auto r = m_api.handle(
          request("DELETE", collection(o.key) + "/" + o.key.name, dump(delete_options)));
      if (r.status == 200) {
        ++result.deleted;
      } else if (r.status != 404) {
        result.errors.push_back(file->second + ": cannot delete " + o.key.namespace_ + "/" +
                                o.key.name + ": " + status_message(r));
      }
    }
    if (page->continue_token.empty()) {
      break;
    }
    all.continue_token = page->continue_token;
  }
  return result;
}

} // namespace common::specdir
