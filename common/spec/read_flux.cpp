// spec.fluxcd: the proposal's mirror of Flux's ImageRepository (interval, secret), ImagePolicy
// (policy, filterTags) and ImageUpdateAutomation (sourceRef, git, update), with Flux's field
// names.
#include <algorithm>
#include <cctype>

#include "common/spec/reader.hpp"
#include "common/util/duration.hpp"

namespace common::spec::detail {
namespace {

std::optional<policy::Order> read_order(Reader& r, const Entry& e) {
  auto text = r.text(e);
  if (!text) {
    return std::nullopt;
  }
  std::string upper(*text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "ASC") {
    return policy::Order::asc;
  }
  if (upper == "DESC") {
    return policy::Order::desc;
  }
  r.error(e.path, e.at, "unknown order \"" + *text + "\" (valid: asc, desc)");
  return std::nullopt;
}

std::optional<FluxPolicy> read_policy(Reader& r, const Entry& section) {
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, {"semver", "alphabetical", "numerical"});
  std::vector<const Entry*> given;
  for (const Entry& e : list) {
    if (e.key == "semver" || e.key == "alphabetical" || e.key == "numerical") {
      given.push_back(&e);
    }
  }
  if (given.size() > 1) {
    r.error(section.path, given[1]->key_at,
            section.path + " has both \"" + given[0]->key + "\" and \"" + given[1]->key +
                "\"; give exactly one of semver, alphabetical, numerical");
    return std::nullopt;
  }
  if (given.empty()) {
    return std::nullopt; // validate() reports the missing policy
  }
  const Entry& p = *given[0];
  auto fields = r.entries(p.value, p.path, p.at);
  if (p.key == "semver") {
    r.check_known(fields, {"range"});
    SemverPolicy semver;
    if (const Entry* range = Reader::find(fields, "range")) {
      semver.range = r.text(*range).value_or("");
    }
    return semver;
  }
  r.check_known(fields, {"order"});
  std::optional<policy::Order> order;
  if (const Entry* o = Reader::find(fields, "order")) {
    order = read_order(r, *o);
  }
  if (p.key == "alphabetical") {
    return AlphabeticalPolicy{order.value_or(policy::Order::asc)};
  }
  return NumericalPolicy{order.value_or(policy::Order::asc)};
}

// Reads the listed string fields of a mapping into the given strings.
void strings(Reader& r, const Entry& section,
             std::initializer_list<std::pair<std::string_view, std::string*>> fields,
             std::initializer_list<std::string_view> known) {
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, known);
  for (const Entry& e : list) {
    for (const auto& [key, target] : fields) {
      if (e.key == key) {
        *target = r.text(e).value_or("");
      }
    }
  }
}

GitCommit read_commit(Reader& r, const Entry& section) {
  GitCommit commit;
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, {"author", "messageTemplate", "messageTemplateValues", "signingKey"});
  for (const Entry& e : list) {
    if (e.key == "author") {
      strings(r, e, {{"name", &commit.author.name}, {"email", &commit.author.email}},
              {"name", "email"});
    } else if (e.key == "messageTemplate") {
      commit.message_template = r.text(e).value_or("");
    } else if (e.key == "messageTemplateValues") {
      commit.message_template_values = r.string_map(e);
    } else if (e.key == "signingKey" && !r.is_null(e.value)) {
      SigningKey key;
      auto fields = r.entries(e.value, e.path, e.at);
      r.check_known(fields, {"secretRef", "type"});
      for (const Entry& f : fields) {
        if (f.key == "secretRef") {
          strings(r, f, {{"name", &key.secret_name}}, {"name"});
        } else if (f.key == "type") {
          key.type = r.text(f).value_or("");
        }
      }
      commit.signing_key = key;
    }
  }
  return commit;
}

GitSettings read_git(Reader& r, const Entry& section) {
  GitSettings git;
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, {"checkout", "commit", "push"});
  for (const Entry& e : list) {
    if (e.key == "checkout") {
      auto fields = r.entries(e.value, e.path, e.at);
      r.check_known(fields, {"ref"});
      if (const Entry* ref = Reader::find(fields, "ref")) {
        GitCheckoutRef checkout;
        strings(r, *ref,
                {{"branch", &checkout.branch},
                 {"tag", &checkout.tag},
                 {"semver", &checkout.semver},
                 {"name", &checkout.name},
                 {"commit", &checkout.commit}},
                {"branch", "tag", "semver", "name", "commit"});
        git.checkout = checkout;
      }
    } else if (e.key == "commit") {
      git.commit = read_commit(r, e);
    } else if (e.key == "push") {
      strings(r, e, {{"branch", &git.push.branch}, {"refspec", &git.push.refspec}},
              {"branch", "refspec"});
    }
  }
  return git;
}

} // namespace

FluxSettings read_flux(Reader& r, const Entry& section) {
  FluxSettings flux;
  auto list = r.entries(section.value, section.path, section.at);
  r.check_known(list, {"interval", "secret", "policy", "filterTags", "sourceRef", "git", "update"});
  for (const Entry& e : list) {
    if (e.key == "interval") {
      if (auto text = r.text(e)) {
        flux.interval.written = *text;
        if (auto d = util::parse_go_duration(*text)) {
          flux.interval.value = *d;
        } else {
          r.error(e.path, e.at, "invalid interval: " + d.error().message);
        }
      }
    } else if (e.key == "secret") {
      flux.secret = r.text(e).value_or("");
    } else if (e.key == "policy") {
      flux.policy = read_policy(r, e);
    } else if (e.key == "filterTags" && !r.is_null(e.value)) {
      FilterTags filter;
      strings(r, e, {{"pattern", &filter.pattern}, {"extract", &filter.extract}},
              {"pattern", "extract"});
      flux.filter_tags = filter;
    } else if (e.key == "sourceRef" && !r.is_null(e.value)) {
      SourceRef ref;
      std::string api_version;
      strings(r, e,
              {{"apiVersion", &api_version},
               {"kind", &ref.kind},
               {"name", &ref.name},
               {"namespace", &ref.namespace_},
               {"url", &ref.url}},
              {"apiVersion", "kind", "name", "namespace", "url"});
      if (ref.kind.empty()) {
        ref.kind = "GitRepository";
      }
      flux.source_ref = ref;
    } else if (e.key == "git" && !r.is_null(e.value)) {
      flux.git = read_git(r, e);
    } else if (e.key == "update") {
      strings(r, e, {{"path", &flux.update.path}, {"strategy", &flux.update.strategy}},
              {"path", "strategy"});
      if (flux.update.strategy.empty()) {
        flux.update.strategy = "Setters";
      }
    }
  }
  return flux;
}

} // namespace common::spec::detail
