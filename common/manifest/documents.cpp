#include "common/manifest/documents.hpp"

namespace common::manifest {

namespace {

using yamlscan::Document;
using yamlscan::NodeId;
using yamlscan::NodeKind;

// The value of `key` in mapping `id` when it is a scalar, else "".
std::string scalar_at(const Document& doc, NodeId id, std::string_view key) {
  if (id == yamlscan::k_no_node || doc.nodes[id].kind != NodeKind::mapping) {
    return {};
  }
  const auto& children = doc.nodes[id].children;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    const auto& k = doc.nodes[children[i]];
    if (k.kind == NodeKind::scalar && k.value == key) {
      const auto& v = doc.nodes[children[i + 1]];
      return v.kind == NodeKind::scalar ? v.value : std::string();
    }
  }
  return {};
}

NodeId mapping_at(const Document& doc, NodeId id, std::string_view key) {
  if (id == yamlscan::k_no_node || doc.nodes[id].kind != NodeKind::mapping) {
    return yamlscan::k_no_node;
  }
  const auto& children = doc.nodes[id].children;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    if (doc.nodes[children[i]].kind == NodeKind::scalar && doc.nodes[children[i]].value == key) {
      return children[i + 1];
    }
  }
  return yamlscan::k_no_node;
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
      return util::fail(next.error().kind, std::string(file) + ": " + next.error().message);
    }
    if (!*next) {
      break;
    }
    const Document& doc = **next;
    ObjectId id;
    id.api_version = scalar_at(doc, doc.root, "apiVersion");
    id.kind = scalar_at(doc, doc.root, "kind");
    const NodeId meta = mapping_at(doc, doc.root, "metadata");
    id.namespace_name = scalar_at(doc, meta, "namespace");
    id.name = scalar_at(doc, meta, "name");
    if (doc.root != yamlscan::k_no_node && drop(id)) {
      out.output.append(text.substr(kept_until, doc.begin.offset - kept_until));
      kept_until = doc.end;
      ++out.dropped;
    }
  }
  out.output.append(text.substr(kept_until));
  return out;
}

} // namespace common::manifest
