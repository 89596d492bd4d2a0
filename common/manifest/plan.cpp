// Planning the edits of one document: navigation (aliases and `<<` merge keys are followed but
// remembered, so that a value reached only through an alias is reported instead of edited at a
// place the reader did not point at), Helm template checks, Flux setters and the final edits.
#include <algorithm>
#include <iterator>
#include <optional>

#include "common/image/reference.hpp"
#include "common/manifest/marker.hpp"
#include "common/manifest/planner.hpp"
#include "common/util/strings.hpp"

namespace common::manifest::detail {
namespace {

constexpr std::size_t k_max_alias_hops = 64;
constexpr std::size_t k_max_merge_depth = 16;
constexpr std::size_t k_max_merge_visits = 256;

} // namespace

util::Result<void> Planner::run(DocumentPlan& out) {
  if (m_doc.root == k_no_node) {
    return {};
  }
  const std::string_view doc_text =
      m_text.substr(m_doc.begin.offset, m_doc.end - m_doc.begin.offset);
  if (doc_text.find("{{") != std::string_view::npos) {
    if (auto ok = check_helm_template(); !ok) {
      return ok;
    }
  }
  if (!m_prepared.overrides.setters.empty() &&
      doc_text.find("\"$imagepolicy\"") != std::string_view::npos) {
    const Reached root = resolve(m_doc.root, k_no_node);
    if (root && at(root.id).kind == NodeKind::mapping) {
      m_object_root = root.id;
    }
    std::string path;
    visit_for_setters(m_doc.root, k_no_node, path);
    std::sort(m_setter_claimed.begin(), m_setter_claimed.end());
  }
  if (!m_prepared.overrides.images.empty()) {
    const Reached root = resolve(m_doc.root, k_no_node);
    if (root && at(root.id).kind == NodeKind::mapping) {
      const bool object =
          !direct_scalar(root.id, "apiVersion").empty() && !direct_scalar(root.id, "kind").empty();
      if (object) {
        if (auto ok = plan_object(root, "", true); !ok) {
          return ok;
        }
      } else if (m_prepared.any_helm) {
        if (auto ok = plan_helm(root); !ok) {
          return ok;
        }
      }
    }
  }
  return finish(out);
}

std::string Planner::where(const Node& n) const {
  return std::string(m_file) + ":" + std::to_string(n.begin.line) + ": ";
}

// The anchored node an alias names: the last node anchored with that name before the alias.
// The index is built on the first alias met, so documents without aliases pay nothing.
NodeId Planner::anchor_of(NodeId alias) const {
  if (!m_anchors_built) {
    for (NodeId i = 0; i < m_doc.nodes.size(); ++i) {
      const Node& n = m_doc.nodes[i];
      if (n.kind != NodeKind::alias && !n.anchor.empty()) {
        m_anchors[n.anchor].emplace_back(n.begin.offset, i);
      }
    }
    for (auto& [name, list] : m_anchors) {
      std::sort(list.begin(), list.end());
    }
    m_anchors_built = true;
  }
  const Node& a = at(alias);
  const auto it = m_anchors.find(std::string_view(a.value));
  if (it == m_anchors.end()) {
    return k_no_node;
  }
  const auto& list = it->second;
  auto pos =
      std::lower_bound(list.begin(), list.end(), std::pair<std::size_t, NodeId>{a.begin.offset, 0});
  if (pos == list.begin()) {
    return k_no_node;
  }
  return std::prev(pos)->second;
}

Reached Planner::resolve(NodeId id, NodeId alias, NodeId parent) const {
  Reached r{id, alias, parent, k_no_node};
  for (std::size_t hops = 0; r.id != k_no_node && at(r.id).kind == NodeKind::alias; ++hops) {
    if (hops == k_max_alias_hops) {
      return {};
    }
    if (r.alias == k_no_node) {
      r.alias = r.id;
    }
    r.id = anchor_of(r.id);
  }
  return r;
}

// The value of `key` in a mapping, following `<<` merges (YAML 1.1 merge keys, which
// Kubernetes' YAML reader honours) when the key is not there itself.
Reached Planner::child(const Reached& mapping, std::string_view key, std::size_t depth) const {
  if (!mapping || at(mapping.id).kind != NodeKind::mapping) {
    return {};
  }
  const auto& kids = at(mapping.id).children;
  for (std::size_t i = 0; i + 1 < kids.size(); i += 2) {
    const Node& k = at(kids[i]);
    if (k.kind == NodeKind::scalar && k.value == key) {
      Reached r = resolve(kids[i + 1], mapping.alias, mapping.id);
      r.key = kids[i];
      return r;
    }
  }
  // Merges nest (a merged mapping may merge others): bound the depth and the mappings visited
  // per lookup, so that a merge bomb costs a bounded amount of work (it then reads as absent).
  if (depth == 0) {
    m_merge_visits = 0;
  }
  if (depth == k_max_merge_depth) {
    return {};
  }
  for (std::size_t i = 0; i + 1 < kids.size(); i += 2) {
    const Node& k = at(kids[i]);
    if (k.kind != NodeKind::scalar || k.style != ScalarStyle::plain || k.value != "<<") {
      continue;
    }
    const Reached merged = resolve(kids[i + 1], mapping.alias, mapping.id);
    if (!merged || ++m_merge_visits > k_max_merge_visits) {
      continue;
    }
    if (at(merged.id).kind == NodeKind::mapping) {
      if (Reached r = child(merged, key, depth + 1)) {
        return r;
      }
    } else if (at(merged.id).kind == NodeKind::sequence) {
      for (const NodeId item : at(merged.id).children) {
        const Reached m = resolve(item, merged.alias, merged.id);
        if (m && ++m_merge_visits <= k_max_merge_visits && at(m.id).kind == NodeKind::mapping) {
          if (Reached r = child(m, key, depth + 1)) {
            return r;
          }
        }
      }
    }
  }
  return {};
}

std::string_view Planner::direct_scalar(NodeId mapping, std::string_view key) const {
  const Reached r = child(Reached{mapping, k_no_node, k_no_node, k_no_node}, key);
  if (!r || at(r.id).kind != NodeKind::scalar) {
    return {};
  }
  return at(r.id).value;
}

ObjectId Planner::object_id(NodeId object) const {
  ObjectId id;
  if (object == k_no_node) {
    return id;
  }
  id.api_version = std::string(direct_scalar(object, "apiVersion"));
  id.kind = std::string(direct_scalar(object, "kind"));
  const Reached meta = child(Reached{object, k_no_node, k_no_node, k_no_node}, "metadata");
  if (meta && at(meta.id).kind == NodeKind::mapping) {
    id.name = std::string(direct_scalar(meta.id, "name"));
    id.namespace_name = std::string(direct_scalar(meta.id, "namespace"));
  }
  return id;
}

// The value to match of a scalar: block scalars carry their final line break.
std::string_view Planner::match_value(const Node& n) const {
  return is_block(n) ? util::trim(n.value) : std::string_view(n.value);
}

util::Result<void> Planner::check_helm_template() const {
  // "{{" opening a flow mapping is template syntax whatever the document; "{{" inside a plain
  // scalar is checked only where images are read (templated()): elsewhere it is rendered data
  // (`summary: Instance {{ $labels.instance }} down` in a PrometheusRule).
  for (const Node& n : m_doc.nodes) {
    if (n.kind == NodeKind::mapping && n.flow && m_text.substr(n.begin.offset, 2) == "{{") {
      const std::string_view shown =
          m_text.substr(n.begin.offset, std::min<std::size_t>(n.end - n.begin.offset, 120));
      return util::fail(ErrorKind::invalid_input, where(n) + "Helm template syntax (\"{{\") in " +
                                                      util::quote(shown) +
                                                      ": render the chart before injecting images");
    }
  }
  return {};
}

util::Result<void> Planner::templated(const Node& n, std::string_view field) const {
  if (n.kind == NodeKind::scalar && n.style == ScalarStyle::plain &&
      n.value.find("{{") != std::string::npos) {
    return util::fail(ErrorKind::invalid_input,
                      where(n) + "Helm template syntax (\"{{\") in " + std::string(field) + ": " +
                          util::quote(n.value) + ": render the chart before injecting images");
  }
  return {};
}

void Planner::visit_for_setters(NodeId id, NodeId parent, std::string& path) {
  const Node& n = at(id);
  switch (n.kind) {
  case NodeKind::scalar: {
    if (!n.line_comment && n.head_comments.empty()) {
      return;
    }
    const std::optional<std::string> setter = marker_of(n.line_comment, n.head_comments);
    if (!setter) {
      return;
    }
    std::optional<std::string> value = setter_value(m_prepared.overrides, *setter);
    if (!value) {
      return; // no such setter: Flux ignores the marker
    }
    m_setter_claimed.push_back(id);
    if (*value == n.value) {
      return;
    }
    Proposal p;
    p.node = id;
    p.new_value = std::move(*value);
    p.in_flow = parent != k_no_node && at(parent).flow;
    p.object = m_object_root;
    p.change.source = ChangeSource::setter;
    p.change.by = *setter;
    p.change.field = path;
    m_proposals.push_back(std::move(p));
    return;
  }
  case NodeKind::mapping:
    for (std::size_t i = 0; i + 1 < n.children.size(); i += 2) {
      const std::size_t size = path.size();
      if (!path.empty()) {
        path += '.';
      }
      path += at(n.children[i]).value;
      visit_for_setters(n.children[i + 1], id, path);
      path.resize(size);
    }
    return;
  case NodeKind::sequence:
    for (std::size_t i = 0; i < n.children.size(); ++i) {
      const std::size_t size = path.size();
      path += '[';
      path += std::to_string(i);
      path += ']';
      visit_for_setters(n.children[i], id, path);
      path.resize(size);
    }
    return;
  case NodeKind::alias:
    return; // kyaml's walk does not enter aliases either
  }
}

bool Planner::claimed_by_setter(NodeId id) const {
  return std::binary_search(m_setter_claimed.begin(), m_setter_claimed.end(), id);
}

std::size_t Planner::line_end(std::size_t pos) const {
  while (pos < m_text.size() && m_text[pos] != '\n' && m_text[pos] != '\r') {
    ++pos;
  }
  return pos;
}

std::size_t Planner::after_line_break(std::size_t pos) const {
  if (pos < m_text.size() && m_text[pos] == '\r') {
    ++pos;
  }
  if (pos < m_text.size() && m_text[pos] == '\n') {
    ++pos;
  }
  return pos;
}

std::string_view Planner::line_break_at(std::size_t pos) const {
  if (pos < m_text.size()) {
    return m_text[pos] == '\r' ? "\r\n" : "\n";
  }
  const std::string_view doc = m_text.substr(m_doc.begin.offset, m_doc.end - m_doc.begin.offset);
  return doc.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
}

std::string Planner::encode(const Node& n, std::string_view value, bool flow) const {
  std::string out;
  switch (n.style) {
  case ScalarStyle::plain:
    out = (flow && has_flow_indicator(value))
              ? yamlscan::encode_scalar(value, ScalarStyle::double_quoted)
              : yamlscan::encode_scalar(value, ScalarStyle::plain);
    if (n.begin.offset == n.end) {
      // An empty value ("key:"): keep the new one off the ':' and off a comment.
      if (n.begin.offset > 0 && m_text[n.begin.offset - 1] != ' ' &&
          m_text[n.begin.offset - 1] != '\t') {
        out.insert(out.begin(), ' ');
      }
      if (n.end < m_text.size() && (m_text[n.end] == '#')) {
        out += ' ';
      }
    }
    return out;
  case ScalarStyle::single_quoted:
  case ScalarStyle::double_quoted:
    return yamlscan::encode_scalar(value, n.style);
  case ScalarStyle::literal:
  case ScalarStyle::folded: {
    out = yamlscan::encode_scalar(value, ScalarStyle::double_quoted);
    // Keep a comment on the indicator line ("image: |- # pinned") when it is inside the
    // replaced range (it is not when the block has no content lines).
    const std::string_view header =
        m_text.substr(n.begin.offset, std::min(line_end(n.begin.offset), n.end) - n.begin.offset);
    for (std::size_t i = 1; i < header.size(); ++i) {
      if (header[i] == '#' && (header[i - 1] == ' ' || header[i - 1] == '\t')) {
        std::size_t start = i - 1;
        while (start > 0 && (header[start - 1] == ' ' || header[start - 1] == '\t')) {
          --start;
        }
        out += header.substr(start);
        break;
      }
    }
    return out;
  }
  }
  return out;
}

util::Result<void> Planner::finish(DocumentPlan& out) {
  // Group the proposals by node (stable, so the first one found wins ties). A node claimed
  // by a setter keeps only the setter's proposal. In a group, the first proposal that
  // reached the node directly is the edit; the others must agree with it; a group reached
  // only through aliases is an error.
  std::vector<std::size_t> order;
  order.reserve(m_proposals.size());
  for (std::size_t i = 0; i < m_proposals.size(); ++i) {
    const Proposal& p = m_proposals[i];
    if (p.change.source == ChangeSource::setter || !claimed_by_setter(p.node)) {
      order.push_back(i);
    }
  }
  // By node, then by proposal order (the tie-break keeps document order within a node).
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return m_proposals[a].node != m_proposals[b].node ? m_proposals[a].node < m_proposals[b].node
                                                      : a < b;
  });
  std::vector<const Proposal*> chosen;
  for (std::size_t g = 0; g < order.size();) {
    std::size_t g_end = g;
    const Proposal* direct = nullptr;
    while (g_end < order.size() && m_proposals[order[g_end]].node == m_proposals[order[g]].node) {
      const Proposal& q = m_proposals[order[g_end]];
      if (direct == nullptr && q.alias == k_no_node) {
        direct = &q;
      }
      ++g_end;
    }
    const Proposal& first = m_proposals[order[g]];
    const Node& n = at(first.node);
    if (direct == nullptr) {
      const Node& a = at(first.alias);
      const NodeId anchor = anchor_of(first.alias);
      return util::fail(ErrorKind::invalid_input,
                        where(a) + first.change.field + " is given by alias *" + a.value +
                            (anchor != k_no_node
                                 ? " (anchor at line " + std::to_string(at(anchor).begin.line) + ")"
                                 : std::string()) +
                            " and would change from " + util::quote(n.value) + " to " +
                            util::quote(first.new_value) +
                            ": edit the anchored value or write it in place");
    }
    for (std::size_t k = g; k < g_end; ++k) {
      const Proposal& q = m_proposals[order[k]];
      if (q.new_value != direct->new_value) {
        return util::fail(ErrorKind::invalid_input,
                          where(n) + "conflicting values for " + util::quote(n.value) + ": " +
                              util::quote(direct->new_value) + " (" + direct->change.field +
                              ") and " + util::quote(q.new_value) + " (" + q.change.field + ")");
      }
    }
    chosen.push_back(direct);
    g = g_end;
  }
  struct Planned {
    Edit edit;
    NodeId object;
    Change change;
  };
  std::vector<Planned> planned;
  planned.reserve(chosen.size() + m_raw.size());
  for (const Proposal* p : chosen) {
    const Node& n = at(p->node);
    Planned e;
    e.edit.begin = n.begin.offset;
    e.edit.end = n.end;
    e.edit.text = encode(n, p->new_value, p->in_flow);
    e.object = p->object;
    e.change = p->change;
    e.change.old_value = n.value;
    e.change.new_value = p->new_value;
    e.change.line = n.begin.line;
    planned.push_back(std::move(e));
  }
  for (RawEdit& raw : m_raw) {
    planned.push_back(Planned{std::move(raw.edit), raw.object, std::move(raw.change)});
  }
  // By position; equal ranges keep the order they were planned in (the index tie-break;
  // std::stable_sort is avoided: libstdc++ 12's uses get_temporary_buffer, deprecated in C++23).
  std::vector<std::size_t> by_position(planned.size());
  for (std::size_t i = 0; i < by_position.size(); ++i) {
    by_position[i] = i;
  }
  std::sort(by_position.begin(), by_position.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = planned[a].edit;
    const auto& y = planned[b].edit;
    if (x.begin != y.begin) {
      return x.begin < y.begin;
    }
    return x.end != y.end ? x.end < y.end : a < b;
  });
  {
    std::vector<Planned> sorted;
    sorted.reserve(planned.size());
    for (std::size_t i : by_position) {
      sorted.push_back(std::move(planned[i]));
    }
    planned = std::move(sorted);
  }
  std::size_t last_end = 0;
  for (const Planned& e : planned) {
    if (e.edit.begin < last_end) {
      return util::fail(ErrorKind::internal, std::string(m_file) + ":" +
                                                 std::to_string(e.change.line) +
                                                 ": overlapping edits at " + e.change.field);
    }
    last_end = e.edit.end;
  }
  for (Planned& e : planned) {
    out.changes.emplace_back(object_id(e.object), std::move(e.change));
    out.edits.push_back(std::move(e.edit));
  }
  return {};
}

int MatchCache::lookup(std::string_view image) {
  if (const auto it = m_map.find(image); it != m_map.end()) {
    if (it->second >= 0) {
      ++m_hits[static_cast<std::size_t>(it->second)];
    }
    return it->second;
  }
  int idx = -1;
  if (auto ref = image::parse_reference(image)) {
    if (const auto it = m_prepared.by_name.find(ref->name()); it != m_prepared.by_name.end()) {
      idx = static_cast<int>(it->second);
    }
  }
  m_map.emplace(std::string(image), idx);
  if (idx >= 0) {
    ++m_hits[static_cast<std::size_t>(idx)];
  }
  return idx;
}

util::Result<void> plan_document(const yamlscan::Document& doc, std::string_view text,
                                 std::string_view file, const Rewriter::Prepared& prepared,
                                 MatchCache& cache, DocumentPlan& out) {
  return Planner(doc, text, file, prepared, cache).run(out);
}

} // namespace common::manifest::detail
