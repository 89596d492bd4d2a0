#include "common/manifest/changes.hpp"

#include <utility>

#include "common/util/strings.hpp"

namespace common::manifest {

const char* to_string(ChangeSource source) noexcept {
  switch (source) {
  case ChangeSource::image:
    return "image";
  case ChangeSource::kustomize:
    return "kustomize";
  case ChangeSource::helm:
    return "helm";
  case ChangeSource::setter:
    return "setter";
  }
  return "unknown";
}

std::size_t FileChanges::count() const noexcept {
  std::size_t n = 0;
  for (const ObjectChanges& object : objects) {
    n += object.changes.size();
  }
  return n;
}

std::vector<ChangeRow> to_rows(const FileChanges& changes) {
  std::vector<ChangeRow> rows;
  rows.reserve(changes.count());
  for (const ObjectChanges& object : changes.objects) {
    for (const Change& change : object.changes) {
      rows.push_back(ChangeRow{changes.file, object.object, change});
    }
  }
  return rows;
}

std::string describe(const FileChanges& changes) {
  std::string out;
  for (const ObjectChanges& object : changes.objects) {
    for (const Change& change : object.changes) {
      out += changes.file;
      out += ':';
      out += std::to_string(change.line);
      out += ' ';
      out += object.object.api_version.empty() ? "-" : object.object.api_version;
      out += ' ';
      out += object.object.kind.empty() ? "-" : object.object.kind;
      out += ' ';
      if (!object.object.namespace_name.empty()) {
        out += object.object.namespace_name;
        out += '/';
      }
      out += object.object.name.empty() ? "-" : object.object.name;
      out += ' ';
      out += change.field;
      out += ": ";
      out += util::quote(change.old_value, 300);
      out += " -> ";
      out += util::quote(change.new_value, 300);
      out += " (";
      out += to_string(change.source);
      out += ' ';
      out += change.by;
      out += ")\n";
    }
  }
  return out;
}

ChangeCollector::ChangeCollector(std::string file) {
  m_changes.file = std::move(file);
}

void ChangeCollector::add(const ObjectId& object, Change change) {
  auto [it, inserted] = m_index.try_emplace(object, m_changes.objects.size());
  if (inserted) {
    m_changes.objects.push_back(ObjectChanges{object, {}});
  }
  m_changes.objects[it->second].changes.push_back(std::move(change));
}

} // namespace common::manifest
