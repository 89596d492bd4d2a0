#include "common/spec/loader.hpp"

#include <algorithm>
#include <tuple>

#include "common/spec/reader.hpp"
#include "common/spec/yaml_tree.hpp"
#include "common/util/strings.hpp"

namespace common::spec {
namespace {

using detail::Entry;
using detail::Reader;

constexpr std::string_view k_group = "gitops.kubesphere.io";
constexpr std::string_view k_api_version = "gitops.kubesphere.io/v1alpha1";
constexpr std::string_view k_kind = "ImageUpdater";

// Whether the text holds "imageupdater" in any case, or the API group.
bool worth_parsing(std::string_view text) {
  return util::contains_icase(text, "imageupdater") || text.find(k_group) != std::string_view::npos;
}

// A root-level scalar without diagnostics: documents that are not ours must not produce any.
std::optional<std::string> peek(const detail::Document& doc, std::string_view key) {
  const detail::Node& root = doc.node(doc.root);
  for (std::size_t i = 0; i + 1 < root.children.size(); i += 2) {
    const detail::Node& k = doc.node(root.children[i]);
    const detail::Node& v = doc.node(root.children[i + 1]);
    if (k.kind == detail::NodeKind::scalar && k.text == key) {
      return v.kind == detail::NodeKind::scalar ? std::optional(v.text) : std::nullopt;
    }
  }
  return std::nullopt;
}

void read_metadata(Reader& r, const Entry& section, Metadata& m) {
  auto list = r.entries(section.value, section.path, section.at);
  // Fields the API server adds (kubectl get -o yaml) are not ours to judge.
  r.check_known(list, {"name", "namespace", "labels", "annotations"},
                {"generateName", "uid", "resourceVersion", "generation", "creationTimestamp",
                 "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
                 "managedFields", "selfLink"});
  for (const Entry& e : list) {
    if (e.key == "name") {
      m.name = r.text(e).value_or("");
    } else if (e.key == "namespace") {
      m.namespace_ = r.text(e).value_or("");
    } else if (e.key == "labels") {
      m.labels = r.string_map(e);
    } else if (e.key == "annotations") {
      m.annotations = r.string_map(e);
    }
  }
}

void read_images(Reader& r, const Entry& e, std::vector<ImageEntry>& images) {
  r.record(e.path, e.at);
  const detail::Node& n = r.node(e.value);
  if (n.kind == detail::NodeKind::null) {
    return;
  }
  if (n.kind != detail::NodeKind::sequence) {
    r.error(e.path, e.at, e.path + " must be a list of \"[alias=]image[:constraint]\" strings");
    return;
  }
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    detail::NodeId item = n.children[i];
    std::string path = detail::index_path(e.path, i);
    Location at = r.node(item).at;
    auto text = r.text(item, path, at);
    if (!text) {
      if (r.is_null(item)) {
        r.record(path, at);
        r.error(path, at, "empty entry in " + e.path);
      }
      continue;
    }
    auto parsed = image::parse_image_spec(*text);
    if (!parsed) {
      r.error(path, at, detail::quoting(*text, "invalid image", parsed.error().message));
      continue;
    }
    images.push_back(ImageEntry{std::move(*parsed), *text, path, at});
  }
}

// spec.kind / spec.engine; `given` is false when absent or unreadable. (A plain struct: GCC 12
// warns about std::optional<enum> here at -O2.)
struct EngineChoice {
  bool given = false;
  Engine value = Engine::argocd;
};

EngineChoice read_engine(Reader& r, const Entry* e) {
  if (e == nullptr) {
    return {};
  }
  auto text = r.text(*e);
  if (!text) {
    return {};
  }
  if (*text == "argocd") {
    return {true, Engine::argocd};
  }
  if (*text == "fluxcd") {
    return {true, Engine::fluxcd};
  }
  r.error(e->path, e->at, "unknown " + e->path + " \"" + *text + "\" (valid: argocd, fluxcd)");
  return {};
}

void read_spec(Reader& r, const Entry& section, ImageUpdater& u,
               std::string_view default_namespace) {
  // Bare secret names mean the ImageUpdater's namespace, else the caller's default.
  const std::string_view ns =
      u.metadata.namespace_.empty() ? default_namespace : std::string_view(u.metadata.namespace_);
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, {"kind", "engine", "suspend", "images", "argocd", "argo", "fluxcd"});
  if (const Entry* suspend = Reader::find(list, "suspend")) {
    auto text = r.text(*suspend);
    if (text && (*text == "true" || *text == "false")) {
      u.suspend = *text == "true";
    } else if (text) {
      r.error(suspend->path, suspend->at, "spec.suspend must be true or false, not \"" + *text + "\"");
    }
  }
  const Entry* kind = Reader::find(list, "kind");
  const Entry* engine = Reader::find(list, "engine");
  EngineChoice from_kind = read_engine(r, kind);
  EngineChoice from_engine = read_engine(r, engine);
  if (from_kind.given && from_engine.given && from_kind.value != from_engine.value) {
    r.error(engine->path, engine->at,
            "spec.engine \"" + std::string(to_string(from_engine.value)) +
                "\" contradicts spec.kind \"" + std::string(to_string(from_kind.value)) +
                "\"; give one of them");
  }
  const Entry* argocd = Reader::find(list, "argocd");
  const Entry* argo = Reader::find(list, "argo");
  const Entry* fluxcd = Reader::find(list, "fluxcd");
  if (from_kind.given || from_engine.given) {
    u.kind = from_kind.given ? from_kind.value : from_engine.value;
  } else if (kind == nullptr && engine == nullptr) {
    // Unsaid, the engine is the one whose settings are given; argocd (KubeSphere's default)
    // otherwise.
    u.kind =
        fluxcd != nullptr && argocd == nullptr && argo == nullptr ? Engine::fluxcd : Engine::argocd;
  }

  if (const Entry* images = Reader::find(list, "images")) {
    read_images(r, *images, u.images);
  }
  if (argocd && argo) {
    r.error(argo->path, argo->key_at,
            "both spec.argocd (the proposal's spelling) and spec.argo (KubeSphere's) are given; "
            "use one");
  }
  if (argocd) {
    u.dialect = Dialect::proposal;
    u.argocd = detail::read_argo(r, *argocd, Dialect::proposal, ns);
  } else if (argo) {
    u.dialect = Dialect::kubesphere;
    u.argocd = detail::read_argo(r, *argo, Dialect::kubesphere, ns);
  }
  if (fluxcd) {
    u.fluxcd = detail::read_flux(r, *fluxcd);
  }
}

// Reads one document; adds an updater when it is an ImageUpdater this build reads.
void read_document(const detail::Document& doc, std::string_view file,
                   std::string_view default_namespace, LoadResult& result) {
  if (doc.node(doc.root).kind != detail::NodeKind::mapping) {
    return;
  }
  auto kind = peek(doc, "kind");
  auto api_version = peek(doc, "apiVersion");
  bool ours = api_version && api_version->starts_with(std::string(k_group) + "/");
  ImageUpdater u;
  u.source.file = std::string(file);
  u.source.document = static_cast<int>(doc.index);
  u.source.at = doc.node(doc.root).at;
  std::vector<Diagnostic> found;
  Reader r(doc, file, found, u.source);
  auto root = r.root_entries();
  const Entry* kind_entry = Reader::find(root, "kind");
  const Entry* version_entry = Reader::find(root, "apiVersion");
  if (!kind || *kind != k_kind) {
    if (kind && ours && util::iequals(*kind, k_kind)) {
      result.diagnostics.push_back({Severity::warning, std::string(file),
                                    static_cast<int>(doc.index), "kind", kind_entry->at.line,
                                    kind_entry->at.column,
                                    "kind \"" + *kind +
                                        "\" is not \"ImageUpdater\" (kinds are case-sensitive); "
                                        "document skipped"});
    }
    return;
  }
  if (!api_version) {
    r.error("apiVersion", u.source.at,
            "missing apiVersion: want \"" + std::string(k_api_version) + "\"");
  } else if (!ours) {
    result.diagnostics.push_back({Severity::warning, std::string(file), static_cast<int>(doc.index),
                                  "apiVersion", version_entry->at.line, version_entry->at.column,
                                  "ImageUpdater of apiVersion \"" + *api_version + "\" is not a " +
                                      std::string(k_group) + " ImageUpdater; document skipped"});
    return;
  } else if (*api_version != k_api_version) {
    result.diagnostics.push_back({Severity::error, std::string(file), static_cast<int>(doc.index),
                                  "apiVersion", version_entry->at.line, version_entry->at.column,
                                  "unsupported apiVersion \"" + *api_version +
                                      "\" (this build reads \"" + std::string(k_api_version) +
                                      "\")"});
    return;
  }

  r.check_known(root, {"apiVersion", "kind", "metadata", "spec"}, {"status"});
  if (const Entry* metadata = Reader::find(root, "metadata")) {
    read_metadata(r, *metadata, u.metadata);
  }
  if (const Entry* spec = Reader::find(root, "spec")) {
    read_spec(r, *spec, u, default_namespace);
  }
  auto checks = detail::validate(u, found);
  found.insert(found.end(), std::make_move_iterator(checks.begin()),
               std::make_move_iterator(checks.end()));
  result.diagnostics.insert(result.diagnostics.end(), std::make_move_iterator(found.begin()),
                            std::make_move_iterator(found.end()));
  result.updaters.push_back(std::move(u));
}

} // namespace

LoadResult parse_stream(std::string_view yaml_text, std::string_view file_name,
                        const Limits& limits, std::string_view default_namespace) {
  LoadResult result;
  detail::TreeLimits tree_limits{limits.max_bytes, limits.max_document_bytes, limits.max_documents,
                                 limits.max_nodes, limits.max_depth};
  detail::TreeCallbacks callbacks;
  // A document that mentions neither the kind nor the group is not parsed: it cannot be an
  // ImageUpdater (short of escape sequences in quoted scalars), and large unrelated documents
  // (CRDs, `kubectl get -o json` lists) would cost parse time and memory for nothing.
  callbacks.wanted = [](std::string_view doc) { return worth_parsing(doc); };
  callbacks.document = [&](const detail::Document& doc) {
    read_document(doc, file_name, default_namespace, result);
  };
  callbacks.error = [&](const detail::TreeError& e) {
    result.diagnostics.push_back({Severity::error, std::string(file_name),
                                  static_cast<int>(e.document), "", e.at.line, e.at.column,
                                  e.message});
  };
  detail::read_documents(yaml_text, tree_limits, callbacks);
  // The key covers every field, so elements it cannot order are identical.
  std::sort(result.diagnostics.begin(), result.diagnostics.end(),
            [](const Diagnostic& a, const Diagnostic& b) {
              return std::tie(a.file, a.line, a.column, a.document, a.severity, a.field,
                              a.message) <
                     std::tie(b.file, b.line, b.column, b.document, b.severity, b.field, b.message);
            });
  return result;
}

bool document_has_errors(const LoadResult& result, const ImageUpdater& updater) noexcept {
  return std::any_of(result.diagnostics.begin(), result.diagnostics.end(),
                     [&](const Diagnostic& d) {
                       return d.severity == Severity::error && d.file == updater.source.file &&
                              d.document == updater.source.document;
                     });
}

std::vector<Diagnostic> validate(const ImageUpdater& updater) {
  return detail::validate(updater, {});
}

} // namespace common::spec
