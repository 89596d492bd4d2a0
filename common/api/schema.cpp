// The spec and status schemas. Each constraint mirrors a check of common/spec (the reader's
// value checks in read_argo.cpp / read_flux.cpp / loader.cpp, the semantic ones in
// validate.cpp); the comment names which. What the spec model checks but a schema cannot say
// (regexps and globs that must compile, semver ranges, image references, duplicate aliases,
// the proposal's secret grammar and own-namespace rule) is left to the service's validation,
// which refuses it with 422 in the REST API and a Ready=False condition in the cluster.
#include "common/api/schema.hpp"

#include <initializer_list>
#include <string_view>

#include <nlohmann/json.hpp>

namespace common::api::detail {
namespace {

using nlohmann::json;

// apimachinery's IsDNS1123Subdomain / IsDNS1123Label as ECMA/RE2 patterns.
constexpr std::string_view k_subdomain =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
constexpr std::string_view k_label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
// util::parse_go_duration without a sign or the unit-less "0" (validate wants it positive).
constexpr std::string_view k_duration =
    "^\\+?(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$";
// The reader's asc/desc compare ignores case.
constexpr std::string_view k_order = "^([aA][sS][cC]|[dD][eE][sS][cC])$";

json string(std::string_view description = {}) {
  json s = {{"type", "string"}};
  if (!description.empty()) {
    s["description"] = description;
  }
  return s;
}

json with(json schema, std::initializer_list<std::pair<const char*, json>> extra) {
  for (const auto& [key, value] : extra) {
    schema[key] = value;
  }
  return schema;
}

json subdomain(std::string_view description) {
  return with(string(description), {{"maxLength", 253}, {"pattern", k_subdomain}});
}

json label(std::string_view description) {
  return with(string(description), {{"maxLength", 63}, {"pattern", k_label}});
}

json object(json properties, std::string_view description = {}) {
  json o = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!description.empty()) {
    o["description"] = description;
  }
  return o;
}

json map_of(json values, std::string_view description = {}) {
  json o = {{"type", "object"}, {"additionalProperties", std::move(values)}};
  if (!description.empty()) {
    o["description"] = description;
  }
  return o;
}

json rule(std::string_view cel, std::string_view message) {
  return {{"rule", cel}, {"message", message}};
}

json strings() {
  return {{"type", "array"}, {"items", {{"type", "string"}}}};
}

// A proposal-dialect per-image setting: one value for every image, or a map alias -> value.
json any_value(std::string_view description) {
  return {{"description", description}, {"x-kubernetes-preserve-unknown-fields", true}};
}

// write: read_argo.cpp's ArgoReader::write.
json write_method() {
  return with(string("built-in or argocd (patch the live Application), git or "
                     "git:<credentials> (commit to its repository)"),
              {{"pattern", "^(built-in|argocd|git|git:.+)$"}});
}

json proposal_argo() {
  return object(
      {{"app", with(object({{"name", subdomain("the Argo CD Application")},
                            {"namespace", label("its namespace; empty: the ImageUpdater's")}}),
                    {{"required", {"name"}}})},
       {"write", write_method()},
       {"update-strategy",
        any_value("semver | newest-build | latest | alphabetical | name | digest, for every "
                  "image or per alias (a map)")},
       {"allow-tags", any_value("any | regexp:<RE2>, for every image or per alias (a map)")},
       {"ignore-tags",
        any_value("globs (a list or a comma-separated string), for every image or per alias")},
       {"platforms",
        any_value("os/arch[/variant] (a list or a comma-separated string), for every image or "
                  "per alias")},
       {"secret", any_value("registry credentials of this namespace (a Secret name, "
                            "pullsecret:<ns>/<name>, secret:<ns>/<name>#<field>), for every "
                            "image or per alias")}},
      "the design proposal's Argo CD settings (kebab-case keys)");
}

json kubesphere_argo() {
  return object(
      {{"app", with(object({{"name", subdomain("the Argo CD Application (in this namespace)")}}),
                    {{"required", {"name"}}})},
       {"write", write_method()},
       {"updateStrategy", map_of(with(string(), {{"enum",
                                                  {"semver", "newest-build", "latest",
                                                   "alphabetical", "name", "digest"}}}),
                                 "per alias")},
       {"allowTags", map_of(string(), "per alias: a regular expression (RE2)")},
       {"ignoreTags", map_of(string(), "per alias: comma-separated globs")},
       {"platforms", map_of(string(), "per alias: comma-separated os/arch[/variant]")},
       {"secrets",
        map_of(with(string(), {{"pattern", "^[^/]+/[^/]+$"}}),
               "per alias: <namespace>/<name> of a docker-registry Secret in this namespace")}},
      "KubeSphere's Argo CD settings as shipped (camelCase keys)");
}

json flux_policy() {
  json order = object({{"order", with(string("asc | desc"), {{"pattern", k_order}})}});
  return with(object({{"semver",
                       with(object({{"range", with(string("a semver range"), {{"minLength", 1}})}}),
                            {{"required", {"range"}}})},
                      {"alphabetical", order},
                      {"numerical", order}},
                     "exactly one of semver, alphabetical, numerical"),
              {{"minProperties", 1}, {"maxProperties", 1}});
}

json flux_git() {
  const char* commits =
      "!((has(self.commit) && ((has(self.commit.author) && has(self.commit.author.name) && "
      "self.commit.author.name != '') || (has(self.commit.messageTemplate) && "
      "self.commit.messageTemplate != '') || has(self.commit.signingKey))) || (has(self.push) && "
      "((has(self.push.branch) && self.push.branch != '') || (has(self.push.refspec) && "
      "self.push.refspec != '')))) || (has(self.commit) && has(self.commit.author) && "
      "has(self.commit.author.email) && self.commit.author.email != '')";
  json signing =
      with(object({{"secretRef", with(object({{"name", with(string(), {{"minLength", 1}})}}),
                                      {{"required", {"name"}}})},
                   {"type", with(string("gpg (default) | ssh"), {{"pattern", "^(gpg|ssh)?$"}})}}),
           {{"required", {"secretRef"}}});
  json commit = object({{"author", object({{"name", string()}, {"email", string()}})},
                        {"messageTemplate", string("Go text/template")},
                        {"messageTemplateValues", map_of(string())},
                        {"signingKey", std::move(signing)}});
  json ref = object({{"branch", string()},
                     {"tag", string()},
                     {"semver", string()},
                     {"name", string()},
                     {"commit", string()}});
  return with(
      object({{"checkout", object({{"ref", std::move(ref)}})},
              {"commit", std::move(commit)},
              {"push", object({{"branch", string()}, {"refspec", string()}})}}),
      {{"x-kubernetes-validations",
        json::array({rule(commits, "spec.fluxcd.git.commit.author.email is required once commit or "
                                   "push settings are given")})}});
}

json flux() {
  json interval = with(string("a positive Go duration such as 5m"),
                       {{"allOf", {{{"pattern", k_duration}}, {{"pattern", "[1-9]"}}}}});
  json filter =
      with(object({{"pattern", string("RE2, unanchored")},
                   {"extract", string("a $name / ${1} template of the pattern's groups")}}),
           {{"x-kubernetes-validations",
             json::array({rule("!has(self.extract) || self.extract == '' || (has(self.pattern) && "
                               "self.pattern != '')",
                               "filterTags.extract needs filterTags.pattern")})}});
  json source =
      with(object({{"apiVersion", string()},
                   {"kind", with(string("GitRepository (the default)"),
                                 {{"pattern", "^(GitRepository)?$"}})},
                   {"name", string()},
                   {"namespace", string()},
                   {"url", string()}}),
           {{"x-kubernetes-validations",
             json::array(
                 {rule("(has(self.name) && self.name != '') || (has(self.url) && self.url != '')",
                       "spec.fluxcd.sourceRef needs a name or a url")})}});
  json update = object({{"path", string("in the repository; empty: its root")},
                        {"strategy", with(string("Setters (default) | SettersAndImages"),
                                          {{"pattern", "^(Setters|SettersAndImages)?$"}})}});
  return object({{"interval", std::move(interval)},
                 {"secret", subdomain("a docker-registry Secret of this namespace")},
                 {"policy", flux_policy()},
                 {"filterTags", std::move(filter)},
                 {"sourceRef", std::move(source)},
                 {"git", flux_git()},
                 {"update", std::move(update)}},
                "the design proposal's Flux settings (Flux's field names)");
}

// The engine the spec model picks (loader.cpp's read_spec): spec.kind, else spec.engine, else
// fluxcd when only spec.fluxcd is given, else argocd.
constexpr std::string_view k_engine =
    "(has(self.kind) ? self.kind : has(self.engine) ? self.engine : (has(self.fluxcd) && "
    "!has(self.argocd) && !has(self.argo)) ? 'fluxcd' : 'argocd')";

} // namespace

std::string spec_schema_json() {
  json engine = with(string(), {{"enum", {"argocd", "fluxcd"}}});
  json images = {{"type", "array"},
                 {"minItems", 1},
                 {"description", "[alias=]image[:constraint] entries"},
                 {"items", with(string(), {{"minLength", 1}})}};
  const std::string e(k_engine);
  json rules = {
      rule("!(has(self.argocd) && has(self.argo))",
           "both spec.argocd (the proposal's spelling) and spec.argo (KubeSphere's) are given; "
           "use one"),
      rule("!has(self.kind) || !has(self.engine) || self.kind == self.engine",
           "spec.engine contradicts spec.kind; give one of them"),
      rule(e + " != 'argocd' || (has(self.argocd) && has(self.argocd.app)) || (has(self.argo) "
               "&& has(self.argo.app))",
           "kind argocd needs spec.argocd.app.name (or spec.argo.app.name)"),
      rule(e + " != 'fluxcd' || (has(self.fluxcd) && has(self.fluxcd.interval) && "
               "has(self.fluxcd.policy))",
           "kind fluxcd needs spec.fluxcd.interval and spec.fluxcd.policy")};
  json spec = {{"type", "object"},
               {"description", "the ImageUpdater spec (docs/spec.md): kind, images, argocd | "
                               "argo, fluxcd"},
               {"required", {"images"}},
               {"properties",
                {{"kind", with(engine, {{"description", "argocd | fluxcd"}})},
                 {"engine", with(engine, {{"description", "the same as kind (an older name)"}})},
                 {"suspend",
                  {{"type", "boolean"},
                   {"description", "true: the service leaves the object alone (no check, no "
                                   "publication) until it is resumed"}}},
                 {"images", std::move(images)},
                 {"argocd", proposal_argo()},
                 {"argo", kubesphere_argo()},
                 {"fluxcd", flux()}}},
               {"x-kubernetes-validations", std::move(rules)}};
  return spec.dump();
}

std::string status_schema_json() {
  json condition = object({{"type", string()},
                           {"status", with(string(), {{"enum", {"True", "False", "Unknown"}}})},
                           {"reason", string()},
                           {"message", string()},
                           {"observedGeneration", {{"type", "integer"}, {"format", "int64"}}},
                           {"lastTransitionTime", {{"type", "string"}, {"format", "date-time"}}}});
  json image = object({{"alias", string()},
                       {"image", string("as written")},
                       {"repository", string("normalised")},
                       {"strategy", string()},
                       {"constraint", string()},
                       {"tag", string("the chosen tag")},
                       {"digest", string()},
                       {"reason", string("why this tag")},
                       {"error", string("why none")},
                       {"warnings", strings()}});
  json artifact = object({{"path", string()},
                          {"url", string()},
                          {"revision", string()},
                          {"digest", string()},
                          {"size", {{"type", "integer"}, {"format", "int64"}}},
                          {"lastUpdateTime", {{"type", "string"}, {"format", "date-time"}}},
                          {"metadata", map_of(string())}});
  json status =
      object({{"observedGeneration", {{"type", "integer"}, {"format", "int64"}}},
              {"lastCheckTime", {{"type", "string"}, {"format", "date-time"}}},
              {"images",
               {{"type", "array"},
                {"description", "one entry per spec.images entry, in order"},
                {"items", std::move(image)}}},
              {"conditions", {{"type", "array"}, {"items", std::move(condition)}}},
              {"source", object({{"url", string()}, {"revision", string()}})},
              {"artifact", std::move(artifact)},
              {"externalArtifact",
               {{"type", "object"},
                {"description", "the ExternalArtifact object the service describes"},
                {"x-kubernetes-preserve-unknown-fields", true}}},
              {"oci", object({{"repository", string()}, {"tag", string()}, {"digest", string()}})},
              {"inputsDigest", string()},
              {"lastHandledReconcileAt", string()},
              {"warnings", strings()}},
             "filled by the service; client changes are ignored");
  status["x-kubernetes-preserve-unknown-fields"] = true;
  return status.dump();
}

} // namespace common::api::detail
