// Semantic checks of a read ImageUpdater: what a well-typed spec can still get wrong.
#include <algorithm>
#include <set>

#include "common/policy/glob.hpp"
#include "common/policy/policy.hpp"
#include "common/semver/constraint.hpp"
#include "common/spec/loader.hpp"
#include "common/spec/reader.hpp"
#include "common/util/strings.hpp"

namespace common::spec::detail {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 1123 label as Kubernetes checks it (IsDNS1123Label).
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// RFC 1123 subdomain (IsDNS1123Subdomain): dot-separated labels, at most 253 characters.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back()) ||
        !std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

constexpr std::string_view k_subdomain_rule =
    "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', at most 253 characters, "
    "starting and ending with a letter or digit)";
constexpr std::string_view k_label_rule =
    "must be a lowercase RFC 1123 label (a-z, 0-9 and '-', at most 63 characters, starting and "
    "ending with a letter or digit)";

// A Docker tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
bool is_tag(std::string_view s) {
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (s.empty() || s.size() > 128 || !word(s.front())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

std::string_view strategy_name(policy::Strategy s) {
  switch (s) {
  case policy::Strategy::semver:
    return "semver";
  case policy::Strategy::newest_build:
    return "newest-build";
  case policy::Strategy::alphabetical:
    return "alphabetical";
  case policy::Strategy::numerical:
    return "numerical";
  case policy::Strategy::digest:
    return "digest";
  }
  return "?";
}

// Spec values are bounded by the loader: messages quote them whole (util::quote escapes).
std::string quote(std::string_view s) {
  return util::quote(s, std::string_view::npos);
}

struct ArgoNames {
  std::string_view section, strategy, allow, ignore, platforms, secret;
};
constexpr ArgoNames k_proposal_names{"spec.argocd", "update-strategy", "allow-tags",
                                     "ignore-tags", "platforms",       "secret"};
constexpr ArgoNames k_kubesphere_names{"spec.argo",  "updateStrategy", "allowTags",
                                       "ignoreTags", "platforms",      "secrets"};

class Checker {
public:
  Checker(const ImageUpdater& u, const std::vector<Diagnostic>& prior) : m_u(u), m_prior(prior) {}

  std::vector<Diagnostic> run() {
    check_metadata();
    if (!has("spec") && !broken("spec")) {
      error("spec", "missing spec");
      return std::move(m_out);
    }
    check_images();
    if (m_u.kind == Engine::argocd) {
      check_argo();
      if (m_u.fluxcd) {
        warning("spec.fluxcd", "spec.fluxcd is ignored for kind argocd");
      }
    } else {
      check_flux();
      if (m_u.argocd) {
        std::string section(names().section);
        warning(section, section + " is ignored for kind fluxcd");
      }
    }
    return std::move(m_out);
  }

private:
  const ArgoNames& names() const {
    return m_u.dialect == Dialect::kubesphere ? k_kubesphere_names : k_proposal_names;
  }
  bool has(std::string_view field) const { return m_u.source.fields.contains(field); }

  // The nearest recorded location: the field, else its closest recorded parent.
  Location where(std::string_view field) const {
    std::string f(field);
    while (!f.empty()) {
      if (auto it = m_u.source.fields.find(f); it != m_u.source.fields.end()) {
        return it->second;
      }
      auto cut = f.find_last_of(".[");
      f.resize(cut == std::string::npos ? 0 : cut);
    }
    return m_u.source.at;
  }

  // True when reading already reported an error on this field, one under it or one above it.
  bool broken(std::string_view field) const {
    auto under = [](std::string_view a, std::string_view b) {
      return a.size() > b.size() && a.starts_with(b) && (a[b.size()] == '.' || a[b.size()] == '[');
    };
    return std::any_of(m_prior.begin(), m_prior.end(), [&](const Diagnostic& d) {
      return d.severity == Severity::error && !d.field.empty() &&
             (d.field == field || under(field, d.field) || under(d.field, field));
    });
  }

  void add(Severity severity, const std::string& field, Location at, std::string message) {
    m_out.push_back(make_diagnostic(severity, m_u.source.file,
                                    static_cast<std::size_t>(m_u.source.document), field, at,
                                    std::move(message)));
  }
  void error(const std::string& field, std::string message) {
    add(Severity::error, field, where(field), std::move(message));
  }
  void warning(const std::string& field, std::string message) {
    add(Severity::warning, field, where(field), std::move(message));
  }
  void missing(const std::string& field, std::string_view why = {}) {
    if (!broken(field)) {
      error(field, "missing " + field + (why.empty() ? "" : " (" + std::string(why) + ")"));
    }
  }

  void check_metadata() {
    const Metadata& m = m_u.metadata;
    if (m.name.empty()) {
      missing("metadata.name");
    } else if (!is_dns_subdomain(m.name)) {
      error("metadata.name",
            "invalid metadata.name " + quote(m.name) + ": " + std::string(k_subdomain_rule));
    }
    if (!m.namespace_.empty() && !is_dns_label(m.namespace_)) {
      error("metadata.namespace",
            "invalid metadata.namespace " + quote(m.namespace_) + ": " + std::string(k_label_rule));
    }
  }

  void check_images() {
    if (m_u.images.empty()) {
      if (broken("spec.images")) {
        return;
      }
      if (has("spec.images")) {
        error("spec.images", "spec.images is empty: there is nothing to update");
      } else {
        missing("spec.images");
      }
      return;
    }
    std::map<std::string, const ImageEntry*> seen;
    for (const ImageEntry& e : m_u.images) {
      auto [it, inserted] = seen.emplace(e.spec.alias, &e);
      if (!inserted) {
        add(Severity::error, e.field, e.at,
            "duplicate alias " + quote(e.spec.alias) + " in " + quote(e.text) + " (first at " +
                it->second->field + ", line " + std::to_string(it->second->at.line) + ")");
      }
    }
  }

  // ---- argocd ----------------------------------------------------------------------------

  void check_argo() {
    const ArgoNames& n = names();
    std::string section(n.section);
    if (!m_u.argocd) {
      missing(section, "kind argocd needs " + section + ".app.name");
      return;
    }
    const ArgoSettings& a = *m_u.argocd;
    std::string app = section + ".app";
    if (a.app.name.empty()) {
      missing(app + ".name", "the Application to update");
    } else if (!is_dns_subdomain(a.app.name)) {
      error(app + ".name",
            "invalid " + app + ".name " + quote(a.app.name) + ": " + std::string(k_subdomain_rule));
    }
    if (!a.app.namespace_.empty() && !is_dns_label(a.app.namespace_)) {
      error(app + ".namespace", "invalid " + app + ".namespace " + quote(a.app.namespace_) + ": " +
                                    std::string(k_label_rule));
    }
    for (const ImageEntry& e : m_u.images) {
      check_constraint(a, e);
    }
    std::set<std::string> aliases;
    for (const ImageEntry& e : m_u.images) {
      aliases.insert(e.spec.alias);
    }
    auto unused = [&](std::string_view setting, const auto& per_alias) {
      for (const auto& [alias, value] : per_alias) {
        if (!aliases.contains(alias)) {
          std::string field = child_path(section + "." + std::string(setting), alias);
          warning(field, "no image with alias " + quote(alias) +
                             " in spec.images; this setting is unused");
        }
      }
    };
    unused(n.strategy, a.update_strategy);
    unused(n.allow, a.allow_tags);
    unused(n.ignore, a.ignore_tags);
    unused(n.platforms, a.platforms);
    unused(n.secret, a.secrets);

    std::string allow = section + "." + std::string(n.allow);
    std::string ignore = section + "." + std::string(n.ignore);
    for (const auto& [alias, expr] : a.allow_tags) {
      check_allow(child_path(allow, alias), expr);
    }
    if (a.defaults.allow_tags) {
      check_allow(allow, *a.defaults.allow_tags);
    }
    for (const auto& [alias, globs] : a.ignore_tags) {
      check_globs(child_path(ignore, alias), globs);
    }
    if (a.defaults.ignore_tags) {
      check_globs(ignore, *a.defaults.ignore_tags);
    }
  }

  void check_constraint(const ArgoSettings& a, const ImageEntry& e) {
    auto it = a.update_strategy.find(e.spec.alias);
    policy::Strategy strategy = it != a.update_strategy.end()
                                    ? it->second
                                    : a.defaults.update_strategy.value_or(policy::Strategy::semver);
    const std::string& c = e.spec.constraint;
    switch (strategy) {
    case policy::Strategy::semver:
      if (!c.empty()) {
        if (auto parsed = semver::Constraint::parse(c); !parsed) {
          add(Severity::error, e.field, e.at,
              "invalid semver constraint " + quote(c) + " in image " + quote(e.text) + ": " +
                  parsed.error().message);
        }
      }
      break;
    case policy::Strategy::digest:
      if (c.empty()) {
        add(Severity::error, e.field, e.at,
            "image " + quote(e.text) +
                " uses the digest strategy but names no tag to track (write \"" + e.spec.written +
                ":<tag>\")");
      } else if (!is_tag(c)) {
        add(Severity::error, e.field, e.at,
            "invalid tag " + quote(c) + " to track in image " + quote(e.text) +
                " (the digest strategy tracks one tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
      }
      break;
    case policy::Strategy::newest_build:
    case policy::Strategy::alphabetical:
    case policy::Strategy::numerical:
      if (!c.empty()) {
        add(Severity::warning, e.field, e.at,
            "the constraint " + quote(c) + " of image " + quote(e.text) + " is ignored by the " +
                std::string(strategy_name(strategy)) + " strategy");
      }
      break;
    }
  }

  void check_allow(const std::string& field, const std::string& expr) {
    if (expr.empty() || expr == "any" || broken(field)) {
      return;
    }
    policy::Options options;
    options.allow_tags = expr;
    if (auto compiled = policy::Policy::compile(options); !compiled) {
      error(field, quoting(expr, "invalid allow-tags", compiled.error().message));
    }
  }

  void check_globs(const std::string& field, const std::vector<std::string>& globs) {
    for (std::size_t i = 0; i < globs.size(); ++i) {
      std::string item = index_path(field, i);
      if (broken(item)) {
        continue;
      }
      if (auto g = policy::Glob::parse(globs[i]); !g) {
        // A list item has its own location; globs split from one string share the string's.
        error(has(item) ? item : field,
              "invalid ignore-tags glob " + quote(globs[i]) + ": " + g.error().message);
      }
    }
  }

  // ---- fluxcd ----------------------------------------------------------------------------

  void check_flux() {
    if (!m_u.fluxcd) {
      missing("spec.fluxcd", "kind fluxcd needs spec.fluxcd.interval and spec.fluxcd.policy");
      return;
    }
    const FluxSettings& f = *m_u.fluxcd;
    if (f.interval.written.empty()) {
      missing("spec.fluxcd.interval", "a Go duration such as 5m");
    } else if (!broken("spec.fluxcd.interval") && f.interval.value.count() <= 0) {
      error("spec.fluxcd.interval",
            "invalid interval " + quote(f.interval.written) + ": must be positive");
    }
    if (!f.secret.empty() && !is_dns_subdomain(f.secret)) {
      error("spec.fluxcd.secret",
            "invalid spec.fluxcd.secret " + quote(f.secret) + ": " + std::string(k_subdomain_rule));
    }
    check_flux_policy(f);
    if (f.filter_tags) {
      check_filter(*f.filter_tags);
    }
    if (f.source_ref) {
      const SourceRef& s = *f.source_ref;
      if (s.kind != "GitRepository") {
        error("spec.fluxcd.sourceRef.kind",
              "unsupported sourceRef kind " + quote(s.kind) + " (valid: GitRepository)");
      }
      if (s.name.empty() && s.url.empty() && !broken("spec.fluxcd.sourceRef")) {
        error("spec.fluxcd.sourceRef", "spec.fluxcd.sourceRef needs a name or a url");
      }
    }
    if (f.git) {
      check_git(*f.git);
    }
    // SettersAndImages (ours): the markers, plus the governed workload images as the Argo CD
    // side rewrites them.
    if (f.update.strategy != "Setters" && f.update.strategy != "SettersAndImages" &&
        !broken("spec.fluxcd.update.strategy")) {
      error("spec.fluxcd.update.strategy", "unknown update strategy " + quote(f.update.strategy) +
                                               " (valid: Setters, SettersAndImages)");
    }
    for (const ImageEntry& e : m_u.images) {
      if (!e.spec.constraint.empty()) {
        add(Severity::warning, e.field, e.at,
            "the constraint " + quote(e.spec.constraint) + " of image " + quote(e.text) +
                " is ignored for kind fluxcd (spec.fluxcd.policy chooses the tag)");
      }
    }
  }

  void check_flux_policy(const FluxSettings& f) {
    if (!f.policy) {
      missing("spec.fluxcd.policy", "one of semver, alphabetical, numerical");
      return;
    }
    const auto* semver = std::get_if<SemverPolicy>(&*f.policy);
    if (semver == nullptr) {
      return;
    }
    const std::string field = "spec.fluxcd.policy.semver.range";
    if (semver->range.empty()) {
      missing(field, "a semver range such as 5.0.x");
    } else if (auto parsed = semver::Constraint::parse(semver->range); !parsed) {
      error(field, "invalid semver range " + quote(semver->range) + ": " + parsed.error().message);
    }
  }

  void check_filter(const FilterTags& filter) {
    const std::string pattern = "spec.fluxcd.filterTags.pattern";
    if (filter.pattern.empty()) {
      if (!filter.extract.empty()) {
        error("spec.fluxcd.filterTags.extract", "filterTags.extract needs filterTags.pattern");
      }
      return;
    }
    if (broken(pattern) || broken("spec.fluxcd.filterTags.extract")) {
      return;
    }
    policy::Options options;
    options.filter_pattern = filter.pattern;
    options.filter_extract = filter.extract;
    if (auto compiled = policy::Policy::compile(options); !compiled) {
      // policy names the option at fault as the error's field ("filterTags.extract"), and its
      // message already says which it is.
      const util::Error& e = compiled.error();
      if (e.where && e.where->field.starts_with("filterTags.")) {
        error("spec.fluxcd." + e.where->field, e.message);
      } else {
        error(pattern, "invalid filterTags " + quote(filter.pattern) + ": " + e.message);
      }
    }
  }

  void check_git(const GitSettings& git) {
    const std::string commit = "spec.fluxcd.git.commit";
    // The generator renders at apply time and commits nothing, so git may name only what to
    // check out; once commit or push settings are written (what an ImageUpdateAutomation would
    // do), Flux's rule holds: a commit needs its author.
    const bool commits = !git.commit.author.name.empty() || !git.commit.message_template.empty() ||
                         git.commit.signing_key || !git.push.branch.empty() ||
                         !git.push.refspec.empty();
    if (commits && git.commit.author.email.empty()) {
      missing(commit + ".author.email", "the commit author");
    }
    if (git.commit.message_template.find(".Updated") != std::string::npos) {
      warning(commit + ".messageTemplate",
              "messageTemplate uses .Updated, which current Flux rejects (removed from "
              "image-automation-controller v1); use .Changed");
    }
    if (git.commit.signing_key) {
      const SigningKey& key = *git.commit.signing_key;
      if (key.secret_name.empty()) {
        missing(commit + ".signingKey.secretRef.name");
      }
      if (!key.type.empty() && key.type != "gpg" && key.type != "ssh") {
        error(commit + ".signingKey.type",
              "unknown signingKey type " + quote(key.type) + " (valid: gpg, ssh)");
      }
    }
  }

  const ImageUpdater& m_u;
  const std::vector<Diagnostic>& m_prior;
  std::vector<Diagnostic> m_out;
};

} // namespace

std::vector<Diagnostic> validate(const ImageUpdater& updater,
                                 const std::vector<Diagnostic>& prior) {
  return Checker(updater, prior).run();
}

} // namespace common::spec::detail
