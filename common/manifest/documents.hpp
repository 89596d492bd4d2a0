// Dropping whole documents from a manifest stream (the ImageUpdater specs that sit among an
// application's manifests are configuration for the plugin, not objects for the cluster).
// Pure: bytes in, bytes out.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/manifest/changes.hpp"
#include "common/util/error.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::manifest {

struct Filtered {
  std::string output;      // the kept documents, byte for byte, in order
  std::size_t dropped = 0; // documents removed
  std::size_t kept = 0;    // kept documents holding something (a mapping or a sequence)
};

// Keeps the documents for which `drop` is false; `drop` sees the document's apiVersion, kind,
// metadata.namespace and metadata.name (top-level scalars; "" when absent, and for documents
// that are not mappings). Every other byte of a kept document stays as it was, its `---` line
// included; empty documents are kept. Fails like the scanner (invalid_input naming `file`,
// line and column; too_large at a limit).
util::Result<Filtered> drop_documents(std::string_view text, std::string_view file,
                                      const std::function<bool(const ObjectId&)>& drop,
                                      const yamlscan::Limits& limits = {});

} // namespace common::manifest
