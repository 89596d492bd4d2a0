// The places where images live: pod specs of workloads and CRDs, Kustomize `images:` entries,
// Helm values paths.
#include <algorithm>
#include <iterator>
#include <optional>

#include "common/image/reference.hpp"
#include "common/manifest/image_text.hpp"
#include "common/manifest/planner.hpp"
#include "common/util/strings.hpp"

namespace common::manifest::detail {
namespace {

// Kinds whose pod template is spec.template.spec by their API (CRDs are checked by shape).
constexpr std::string_view k_template_kinds[] = {"Deployment", "StatefulSet",           "DaemonSet",
                                                 "ReplicaSet", "ReplicationController", "Job",
                                                 "Rollout"};
constexpr std::string_view k_container_lists[] = {"initContainers", "containers",
                                                  "ephemeralContainers"};

} // namespace

util::Result<void> Planner::plan_object(const Reached& object, const std::string& prefix,
                                        bool allow_list) {
  const std::string_view api_version = direct_scalar(object.id, "apiVersion");
  const std::string_view kind = direct_scalar(object.id, "kind");
  // A List (v1 List, DeploymentList, ...): its items are the objects.
  const Reached items = allow_list && kind.ends_with("List") ? child(object, "items") : Reached{};
  if (is_kind(items, NodeKind::sequence)) {
    const auto& kids = at(items.id).children;
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const Reached item = resolve(kids[i], items.alias, items.id);
      if (is_kind(item, NodeKind::mapping)) {
        const NodeId saved = m_object;
        m_object = item.id;
        auto ok = plan_object(item, prefix + "items[" + std::to_string(i) + "].", false);
        m_object = saved;
        if (!ok) {
          return ok;
        }
      }
    }
    return {};
  }
  if (m_object == k_no_node) {
    m_object = object.id;
  }
  if (kind == "Kustomization" || kind == "Component") {
    if (api_version.starts_with("kustomize.config.k8s.io/")) {
      return plan_kustomize(child(object, "images"), prefix + "images");
    }
    if (api_version.starts_with("kustomize.toolkit.fluxcd.io/")) {
      return plan_kustomize(child(child(object, "spec"), "images"), prefix + "spec.images");
    }
  }
  return plan_workload(object, kind, prefix);
}

util::Result<void> Planner::plan_workload(const Reached& object, std::string_view kind,
                                          const std::string& prefix) {
  Reached spec;
  std::string field = prefix;
  bool known = true;
  if (kind == "Pod") {
    spec = child(object, "spec");
    field += "spec";
  } else if (kind == "PodTemplate") {
    spec = child(child(object, "template"), "spec");
    field += "template.spec";
  } else if (kind == "CronJob") {
    spec = child(child(child(child(child(object, "spec"), "jobTemplate"), "spec"), "template"),
                 "spec");
    field += "spec.jobTemplate.spec.template.spec";
  } else {
    known = std::find(std::begin(k_template_kinds), std::end(k_template_kinds), kind) !=
            std::end(k_template_kinds);
    spec = child(child(child(object, "spec"), "template"), "spec");
    field += "spec.template.spec";
  }
  if (!is_kind(spec, NodeKind::mapping) || (!known && !unambiguous_pod_spec(spec))) {
    return {};
  }
  for (const std::string_view list_name : k_container_lists) {
    const Reached list = child(spec, list_name);
    if (!is_kind(list, NodeKind::sequence)) {
      continue;
    }
    const auto& kids = at(list.id).children;
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const Reached container = resolve(kids[i], list.alias, list.id);
      if (!is_kind(container, NodeKind::mapping)) {
        continue;
      }
      const Reached image = child(container, "image");
      if (is_kind(image, NodeKind::scalar)) {
        if (auto ok = consider_image(image, field, list_name, i); !ok) {
          return ok;
        }
      }
    }
  }
  return {};
}

// A CRD's spec.template.spec is taken for a pod spec when it has a container list and every
// container list present is a sequence of mappings.
bool Planner::unambiguous_pod_spec(const Reached& spec) const {
  bool any = false;
  for (const std::string_view list_name : k_container_lists) {
    const Reached list = child(spec, list_name);
    if (!list) {
      continue;
    }
    if (at(list.id).kind != NodeKind::sequence) {
      return false;
    }
    for (const NodeId item : at(list.id).children) {
      if (!is_kind(resolve(item, list.alias), NodeKind::mapping)) {
        return false;
      }
    }
    any = true;
  }
  return any;
}

util::Result<void> Planner::consider_image(const Reached& image, const std::string& prefix,
                                           std::string_view list, std::size_t index) {
  auto field = [&] {
    return prefix + "." + std::string(list) + "[" + std::to_string(index) + "].image";
  };
  const Node& n = at(image.id);
  if (n.value.find("{{") != std::string::npos) {
    if (auto ok = templated(n, field()); !ok) {
      return ok;
    }
  }
  const std::string_view value = match_value(n);
  const int idx = m_cache.lookup(value);
  if (idx < 0) {
    return {};
  }
  const ImageOverride& o = m_prepared.overrides.images[static_cast<std::size_t>(idx)];
  const Rewriter::Prepared::Image& pi = m_prepared.images[static_cast<std::size_t>(idx)];
  const WrittenImage w = split_written(value);
  const TagDigest td = apply_tag_digest(o, {w.tag, w.digest});
  std::string next =
      image::compose(pi.renames ? std::string_view(*o.new_name) : w.name, td.tag, td.digest);
  if (next == value) {
    return {};
  }
  Proposal p;
  p.node = image.id;
  p.alias = image.alias;
  p.new_value = std::move(next);
  p.in_flow = in_flow(image);
  p.object = m_object;
  p.change.source = ChangeSource::image;
  p.change.by = pi.label;
  p.change.field = field();
  m_proposals.push_back(std::move(p));
  return {};
}

// Normalised name of a reference as written, "" when it does not parse.
std::string Planner::normalised(std::string_view text) {
  auto ref = image::parse_reference(text);
  return ref ? ref->name() : std::string();
}

util::Result<void> Planner::plan_kustomize(const Reached& images, const std::string& prefix) {
  if (!is_kind(images, NodeKind::sequence)) {
    return {};
  }
  const auto& kids = at(images.id).children;
  for (std::size_t i = 0; i < kids.size(); ++i) {
    const Reached entry = resolve(kids[i], images.alias, images.id);
    if (!is_kind(entry, NodeKind::mapping)) {
      continue;
    }
    if (auto ok = plan_kustomize_entry(entry, prefix + "[" + std::to_string(i) + "]"); !ok) {
      return ok;
    }
  }
  return {};
}

util::Result<void> Planner::plan_kustomize_entry(const Reached& entry, const std::string& field) {
  const Reached name = child(entry, "name");
  const Reached new_name = child(entry, "newName");
  const Reached new_tag = child(entry, "newTag");
  const Reached digest = child(entry, "digest");
  auto scalar_of = [&](const Reached& r) -> std::string_view {
    return is_kind(r, NodeKind::scalar) ? match_value(at(r.id)) : std::string_view();
  };
  const std::pair<std::string_view, const Reached*> fields[] = {
      {"name", &name}, {"newName", &new_name}, {"newTag", &new_tag}, {"digest", &digest}};
  for (const auto& [key, r] : fields) {
    if (is_kind(*r, NodeKind::scalar)) {
      if (auto ok = templated(at(r->id), field + "." + std::string(key)); !ok) {
        return ok;
      }
    }
  }
  int idx = is_kind(name, NodeKind::scalar) ? m_cache.lookup(scalar_of(name)) : -1;
  if (idx < 0 && is_kind(new_name, NodeKind::scalar)) {
    idx = m_cache.lookup(scalar_of(new_name));
  }
  if (idx < 0) {
    return {};
  }
  const ImageOverride& o = m_prepared.overrides.images[static_cast<std::size_t>(idx)];
  const std::string& label = m_prepared.images[static_cast<std::size_t>(idx)].label;

  struct Want {
    std::string_view key;
    const Reached* node;
    std::optional<std::string> value; // nullopt: absent
  };
  std::vector<Want> wants;
  if (o.new_name) {
    const std::string_view current =
        is_kind(new_name, NodeKind::scalar) ? scalar_of(new_name) : scalar_of(name);
    if (normalised(current) != normalised(*o.new_name)) {
      wants.push_back({"newName", &new_name, *o.new_name});
    }
  }
  const TagDigest td = apply_tag_digest(o, {scalar_of(new_tag), scalar_of(digest)});
  auto want_of = [](std::string_view v) {
    return v.empty() ? std::nullopt : std::optional<std::string>(std::string(v));
  };
  wants.push_back({"newTag", &new_tag, want_of(td.tag)});
  wants.push_back({"digest", &digest, want_of(td.digest)});

  // Which pairs go away, so that additions land after the last pair that stays.
  std::vector<NodeId> removed_keys;
  for (const Want& w : wants) {
    if (!w.value && *w.node && !claimed_by_setter(w.node->id) && removable(*w.node)) {
      removed_keys.push_back(w.node->key);
    }
  }
  for (const Want& w : wants) {
    const Reached& node = *w.node;
    const std::string sub_field = field + "." + std::string(w.key);
    if (node) {
      if (claimed_by_setter(node.id)) {
        continue;
      }
      if (!is_kind(node, NodeKind::scalar)) {
        return util::fail(ErrorKind::invalid_input, where(at(node.id)) + sub_field + " of " +
                                                        util::quote(label) + " is not a scalar");
      }
      const std::string_view current = scalar_of(node);
      const std::string next = w.value ? *w.value : std::string();
      if (current == next) {
        continue;
      }
      if (!w.value &&
          std::find(removed_keys.begin(), removed_keys.end(), node.key) != removed_keys.end()) {
        remove_pair(node, ChangeSource::kustomize, label, sub_field);
        continue;
      }
      Proposal p;
      p.node = node.id;
      p.alias = node.alias;
      p.new_value = next;
      p.in_flow = in_flow(node);
      p.object = m_object;
      p.change.source = ChangeSource::kustomize;
      p.change.by = label;
      p.change.field = sub_field;
      m_proposals.push_back(std::move(p));
    } else if (w.value) {
      if (entry.alias != k_no_node) {
        const Node& a = at(entry.alias);
        return util::fail(ErrorKind::invalid_input,
                          where(a) + field + " is given by alias *" + a.value + " and needs " +
                              std::string(w.key) + ": " + util::quote(*w.value) +
                              ": edit the anchored entry or write the entry in place");
      }
      add_pair(entry, removed_keys, w.key, *w.value, label, sub_field);
    }
  }
  return {};
}

// A `key: value` pair that can be deleted as whole lines: the key starts its line, the value
// is a one-line scalar on the same line, followed by nothing but a comment; reached directly.
bool Planner::removable(const Reached& value) const {
  if (value.alias != k_no_node || value.key == k_no_node || in_flow(value)) {
    return false;
  }
  const Node& k = at(value.key);
  const Node& v = at(value.id);
  if (v.kind != NodeKind::scalar || is_block(v) || v.begin.line != k.begin.line) {
    return false;
  }
  const std::size_t line_start = k.begin.offset - (k.begin.column - 1);
  for (std::size_t i = line_start; i < k.begin.offset; ++i) {
    if (m_text[i] != ' ') {
      return false;
    }
  }
  for (std::size_t i = k.begin.offset; i < v.end; ++i) {
    if (m_text[i] == '\n' || m_text[i] == '\r') {
      return false;
    }
  }
  std::size_t i = v.end;
  while (i < m_text.size() && (m_text[i] == ' ' || m_text[i] == '\t')) {
    ++i;
  }
  return i == m_text.size() || m_text[i] == '#' || m_text[i] == '\n' || m_text[i] == '\r';
}

void Planner::remove_pair(const Reached& value, ChangeSource source, const std::string& by,
                          const std::string& field) {
  const Node& k = at(value.key);
  const Node& v = at(value.id);
  RawEdit raw;
  raw.edit.begin = k.begin.offset - (k.begin.column - 1);
  raw.edit.end = after_line_break(line_end(v.end));
  raw.object = m_object;
  raw.change.old_value = v.value;
  raw.change.source = source;
  raw.change.by = by;
  raw.change.field = field;
  raw.change.line = v.begin.line;
  m_raw.push_back(std::move(raw));
}

void Planner::add_pair(const Reached& entry, const std::vector<NodeId>& removed_keys,
                       std::string_view key, const std::string& value, const std::string& by,
                       const std::string& field) {
  const Node& m = at(entry.id);
  NodeId last_value = k_no_node;
  for (std::size_t i = 0; i + 1 < m.children.size(); i += 2) {
    if (std::find(removed_keys.begin(), removed_keys.end(), m.children[i]) == removed_keys.end()) {
      last_value = m.children[i + 1];
    }
  }
  if (last_value == k_no_node) {
    return; // an entry with a name always has a pair that stays
  }
  const bool flow = m.flow;
  std::string encoded = (flow && has_flow_indicator(value))
                            ? yamlscan::encode_scalar(value, ScalarStyle::double_quoted)
                            : yamlscan::encode_scalar(value, ScalarStyle::plain);
  RawEdit raw;
  raw.object = m_object;
  raw.change.new_value = value;
  raw.change.source = ChangeSource::kustomize;
  raw.change.by = by;
  raw.change.field = field;
  raw.change.line = at(last_value).begin.line;
  if (flow) {
    raw.edit.begin = raw.edit.end = at(last_value).end;
    raw.edit.text = ", " + std::string(key) + ": " + encoded;
  } else {
    const std::size_t pos = line_end(at(last_value).end);
    const std::size_t indent = at(m.children[0]).begin.column - 1;
    raw.edit.begin = raw.edit.end = pos;
    raw.edit.text = std::string(line_break_at(pos));
    raw.edit.text.append(indent, ' ');
    raw.edit.text += key;
    raw.edit.text += ": ";
    raw.edit.text += encoded;
  }
  m_raw.push_back(std::move(raw));
}

Reached Planner::follow(const Reached& root, const std::vector<HelmPathSegment>& path) const {
  Reached r = root;
  for (const HelmPathSegment& seg : path) {
    if (const auto* key = std::get_if<std::string>(&seg)) {
      r = child(r, *key);
    } else {
      const std::size_t index = std::get<std::size_t>(seg);
      if (!is_kind(r, NodeKind::sequence) || index >= at(r.id).children.size()) {
        return {};
      }
      r = resolve(at(r.id).children[index], r.alias, r.id);
    }
    if (!r) {
      return {};
    }
  }
  return r;
}

util::Result<void> Planner::plan_helm(const Reached& root) {
  for (std::size_t idx = 0; idx < m_prepared.images.size(); ++idx) {
    const Rewriter::Prepared::Image& pi = m_prepared.images[idx];
    const ImageOverride& o = m_prepared.overrides.images[idx];
    if (!pi.helm_spec.empty()) {
      if (auto ok = plan_helm_value(root, pi.helm_spec, o.helm.spec, idx, HelmField::spec); !ok) {
        return ok;
      }
      continue;
    }
    if (!pi.helm_name.empty()) {
      if (auto ok = plan_helm_value(root, pi.helm_name, o.helm.name, idx, HelmField::name); !ok) {
        return ok;
      }
    }
    if (!pi.helm_tag.empty()) {
      if (auto ok = plan_helm_value(root, pi.helm_tag, o.helm.tag, idx, HelmField::tag); !ok) {
        return ok;
      }
    }
  }
  return {};
}

util::Result<void> Planner::plan_helm_value(const Reached& root,
                                            const std::vector<HelmPathSegment>& path,
                                            const std::string& path_text, std::size_t idx,
                                            HelmField field) {
  const Reached r = follow(root, path);
  if (!r) {
    return {};
  }
  const Node& n = at(r.id);
  const Rewriter::Prepared::Image& pi = m_prepared.images[idx];
  const ImageOverride& o = m_prepared.overrides.images[idx];
  if (n.kind != NodeKind::scalar) {
    return util::fail(ErrorKind::invalid_input,
                      where(n) + "helm path " + path_text + " of " + util::quote(pi.label) +
                          " is a " + (n.kind == NodeKind::mapping ? "mapping" : "sequence") +
                          ", not a scalar");
  }
  m_cache.hit(idx);
  if (claimed_by_setter(r.id)) {
    return {};
  }
  if (auto ok = templated(n, path_text); !ok) {
    return ok;
  }
  const std::string_view current = match_value(n);
  std::optional<std::string> next;
  switch (field) {
  case HelmField::spec: {
    const WrittenImage w = split_written(current);
    const bool same = normalised(current) == pi.normalized;
    std::string_view name = o.new_name && (pi.renames || !same) ? std::string_view(*o.new_name)
                            : same                              ? w.name
                                                                : std::string_view(o.repository);
    const TagDigest td = apply_tag_digest(o, same ? TagDigest{w.tag, w.digest} : TagDigest{});
    next = image::compose(name, td.tag, td.digest);
    break;
  }
  case HelmField::tag:
    next = helm_tag_value(o);
    break;
  case HelmField::name:
    if (o.new_name && normalised(current) != normalised(*o.new_name)) {
      next = *o.new_name;
    }
    break;
  }
  if (!next || *next == current) {
    return {};
  }
  Proposal p;
  p.node = r.id;
  p.alias = r.alias;
  p.new_value = std::move(*next);
  p.in_flow = in_flow(r);
  p.object = k_no_node;
  p.change.source = ChangeSource::helm;
  p.change.by = pi.label;
  p.change.field = path_text;
  m_proposals.push_back(std::move(p));
  return {};
}

} // namespace common::manifest::detail
