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

} // namespace

SpecDirectory::SpecDirectory(std::string directory, api::Writes& writes, store::Store& store,
                             std::string default_namespace)
    : m_directory(std::move(directory)), m_writes(writes), m_store(store),
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
    auto applied = m_writes.apply(key.namespace_, dump(w.object));
    if (!applied) {
      problem(w.file, w.line, applied.error().error.message);
      continue;
    }
    switch (applied->outcome) {
    case api::Applied::Outcome::created:
      ++result.created;
      break;
    case api::Applied::Outcome::updated:
      ++result.updated;
      break;
    case api::Applied::Outcome::unchanged:
      ++result.unchanged;
      break;
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
      auto removed = m_writes.remove(o.key, o.resource_version);
      if (removed) {
        ++result.deleted;
      } else if (removed.error().error.kind != util::ErrorKind::not_found) {
        result.errors.push_back(file->second + ": cannot delete " + o.key.namespace_ + "/" +
                                o.key.name + ": " + removed.error().error.message);
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
