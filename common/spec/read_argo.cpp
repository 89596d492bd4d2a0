// spec.argocd (the proposal: kebab-case keys, alias maps or one value for all images) and
// spec.argo (KubeSphere as shipped: camelCase keys, alias maps of strings only, allowTags as
// bare regexps, secrets as "ns/name").
#include <algorithm>
#include <cctype>

#include "common/spec/reader.hpp"
#include "common/util/strings.hpp"

namespace common::spec::detail {
namespace {

using util::starts_with_icase;
using util::to_lower;

std::vector<std::string> split_globs(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(',', start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    std::string item(util::trim(s.substr(start, end - start)));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    start = end + 1;
  }
  return out;
}

// The value of one per-image setting, at `path`.
struct Value {
  NodeId id;
  std::string path;
  Location at;
};

class ArgoReader {
public:
  ArgoReader(Reader& r, Dialect dialect, std::string_view namespace_)
      : m_r(r), m_ks(dialect == Dialect::kubesphere), m_namespace(namespace_) {}

  // A setting that is a mapping alias -> value, or (proposal dialect) one value for all images.
  template <class T, class Parse>
  void per_alias(const Entry& e, std::map<std::string, T>& out, std::optional<T>& fallback,
                 Parse parse) {
    const Node& n = m_r.node(e.value);
    if (n.kind == NodeKind::mapping || n.kind == NodeKind::null || m_ks) {
      for (const Entry& item : m_r.entries(e.value, e.path, e.at)) {
        m_r.record(item.path, item.at);
        if (auto v = (this->*parse)(Value{item.value, item.path, item.at})) {
          out[item.key] = std::move(*v);
        }
      }
      return;
    }
    m_r.record(e.path, e.at);
    fallback = (this->*parse)(Value{e.value, e.path, e.at});
  }

  std::optional<std::string> text(const Value& v) { return m_r.text(v.id, v.path, v.at); }

  std::optional<policy::Strategy> strategy(const Value& v) {
    auto name = text(v);
    if (!name) {
      return std::nullopt;
    }
    if (*name == "semver") {
      return policy::Strategy::semver;
    }
    if (*name == "newest-build") {
      return policy::Strategy::newest_build;
    }
    if (*name == "latest") {
      m_r.warning(v.path, v.at, "update strategy \"latest\" is deprecated; use \"newest-build\"");
      return policy::Strategy::newest_build;
    }
    if (*name == "alphabetical" || *name == "name") {
      return policy::Strategy::alphabetical;
    }
    if (*name == "digest") {
      return policy::Strategy::digest;
    }
    m_r.error(v.path, v.at,
              "unknown update strategy \"" + *name +
                  "\" (valid: semver, newest-build, latest, alphabetical, name, digest)");
    return std::nullopt;
  }

  std::optional<std::string> allow_tags(const Value& v) {
    auto expr = text(v);
    if (!expr) {
      return std::nullopt;
    }
    if (m_ks) {
      // KubeSphere writes "regexp:" + value into the annotation; a value that already has the
      // prefix becomes a regexp that matches the literal text "regexp:".
      if (starts_with_icase(*expr, "regexp:")) {
        m_r.warning(v.path, v.at,
                    "allowTags values are regular expressions without a \"regexp:\" prefix; \"" +
                        *expr + "\" only matches tags containing \"" + expr->substr(0, 7) + "\"");
      }
      return "regexp:" + *expr;
    }
    if (expr->empty() || to_lower(*expr) == "any") {
      return to_lower(*expr);
    }
    if (starts_with_icase(*expr, "regexp:")) {
      return "regexp:" + expr->substr(7);
    }
    m_r.error(v.path, v.at,
              "invalid allow-tags \"" + *expr + "\" (valid: \"any\" or \"regexp:<expression>\")");
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> ignore_tags(const Value& v) {
    const Node& n = m_r.node(v.id);
    if (n.kind != NodeKind::sequence || m_ks) {
      auto globs = text(v);
      return globs ? std::optional(split_globs(*globs)) : std::nullopt;
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.children.size(); ++i) {
      std::string path = index_path(v.path, i);
      if (auto glob = m_r.text(n.children[i], path, m_r.node(n.children[i]).at)) {
        out.push_back(*glob);
      }
    }
    return out;
  }

  std::optional<std::vector<image::Platform>> platforms(const Value& v) {
    const Node& n = m_r.node(v.id);
    std::vector<Value> items;
    if (n.kind == NodeKind::sequence && !m_ks) {
      for (std::size_t i = 0; i < n.children.size(); ++i) {
        items.push_back({n.children[i], index_path(v.path, i), m_r.node(n.children[i]).at});
      }
    } else {
      items.push_back(v);
    }
    std::vector<image::Platform> out;
    bool ok = true;
    for (const Value& item : items) {
      auto list = text(item);
      if (!list) {
        ok = ok && m_r.is_null(item.id);
        continue;
      }
      auto parsed = image::parse_platforms(*list);
      if (!parsed) {
        m_r.error(item.path, item.at, quoting(*list, "invalid platform", parsed.error().message));
        ok = false;
        continue;
      }
      out.insert(out.end(), parsed->begin(), parsed->end());
    }
    return ok ? std::optional(std::move(out)) : std::nullopt;
  }

  std::optional<std::string> secret(const Value& v) {
    auto written = text(v);
    if (!written) {
      return std::nullopt;
    }
    const std::string& s = *written;
    auto bad = [&](std::string_view want) {
      m_r.error(v.path, v.at, "invalid secret \"" + s + "\": want " + std::string(want));
      return std::nullopt;
    };
    // An ImageUpdater may use only secrets of its own namespace: its spec is written by a tenant
    // (through the API, a watched file or an application repository), the secrets are not.
    auto own = [&](std::string_view ref) {
      auto slash = ref.find('/');
      const std::string_view ns = ref.substr(0, slash);
      if (m_namespace.empty() || ns == m_namespace) {
        return true;
      }
      m_r.error(v.path, v.at,
                "secret \"" + s + "\" is in namespace \"" + std::string(ns) +
                    "\"; an ImageUpdater may use only secrets of its own namespace (\"" +
                    std::string(m_namespace) + "\")");
      return false;
    };
    auto namespaced = [&](std::string_view ref) {
      auto slash = ref.find('/');
      return slash != std::string_view::npos && slash > 0 && slash + 1 < ref.size() &&
             ref.find('/', slash + 1) == std::string_view::npos;
    };
    if (m_ks) {
      if (!namespaced(s)) {
        return bad("\"<namespace>/<name>\" of a docker-registry Secret");
      }
      if (!own(s)) {
        return std::nullopt;
      }
      return "pullsecret:" + s;
    }
    // argocd-image-updater's credential grammar, optionally behind "<registry>=".
    std::string_view spec = s;
    if (auto eq = spec.find('='); eq != std::string_view::npos && spec.find(':') > eq) {
      spec.remove_prefix(eq + 1);
    }
    constexpr std::string_view k_want =
        "a Secret name, \"<namespace>/<name>\", \"pullsecret:<namespace>/<name>\" or "
        "\"secret:<namespace>/<name>#<field>\"";
    if (spec.starts_with("pullsecret:")) {
      if (!namespaced(spec.substr(11))) {
        return bad(k_want);
      }
      return own(spec.substr(11)) ? std::optional(s) : std::nullopt;
    }
    if (spec.starts_with("secret:")) {
      auto ref = spec.substr(7);
      auto hash = ref.find('#');
      if (hash == std::string_view::npos || hash + 1 >= ref.size() ||
          !namespaced(ref.substr(0, hash))) {
        return bad(k_want);
      }
      return own(ref.substr(0, hash)) ? std::optional(s) : std::nullopt;
    }
    if (spec.starts_with("env:") || spec.starts_with("ext:")) {
      // They read the host's environment or run a program on it: operator configuration.
      m_r.error(v.path, v.at,
                "secret \"" + s + "\": " +
                    (spec.starts_with("env:") ? "env: reads the service's environment"
                                              : "ext: runs a program on the host") +
                    "; such credential sources are operator configuration (registries.conf "
                    "`credentials`), not allowed in an ImageUpdater");
      return std::nullopt;
    }
    if (s.find_first_of(":=#") != std::string::npos || s.empty()) {
      return bad(k_want);
    }
    if (s.find('/') != std::string::npos) {
      if (!namespaced(s)) {
        return bad(k_want);
      }
      return own(s) ? std::optional("pullsecret:" + s) : std::nullopt;
    }
    std::string ns = m_namespace.empty() ? std::string("default") : std::string(m_namespace);
    return "pullsecret:" + ns + "/" + s;
  }

  void app(const Entry& e, AppRef& app) {
    auto list = m_r.entries(e.value, e.path, e.at);
    if (m_ks) {
      m_r.check_known(list, {"name"});
    } else {
      m_r.check_known(list, {"name", "namespace"});
    }
    for (const Entry& item : list) {
      if (item.key == "name") {
        app.name = m_r.text(item).value_or("");
      } else if (item.key == "namespace" && !m_ks) {
        app.namespace_ = m_r.text(item).value_or("");
      }
    }
  }

  void write(const Entry& e, ArgoSettings& argo) {
    auto method = m_r.text(e);
    if (!method) {
      return;
    }
    if (*method == "built-in" || *method == "argocd") {
      argo.write = WriteMethod::argocd;
    } else if (*method == "git") {
      argo.write = WriteMethod::git;
    } else if (method->starts_with("git:") && method->size() > 4) {
      argo.write = WriteMethod::git;
      argo.git_credentials = method->substr(4);
    } else {
      m_r.error(e.path, e.at,
                "unknown write method \"" + *method +
                    "\" (valid: built-in, argocd, git, git:<credentials>)");
    }
  }

private:
  Reader& m_r;
  bool m_ks;
  std::string_view m_namespace;
};

} // namespace

ArgoSettings read_argo(Reader& r, const Entry& section, Dialect dialect,
                       std::string_view namespace_) {
  ArgoSettings argo;
  ArgoReader a(r, dialect, namespace_);
  bool ks = dialect == Dialect::kubesphere;
  auto list = r.entries(section.value, section.path, section.at);
  if (ks) {
    r.check_known(list, {"app", "write", "updateStrategy", "allowTags", "ignoreTags", "platforms",
                         "secrets"});
  } else {
    r.check_known(list, {"app", "write", "update-strategy", "allow-tags", "ignore-tags",
                         "platforms", "secret"});
  }
  for (const Entry& e : list) {
    const std::string& k = e.key;
    if (k == "app") {
      a.app(e, argo.app);
    } else if (k == "write") {
      a.write(e, argo);
    } else if (k == (ks ? "updateStrategy" : "update-strategy")) {
      a.per_alias(e, argo.update_strategy, argo.defaults.update_strategy, &ArgoReader::strategy);
    } else if (k == (ks ? "allowTags" : "allow-tags")) {
      a.per_alias(e, argo.allow_tags, argo.defaults.allow_tags, &ArgoReader::allow_tags);
    } else if (k == (ks ? "ignoreTags" : "ignore-tags")) {
      a.per_alias(e, argo.ignore_tags, argo.defaults.ignore_tags, &ArgoReader::ignore_tags);
    } else if (k == "platforms") {
      a.per_alias(e, argo.platforms, argo.defaults.platforms, &ArgoReader::platforms);
    } else if (k == (ks ? "secrets" : "secret")) {
      a.per_alias(e, argo.secrets, argo.defaults.secret, &ArgoReader::secret);
    }
  }
  return argo;
}

} // namespace common::spec::detail
