// The planner of one document's edits (plan.cpp: navigation, setters, edits; plan_targets.cpp:
// workloads, Kustomize entries, Helm values). Internal to the module.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/manifest/detail.hpp"
#include "common/util/strings.hpp"

namespace common::manifest::detail {

// Internal header: these names are only for plan.cpp and plan_targets.cpp.
using util::ErrorKind;
using yamlscan::k_no_node;
using yamlscan::Node;
using yamlscan::NodeId;
using yamlscan::NodeKind;
using yamlscan::ScalarStyle;

// A node reached from the document root.
struct Reached {
  NodeId id = k_no_node;     // never an alias
  NodeId alias = k_no_node;  // the first alias followed on the way; k_no_node when direct
  NodeId parent = k_no_node; // the collection that holds it (flow context)
  NodeId key = k_no_node;    // for a mapping value: its key node

  explicit operator bool() const noexcept { return id != k_no_node; }
};

struct Proposal {
  NodeId node = k_no_node;
  NodeId alias = k_no_node;
  std::string new_value;
  bool in_flow = false;
  NodeId object = k_no_node;
  Change change; // old_value, line filled from the node at the end
};

// An insertion or deletion of a whole `key: value` (Kustomize entries).
struct RawEdit {
  Edit edit;
  NodeId object = k_no_node;
  Change change;
};

inline bool has_flow_indicator(std::string_view v) {
  return v.find_first_of(",[]{}") != std::string_view::npos;
}

inline bool is_block(const Node& n) {
  return n.style == ScalarStyle::literal || n.style == ScalarStyle::folded;
}

class Planner {
public:
  Planner(const yamlscan::Document& doc, std::string_view text, std::string_view file,
          const Rewriter::Prepared& prepared, MatchCache& cache)
      : m_doc(doc), m_text(text), m_file(file), m_prepared(prepared), m_cache(cache) {}

  util::Result<void> run(DocumentPlan& out);

private:
  const Node& at(NodeId id) const { return m_doc.nodes[id]; }
  bool is_kind(const Reached& r, NodeKind kind) const { return r && at(r.id).kind == kind; }
  bool in_flow(const Reached& r) const { return r.parent != k_no_node && at(r.parent).flow; }

  // Navigation (plan.cpp).
  std::string where(const Node& n) const; // "file:line: "

  // The anchored node an alias names: the last node anchored with that name before the alias.
  // The index is built on the first alias met, so documents without aliases pay nothing.
  NodeId anchor_of(NodeId alias) const;

  // The node itself, or what the alias (chain) names; `alias` is kept when already set, else the
  // first alias followed. Empty when an alias names nothing.
  Reached resolve(NodeId id, NodeId alias, NodeId parent = k_no_node) const;

  // The value of `key` in a mapping, following `<<` merges (YAML 1.1 merge keys, which
  // Kubernetes' YAML reader honours) when the key is not there itself.
  Reached child(const Reached& mapping, std::string_view key, std::size_t depth = 0) const;

  std::string_view direct_scalar(NodeId mapping, std::string_view key) const; // "" if none
  ObjectId object_id(NodeId object) const; // apiVersion, kind, metadata.namespace/name

  // The value to match of a scalar: block scalars carry their final line break.
  std::string_view match_value(const Node& n) const;

  // Checks and Flux setters (plan.cpp).
  util::Result<void> check_helm_template() const;
  // An error when `n` is a plain scalar holding "{{" (a value read as an image or tag).
  util::Result<void> templated(const Node& n, std::string_view field) const;
  // Every scalar value under `id` (not keys, not through aliases) with a marker of a known
  // setter: claimed, and a proposal when the value changes.
  void visit_for_setters(NodeId id, NodeId parent, std::string& path);
  bool claimed_by_setter(NodeId id) const;

  // Objects, Kustomize entries, Helm values (plan_targets.cpp). `prefix`/`field` name paths.
  util::Result<void> plan_object(const Reached& object, const std::string& prefix, bool allow_list);
  util::Result<void> plan_workload(const Reached& object, std::string_view kind,
                                   const std::string& prefix);

  // A CRD's spec.template.spec is taken for a pod spec when it has a container list and every
  // container list present is a sequence of mappings.
  bool unambiguous_pod_spec(const Reached& spec) const;

  // A proposal when the image is governed and its value changes.
  util::Result<void> consider_image(const Reached& image, const std::string& prefix,
                                    std::string_view list, std::size_t index);

  // Normalised name of a reference as written, "" when it does not parse.
  static std::string normalised(std::string_view text);

  util::Result<void> plan_kustomize(const Reached& images, const std::string& prefix);
  util::Result<void> plan_kustomize_entry(const Reached& entry, const std::string& field);

  // A `key: value` pair that can be deleted as whole lines: the key starts its line, the value
  // is a one-line scalar on the same line, followed by nothing but a comment; reached directly.
  bool removable(const Reached& value) const;

  void remove_pair(const Reached& value, ChangeSource source, const std::string& by,
                   const std::string& field);
  // `key: value` after the entry's last pair that stays (same indentation and line ends).
  void add_pair(const Reached& entry, const std::vector<NodeId>& removed_keys, std::string_view key,
                const std::string& value, const std::string& by, const std::string& field);

  Reached follow(const Reached& root, const std::vector<HelmPathSegment>& path) const;
  util::Result<void> plan_helm(const Reached& root);

  enum class HelmField { name, tag, spec };
  util::Result<void> plan_helm_value(const Reached& root, const std::vector<HelmPathSegment>& path,
                                     const std::string& path_text, std::size_t idx,
                                     HelmField field);

  // Edits (plan.cpp).
  std::size_t line_end(std::size_t pos) const;         // the line break (or end) at/after pos
  std::size_t after_line_break(std::size_t pos) const; // past "\r\n" or "\n" at pos
  std::string_view line_break_at(std::size_t pos) const;
  // The scalar's new text: its quote style kept, quoted when needed, block -> double-quoted.
  std::string encode(const Node& n, std::string_view value, bool flow) const;
  // Proposals (setters first, aliases checked) and raw edits into `out`, in document order.
  util::Result<void> finish(DocumentPlan& out);

  const yamlscan::Document& m_doc;
  std::string_view m_text;
  std::string_view m_file;
  const Rewriter::Prepared& m_prepared;
  MatchCache& m_cache;
  NodeId m_object = k_no_node;      // the object (root or List item) being planned
  NodeId m_object_root = k_no_node; // the root mapping (setter changes name it)
  std::vector<NodeId> m_setter_claimed;
  mutable std::size_t m_merge_visits = 0; // per child() lookup
  mutable bool m_anchors_built = false;
  mutable std::map<std::string_view, std::vector<std::pair<std::size_t, NodeId>>, std::less<>>
      m_anchors; // lookup only
  std::vector<Proposal> m_proposals;
  std::vector<RawEdit> m_raw;
};

} // namespace common::manifest::detail
