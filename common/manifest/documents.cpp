#include "common/manifest/documents.hpp"

namespace common::manifest {

namespace {

using yamlscan::Document;
using yamlscan::NodeId;
using yamlscan::NodeKind;

// The value of `key` in mapping `id` when it is a scalar, else "".
std::string scalar_at(const Document& doc, NodeId id, std::string_view key) {
  const NodeId v = yamlscan::value_of(doc, id, key);
  return v != yamlscan::k_no_node && doc.nodes[v].kind == NodeKind::scalar ? doc.nodes[v].value
                                                                           : std::string();
}

} // namespace

util::Result<Filtered> drop_documents(std::string_view text, std::string_view file,
                                      const std::function<bool(const ObjectId&)>& drop,
                                      const yamlscan::Limits& limits) {
  yamlscan::Scanner scanner(text, limits);
  Filtered out;
  out.output.reserve(text.size());
  // Documents tile the stream (each starts where the previous ended), so copying the ranges of
  // the kept ones keeps every byte of theirs, separators included.
  std::size_t kept_until = 0;
  for (;;) {
    auto next = scanner.next();
    if (!next) {
      return std::unexpected(util::in_file(std::move(next.error()), file));
    }
    if (!*next) {
      break;
    }
    const Document& doc = **next;
    ObjectId id;
    id.api_version = scalar_at(doc, doc.root, "apiVersion");
    id.kind = scalar_at(doc, doc.root, "kind");
    const NodeId meta = yamlscan::value_of(doc, doc.root, "metadata");
    id.namespace_name = scalar_at(doc, meta, "namespace");
    id.name = scalar_at(doc, meta, "name");
    if (doc.root != yamlscan::k_no_node && drop(id)) {
      out.output.append(text.substr(kept_until, doc.begin.offset - kept_until));
      kept_until = doc.end;
      ++out.dropped;
    } else if (doc.root != yamlscan::k_no_node && doc.nodes[doc.root].kind != NodeKind::scalar) {
      ++out.kept;
    }
  }
  out.output.append(text.substr(kept_until));
  return out;
}

} // namespace common::manifest
