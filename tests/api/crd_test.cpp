// The CRD against its sources: the committed kustomize/crd file is `imageupdater-flux-source
// crd`'s output (crd_yaml()), its YAML says what crd_json() says, the OpenAPI document carries the
// same spec schema, and what the spec model's validate() refuses the schema refuses wherever a
// schema can say it. A small checker evaluates the schema's structural part (types, properties,
// required, enum, pattern, lengths, counts, allOf; unknown fields refused, as kubectl's default
// strict field validation does); the CEL rules (x-kubernetes-validations) it cannot run are
// matched by their messages here and run by the real API server in the cluster tests.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "common/api/crd.hpp"
#include "common/api/openapi.hpp"
#include "common/api/yaml_json.hpp"
#include "common/spec/loader.hpp"

#include "tests/support/process.hpp"

namespace {

using nlohmann::json;

const std::string k_crd_file = "/kustomize/crd/gitops.kubesphere.io_imageupdaters.yaml";

json crd() {
  return json::parse(common::api::crd_json());
}

const json& root_schema() {
  static const json schema = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
  return schema;
}

// ---- the checker ----

bool type_is(const json& v, const std::string& type) {
  if (type == "object") {
    return v.is_object();
  }
  if (type == "array") {
    return v.is_array();
  }
  if (type == "string") {
    return v.is_string();
  }
  if (type == "integer") {
    return v.is_number_integer();
  }
  if (type == "number") {
    return v.is_number();
  }
  if (type == "boolean") {
    return v.is_boolean();
  }
  return false;
}

void check(const json& v, const json& s, const std::string& at, std::vector<std::string>& out) {
  auto fail = [&](const std::string& why) { out.push_back(at + ": " + why); };
  if (v.is_null()) {
    return; // the API server drops nulls of non-nullable fields before validating
  }
  if (s.contains("type") && !type_is(v, s["type"])) {
    fail("not " + s["type"].get<std::string>());
    return;
  }
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) {
    fail("not in enum");
  }
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    // Lengths count characters; the patterns and names here are ASCII.
    if (s.contains("minLength") && text.size() < s["minLength"].get<std::size_t>()) {
      fail("shorter than minLength");
    }
    if (s.contains("maxLength") && text.size() > s["maxLength"].get<std::size_t>()) {
      fail("longer than maxLength");
    }
    if (s.contains("pattern")) {
      RE2 re(s["pattern"].get<std::string>());
      EXPECT_TRUE(re.ok()) << s["pattern"];
      if (!RE2::PartialMatch(text, re)) {
        fail("does not match " + s["pattern"].get<std::string>());
      }
    }
  }
  if (s.contains("allOf")) {
    for (const json& part : s["allOf"]) {
      check(v, part, at, out);
    }
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>()) {
      fail("fewer than minItems");
    }
    if (s.contains("items")) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        check(v[i], s["items"], at + "[" + std::to_string(i) + "]", out);
      }
    }
  }
  if (v.is_object()) {
    if (s.contains("minProperties") && v.size() < s["minProperties"].get<std::size_t>()) {
      fail("fewer than minProperties");
    }
    if (s.contains("maxProperties") && v.size() > s["maxProperties"].get<std::size_t>()) {
      fail("more than maxProperties");
    }
    for (const json& r : s.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) {
        fail("missing " + r.get<std::string>());
      }
    }
    const bool open = s.value("x-kubernetes-preserve-unknown-fields", false);
    for (const auto& [key, value] : v.items()) {
      if (s.contains("properties") && s["properties"].contains(key)) {
        check(value, s["properties"][key], at + "." + key, out);
      } else if (s.contains("additionalProperties")) {
        check(value, s["additionalProperties"], at + "." + key, out);
      } else if (!open && !(at.empty() && key == "metadata") && s.contains("properties")) {
        fail("unknown field " + key);
      }
    }
  }
}

std::vector<std::string> schema_errors(const std::string& yaml) {
  auto text = common::api::detail::yaml_to_json(yaml);
  EXPECT_TRUE(text.has_value()) << yaml;
  std::vector<std::string> out;
  if (text) {
    check(json::parse(*text), root_schema(), "", out);
  }
  return out;
}

std::vector<std::string> validate_errors(const std::string& yaml) {
  auto result = common::spec::parse_stream(yaml, "test.yaml");
  std::vector<std::string> out;
  for (const auto& d : result.diagnostics) {
    if (d.severity == common::spec::Severity::error) {
      out.push_back(d.message);
    }
  }
  EXPECT_EQ(result.updaters.size(), 1u) << yaml;
  return out;
}

std::string object(const std::string& spec) {
  return "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata:\n  name: t\n"
         "  namespace: demo\n" +
         spec;
}

const std::string k_argo =
    "spec:\n  images: [web=ghcr.io/acme/web]\n  argocd:\n    app: {name: web}\n";
const std::string k_flux = "spec:\n  images: [web=ghcr.io/acme/web]\n  fluxcd:\n    interval: 5m\n"
                           "    policy: {semver: {range: 1.x}}\n";

// ---- the tests ----

TEST(Crd, CommittedFileIsTheGeneratedOne) {
  const std::string committed =
      test_support::read_text_file(std::string(IU_SOURCE_DIR) + k_crd_file);
  EXPECT_EQ(committed, common::api::crd_yaml())
      << "kustomize/crd is stale: regenerate it with `build/bin/imageupdater-flux-source crd > "
         "kustomize/crd/gitops.kubesphere.io_imageupdaters.yaml`";
}

TEST(Crd, YamlSaysWhatTheJsonSays) {
  auto text = common::api::detail::yaml_to_json(common::api::crd_yaml());
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(json::parse(*text), crd());
}

TEST(Crd, NamesScopeVersionAndColumns) {
  const json c = crd();
  EXPECT_EQ(c["metadata"]["name"], "imageupdaters.gitops.kubesphere.io");
  EXPECT_EQ(c["spec"]["group"], "gitops.kubesphere.io");
  EXPECT_EQ(c["spec"]["scope"], "Namespaced");
  EXPECT_EQ(c["spec"]["names"]["kind"], "ImageUpdater");
  EXPECT_EQ(c["spec"]["names"]["shortNames"], json({"iu", "imgupd"}));
  EXPECT_EQ(c["spec"]["names"]["categories"], json({"imageupdater"})); // never "all"
  const json& v = c["spec"]["versions"][0];
  EXPECT_EQ(v["name"], "v1alpha1");
  EXPECT_TRUE(v["served"]);
  EXPECT_TRUE(v["storage"]);
  EXPECT_EQ(v["subresources"], json({{"status", json::object()}}));
  std::vector<std::string> names;
  for (const json& col : v["additionalPrinterColumns"]) {
    names.push_back(col["name"]);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"Kind", "Ready", "Images", "Last check", "Age", "Message"}));
}

// Structural (apiextensions' rules): every node typed except where unknown fields are kept;
// no $ref, no additionalProperties next to properties.
void expect_structural(const json& s, const std::string& at) {
  ASSERT_TRUE(s.is_object()) << at;
  EXPECT_FALSE(s.contains("$ref")) << at;
  EXPECT_FALSE(s.contains("readOnly")) << at;
  if (!s.value("x-kubernetes-preserve-unknown-fields", false)) {
    EXPECT_TRUE(s.contains("type")) << at;
  }
  EXPECT_FALSE(s.contains("properties") && s.contains("additionalProperties")) << at;
  const json properties = s.value("properties", json::object());
  for (const auto& [key, child] : properties.items()) {
    expect_structural(child, at + "." + key);
  }
  if (s.contains("additionalProperties")) {
    expect_structural(s["additionalProperties"], at + ".*");
  }
  if (s.contains("items")) {
    expect_structural(s["items"], at + "[]");
  }
  for (const json& part : s.value("allOf", json::array())) {
    EXPECT_FALSE(part.contains("type")) << at;
  }
}

TEST(Crd, SchemaIsStructural) {
  expect_structural(root_schema(), "");
}

TEST(Crd, OpenApiDocumentCarriesTheSameSchemas) {
  const json doc = json::parse(common::api::openapi_document());
  EXPECT_EQ(doc["components"]["schemas"]["ImageUpdaterSpec"], root_schema()["properties"]["spec"]);
  json status = doc["components"]["schemas"]["ImageUpdaterStatus"];
  status.erase("readOnly");
  EXPECT_EQ(status, root_schema()["properties"]["status"]);
}

// Every document of the examples is valid for both.
TEST(Crd, ExamplesAreAccepted) {
  for (const char* file :
       {"/examples/imageupdater.yaml", "/examples/apps/helm/imageupdater.yaml",
        "/examples/apps/kustomize/imageupdater.yaml", "/examples/apps/plain/imageupdater.yaml",
        "/kustomize/flux-examples/imageupdater.yaml"}) {
    const std::string text = test_support::read_text_file(std::string(IU_SOURCE_DIR) + file);
    ASSERT_FALSE(text.empty()) << file;
    std::size_t start = 0;
    int documents = 0;
    while (start < text.size()) {
      auto end = text.find("\n---", start);
      const std::string doc =
          text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
      start = end == std::string::npos ? text.size() : end + 4;
      if (doc.find("kind: ImageUpdater") == std::string::npos) {
        continue;
      }
      ++documents;
      EXPECT_EQ(validate_errors(doc), std::vector<std::string>{}) << file;
      EXPECT_EQ(schema_errors(doc), std::vector<std::string>{}) << file << "\n" << doc;
    }
    EXPECT_GT(documents, 0) << file;
  }
}

struct Case {
  const char* name;
  std::string yaml;
};

// Valid specs at the edges of the patterns: both accept.
TEST(Crd, EdgesAreAccepted) {
  const Case cases[] = {
      {"engine instead of kind", object("spec:\n  engine: argocd\n" + k_argo.substr(6))},
      {"kind fluxcd inferred", object(k_flux)},
      {"write git with credentials",
       object(k_argo + "    write: git:secret:demo/git-creds#token\n")},
      {"order in capitals", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 1h30m\n"
                                   "    policy: {numerical: {order: DESC}}\n")},
      {"fractional interval", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 1.5m\n"
                                     "    policy: {alphabetical: {}}\n")},
      {"update strategy SettersAndImages",
       object(k_flux + "    update: {path: apps, strategy: SettersAndImages}\n")},
      {"one strategy for all images", object(k_argo + "    update-strategy: newest-build\n")},
      {"ignore-tags as a list per alias", object(k_argo + "    ignore-tags: {web: ['*-rc']}\n")},
      {"sourceRef by url", object(k_flux + "    sourceRef: {url: https://git.example.com/r}\n")},
      {"commit with author",
       object(k_flux + "    git:\n      commit:\n        author: {name: a, "
                       "email: a@example.com}\n      push: {branch: main}\n")},
      {"signing key", object(k_flux + "    git:\n      commit:\n        author: {email: "
                                      "a@example.com}\n        signingKey: {secretRef: {name: k}, "
                                      "type: ssh}\n")},
      {"argocd ignored for fluxcd", object("spec:\n  kind: fluxcd\n  images: [web]\n  fluxcd:\n"
                                           "    interval: 5m\n    policy: {alphabetical: {}}\n"
                                           "  argocd:\n    app: {name: web}\n")},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(validate_errors(c.yaml), std::vector<std::string>{}) << c.name;
    EXPECT_EQ(schema_errors(c.yaml), std::vector<std::string>{}) << c.name;
  }
}

// What validate() refuses and the schema's structural part refuses too.
TEST(Crd, RefusedByValidateAndBySchema) {
  const Case cases[] = {
      {"no spec", object("")},
      {"no images", object("spec:\n  argocd:\n    app: {name: web}\n")},
      {"empty images", object("spec:\n  images: []\n  argocd:\n    app: {name: web}\n")},
      {"images not a list", object("spec:\n  images: web\n  argocd:\n    app: {name: web}\n")},
      {"unknown kind", object("spec:\n  kind: helm\n" + k_argo.substr(6))},
      {"unknown engine", object("spec:\n  engine: jenkins\n" + k_argo.substr(6))},
      {"bad write", object(k_argo + "    write: push\n")},
      {"bad app name", object("spec:\n  images: [web]\n  argocd:\n    app: {name: Web_App}\n")},
      {"no app name", object("spec:\n  images: [web]\n  argocd:\n    app: {namespace: argocd}\n")},
      {"bad app namespace",
       object("spec:\n  images: [web]\n  argocd:\n    app: {name: web, namespace: Argo.CD}\n")},
      {"KubeSphere: unknown strategy",
       object("spec:\n  images: [web]\n  argo:\n    app: {name: web}\n"
              "    updateStrategy: {web: newest}\n")},
      {"KubeSphere: secret without namespace",
       object("spec:\n  images: [web]\n  argo:\n    app: {name: web}\n"
              "    secrets: {web: regcred}\n")},
      {"KubeSphere: bad write",
       object("spec:\n  images: [web]\n  argo:\n    app: {name: web}\n    write: commit\n")},
      {"interval without unit", object("spec:\n  images: [web]\n  fluxcd:\n    interval: \"5\"\n"
                                       "    policy: {alphabetical: {}}\n")},
      {"zero interval", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 0s\n"
                               "    policy: {alphabetical: {}}\n")},
      {"negative interval", object("spec:\n  images: [web]\n  fluxcd:\n    interval: -5m\n"
                                   "    policy: {alphabetical: {}}\n")},
      {"bad flux secret", object(k_flux + "    secret: Reg_Cred\n")},
      {"two policies", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 5m\n"
                              "    policy: {semver: {range: 1.x}, numerical: {}}\n")},
      {"semver without range", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 5m\n"
                                      "    policy: {semver: {}}\n")},
      {"bad order", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 5m\n"
                           "    policy: {alphabetical: {order: up}}\n")},
      {"sourceRef kind", object(k_flux + "    sourceRef: {kind: Bucket, name: b}\n")},
      {"update strategy", object(k_flux + "    update: {strategy: Images}\n")},
      {"signing key type",
       object(k_flux + "    git:\n      commit:\n        author: {email: a@example.com}\n"
                       "        signingKey: {secretRef: {name: k}, type: pgp}\n")},
      {"signing key without secret",
       object(k_flux + "    git:\n      commit:\n        author: {email: a@example.com}\n"
                       "        signingKey: {type: gpg}\n")},
  };
  for (const Case& c : cases) {
    EXPECT_NE(validate_errors(c.yaml), std::vector<std::string>{}) << c.name;
    EXPECT_NE(schema_errors(c.yaml), std::vector<std::string>{}) << c.name << "\n" << c.yaml;
  }
}

// What validate() refuses across fields: the schema says it with a CEL rule (whose message is
// matched here; the API server runs it).
TEST(Crd, RefusedByValidateAndByACelRule) {
  const std::string text = common::api::crd_json();
  const std::pair<Case, const char*> cases[] = {
      {{"both dialects", object(k_argo + "  argo:\n    app: {name: web}\n")},
       "both spec.argocd (the proposal's spelling) and spec.argo"},
      {{"kind and engine disagree",
        object("spec:\n  kind: argocd\n  engine: fluxcd\n" + k_argo.substr(6))},
       "spec.engine contradicts spec.kind"},
      {{"argocd without its settings", object("spec:\n  images: [web]\n")},
       "kind argocd needs spec.argocd.app.name"},
      {{"fluxcd without a policy",
        object("spec:\n  kind: fluxcd\n  images: [web]\n  fluxcd: {interval: 5m}\n")},
       "kind fluxcd needs spec.fluxcd.interval and spec.fluxcd.policy"},
      {{"sourceRef without name or url", object(k_flux + "    sourceRef: {kind: GitRepository}\n")},
       "sourceRef needs a name or a url"},
      {{"push without an author", object(k_flux + "    git:\n      push: {branch: main}\n")},
       "commit.author.email is required"},
      {{"extract without pattern", object(k_flux + "    filterTags: {extract: $v}\n")},
       "filterTags.extract needs filterTags.pattern"},
  };
  for (const auto& [c, message] : cases) {
    EXPECT_NE(validate_errors(c.yaml), std::vector<std::string>{}) << c.name;
    EXPECT_NE(text.find(message), std::string::npos) << c.name;
  }
}

// What validate() refuses and no schema can say: the service refuses these (422 from the REST
// API, Ready=False in the cluster). Listed so that the README's account stays true.
TEST(Crd, RefusedOnlyByValidate) {
  const Case cases[] = {
      {"allow-tags regexp that does not compile",
       object(k_argo + "    allow-tags: {web: 'regexp:['}\n")},
      {"semver constraint that does not parse",
       object("spec:\n  images: ['web=ghcr.io/acme/web:^^1']\n  argocd:\n    app: {name: web}\n")},
      {"duplicate aliases", object("spec:\n  images: [web=a, web=b]\n  argocd:\n"
                                   "    app: {name: web}\n")},
      {"secret of another namespace",
       object(k_argo + "    secret: {web: 'pullsecret:other/regcred'}\n")},
      {"bad Flux semver range", object("spec:\n  images: [web]\n  fluxcd:\n    interval: 5m\n"
                                       "    policy: {semver: {range: '>>1'}}\n")},
  };
  for (const Case& c : cases) {
    EXPECT_NE(validate_errors(c.yaml), std::vector<std::string>{}) << c.name;
    EXPECT_EQ(schema_errors(c.yaml), std::vector<std::string>{}) << c.name;
  }
}

} // namespace
