// Internal to common/spec: typed reading of one ImageUpdater document tree into the model.
// Reading reports what it cannot convert (wrong types, unknown names, unknown fields,
// duplicate keys) at the offending node and leaves the model field at its default; semantic
// checks are validate()'s.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/diagnostic.hpp"
#include "common/spec/model.hpp"
#include "common/spec/yaml_tree.hpp"

namespace common::spec::detail {

// "spec.argocd" + "nginx" -> "spec.argocd.nginx"; a key with '.' or brackets is quoted:
// `spec.argocd.platforms["ghcr.io/acme/app"]`.
std::string child_path(std::string_view parent, std::string_view key);
// "spec.images" + 2 -> "spec.images[2]".
std::string index_path(std::string_view parent, std::size_t index);

// The known name closest to `name` (same letters ignoring case, '-' and '_', or within edit
// distance 2), "" when none is close.
std::string closest_name(std::string_view name, std::initializer_list<std::string_view> known);

// A diagnostic whose message names the field: "field: message" unless the message already
// mentions it.
Diagnostic make_diagnostic(Severity severity, std::string_view file, std::size_t document,
                           const std::string& field, Location at, std::string message);

// `message` when it already quotes `value`, else `what "value": message`.
std::string quoting(std::string_view value, std::string_view what, const std::string& message);

// A mapping entry with a string key.
struct Entry {
  std::string key;
  std::string path; // the field path of the value
  NodeId value = 0;
  Location key_at;
  Location at; // the value's location (the key's when nothing was written after it)
};

class Reader {
public:
  Reader(const Document& doc, std::string_view file, std::vector<Diagnostic>& out, Source& source)
      : m_doc(doc), m_file(file), m_out(out), m_source(source) {}

  const Node& node(NodeId id) const { return m_doc.node(id); }
  bool is_null(NodeId id) const { return node(id).kind == NodeKind::null; }

  void error(const std::string& field, Location at, std::string message);
  void warning(const std::string& field, Location at, std::string message);
  // Remembers where a field's value is (model Source::fields).
  void record(const std::string& field, Location at);

  // The entries of a mapping. Null gives none silently; another kind is an error ("must be a
  // mapping"). Keys must be strings and unique (errors name both places).
  std::vector<Entry> entries(NodeId id, const std::string& path, Location at);
  // The same for the document's root.
  std::vector<Entry> root_entries();
  // Warns about each entry whose key is not known, suggesting the closest known one.
  void check_known(const std::vector<Entry>& entries, std::initializer_list<std::string_view> known,
                   std::initializer_list<std::string_view> ignored = {});

  // A scalar's text; the location is recorded under the entry's path (also for null, so a
  // "missing" value is reported where it was left empty). Null gives nullopt silently; a
  // collection is an error ("must be a string").
  std::optional<std::string> text(const Entry& e);
  // A scalar node's text (as text(), for sequence items and the like).
  std::optional<std::string> text(NodeId id, const std::string& path, Location at);
  // A mapping of strings to strings (labels, annotations, messageTemplateValues).
  std::map<std::string, std::string> string_map(const Entry& e);
  // The first entry with this key, if any.
  static const Entry* find(const std::vector<Entry>& entries, std::string_view key);

private:
  const Document& m_doc;
  std::string_view m_file;
  std::vector<Diagnostic>& m_out;
  Source& m_source;
};

// Readers of the engine sections (read_argo.cpp, read_flux.cpp). `section` is the
// spec.argocd / spec.argo / spec.fluxcd entry.
ArgoSettings read_argo(Reader& r, const Entry& section, Dialect dialect,
                       std::string_view namespace_);
FluxSettings read_flux(Reader& r, const Entry& section);

// Semantic checks (validate.cpp); checks of fields under one that `prior` already reports an
// error about are skipped, so a broken field is reported once.
std::vector<Diagnostic> validate(const ImageUpdater& updater, const std::vector<Diagnostic>& prior);

} // namespace common::spec::detail
