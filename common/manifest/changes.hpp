// The change record of a rewrite: file -> object -> ordered changes, one type for every target
// (workload images, Kustomize `images:` entries, Helm values, Flux setter markers). Plain
// structs, so the CLI can write them as JSON field by field; to_rows() flattens them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace common::manifest {

// What put a value there.
enum class ChangeSource : std::uint8_t {
  image,     // an image override at a container image field (workloads, pod templates)
  kustomize, // an image override at a Kustomize `images:` entry
  helm,      // an image override at a Helm values path
  setter,    // a Flux `$imagepolicy` marker
};
// "image", "kustomize", "helm", "setter".
const char* to_string(ChangeSource source) noexcept;

// The object a document (or a List item) describes; fields are "" when absent (a Helm values
// document, a Kustomization without metadata).
struct ObjectId {
  std::string api_version;
  std::string kind;
  std::string namespace_name; // metadata.namespace
  std::string name;           // metadata.name

  friend bool operator==(const ObjectId&, const ObjectId&) = default;
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;
};

struct Change {
  std::string old_value; // as YAML reads it (decoded); "" when a key was added
  std::string new_value; // "" when a key was removed (a Kustomize newTag or digest)
  ChangeSource source = ChangeSource::image;
  // The override's label (its repository as given unless labelled) or, for a setter, the
  // marker's setter name as written ("ns:policy", "ns:policy:tag").
  std::string by;
  // Where in the document: "spec.template.spec.containers[1].image", "images[0].newTag",
  // "image.tag"; a key added is named by its own path.
  std::string field;
  // 1-based line of the value in the input; for an added key, the line of the pair it follows.
  std::size_t line = 0;

  friend bool operator==(const Change&, const Change&) = default;
};

struct ObjectChanges {
  ObjectId object;
  std::vector<Change> changes; // in document order

  friend bool operator==(const ObjectChanges&, const ObjectChanges&) = default;
};

// The changes in one file (or stream). Objects in order of their first change; two documents
// naming the same object share an entry (as Flux's Result does).
struct FileChanges {
  std::string file;
  std::vector<ObjectChanges> objects;

  bool empty() const noexcept { return objects.empty(); }
  std::size_t count() const noexcept;
  friend bool operator==(const FileChanges&, const FileChanges&) = default;
};

// One change with its file and object, for JSON lines and tables.
struct ChangeRow {
  std::string file;
  ObjectId object;
  Change change;
};
std::vector<ChangeRow> to_rows(const FileChanges& changes);

// "file:line apiVersion kind ns/name field: \"old\" -> \"new\" (source by)", one line per
// change (values quoted as util::quote does; "-" for an empty id field), for logs and tests.
std::string describe(const FileChanges& changes);

// Builds a FileChanges in order, merging objects seen twice.
class ChangeCollector {
public:
  explicit ChangeCollector(std::string file);
  void add(const ObjectId& object, Change change);
  const FileChanges& changes() const noexcept { return m_changes; }
  FileChanges take() { return std::move(m_changes); }

private:
  FileChanges m_changes;
  std::map<ObjectId, std::size_t> m_index; // lookup only; output order is m_changes.objects
};

} // namespace common::manifest
