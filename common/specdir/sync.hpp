// ImageUpdater specs kept as files (a GitOps-only setup: a ConfigMap or a checkout mounted into
// the service) instead of created through the REST API. Every *.yaml / *.yml file under the
// directory is read; each ImageUpdater document in it becomes a stored object, created or
// replaced through api::Writes, the service the API handlers write through (so it is validated,
// versioned and reconciled exactly as an API client's object would be), annotated with
// k_file_annotation = its file. An object that carries the annotation and whose document is gone is
// deleted. The file wins: a change made to such an object through the API is overwritten at the
// next sync that sees a difference.
//
// Bad input never loses what is stored: a file that does not scan, a document the API refuses
// (with every cause), or a second document for the same namespace/name are reported in
// SyncResult::errors with file and line, and the object keeps its last good version (it is not
// deleted either).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/writes.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"

namespace common::specdir {

inline constexpr std::string_view k_file_annotation = "imageupdater.kubesphere.io/spec-file";

struct SyncResult {
  std::size_t created = 0;
  std::size_t updated = 0;
  std::size_t deleted = 0;
  std::size_t unchanged = 0;
  std::vector<std::string> errors; // "file:line: why", in file order
};

class SpecDirectory {
public:
  // `writes` and `store` must outlive this object. Documents without metadata.namespace go to
  // `default_namespace`.
  SpecDirectory(std::string directory, api::Writes& writes, store::Store& store,
                std::string default_namespace = "default");

  // One pass over the directory. Fails only when the directory cannot be listed (then nothing
  // is changed, deletions included).
  util::Result<SyncResult> sync();

private:
  std::string m_directory;
  api::Writes& m_writes;
  store::Store& m_store;
  std::string m_default_namespace;
};

} // namespace common::specdir
