// Every validation problem with its exact line:column, field and message (a prefix of it where
// the rest comes from another module's error text).
#include <gtest/gtest.h>

#include "common/spec/loader.hpp"

#include "spec_test_util.hpp"

namespace {

using namespace common::spec;
using spec_test::brief;
using spec_test::joined;

struct Case {
  const char* name;
  std::string body;              // spec's content, from line 6
  std::vector<std::string> want; // prefixes of brief() lines, in order
  std::string head = spec_test::k_head;
};

void check(const Case& c) {
  auto r = parse_stream(c.head + c.body, "v.yaml");
  auto got = brief(r.diagnostics);
  ASSERT_EQ(got.size(), c.want.size()) << c.name << "\n" << joined(r.diagnostics);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].starts_with(c.want[i]))
        << c.name << "\n got: " << got[i] << "\nwant: " << c.want[i];
  }
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(d.file, "v.yaml");
    EXPECT_EQ(d.document, 0);
  }
}

const std::string k_app = "  argocd:\n    app: {name: web}\n"; // lines 7-8 after images

TEST(Validate, ArgoErrors) {
  const Case cases[] = {
      {"unknown strategy",
       "  images: [nginx]\n" + k_app + "    update-strategy:\n      nginx: semverr\n",
       {"10:14: error: spec.argocd.update-strategy.nginx: unknown update strategy \"semverr\" "
        "(valid: semver, newest-build, latest, alphabetical, name, digest)"}},
      {"numerical is Flux only",
       "  images: [nginx]\n" + k_app + "    update-strategy: {nginx: numerical}\n",
       {"9:30: error: spec.argocd.update-strategy.nginx: unknown update strategy \"numerical\""}},
      {"invalid constraint",
       "  images:\n    - nginx:^0.1\n    - \"app=ghcr.io/acme/app:>=1.0 <<2\"\n" + k_app,
       {"8:7: error: spec.images[1]: invalid semver constraint \">=1.0 <<2\" in image "
        "\"app=ghcr.io/acme/app:>=1.0 <<2\": "}},
      {"semver 'latest' is not a constraint",
       "  images: [\"app:latest\"]\n" + k_app,
       {"6:12: error: spec.images[0]: invalid semver constraint \"latest\""}},
      {"digest tracks a tag, not parsed as semver",
       "  images: [\"app:stable\", \"b=app2:v1.2-rc\"]\n" + k_app +
           "    update-strategy: {app: digest, b: digest}\n",
       {}},
      {"digest without a tag",
       "  images: [app]\n" + k_app + "    update-strategy: {app: digest}\n",
       {"6:12: error: spec.images[0]: image \"app\" uses the digest strategy but names no tag to "
        "track (write \"app:<tag>\")"}},
      {"digest with a constraint",
       "  images: [\"app:^1.2\"]\n" + k_app + "    update-strategy: {app: digest}\n",
       {"6:12: error: spec.images[0]: invalid tag \"^1.2\" to track in image \"app:^1.2\""}},
      {"alphabetical ignores the constraint (the default strategy too)",
       "  images: [\"app:^1.2\", \"b=x:1.x\"]\n" + k_app +
           "    update-strategy: {app: alphabetical, b: name}\n",
       {"6:12: warning: spec.images[0]: the constraint \"^1.2\" of image \"app:^1.2\" is ignored "
        "by the alphabetical strategy",
        "6:24: warning: spec.images[1]: the constraint \"1.x\" of image \"b=x:1.x\" is ignored by "
        "the alphabetical strategy"}},
      {"newest-build default for all images",
       "  images: [\"app:^1.2\"]\n" + k_app + "    update-strategy: newest-build\n",
       {"6:12: warning: spec.images[0]: the constraint \"^1.2\" of image \"app:^1.2\" is ignored "
        "by the newest-build strategy"}},
      {"invalid allow-tags regexp",
       "  images: [nginx]\n" + k_app + "    allow-tags:\n      nginx: \"regexp:^v(1\"\n",
       {"10:14: error: spec.argocd.allow-tags.nginx: invalid allow-tags \"regexp:^v(1\": "}},
      {"allow-tags without the regexp: prefix",
       "  images: [nginx]\n" + k_app + "    allow-tags: {nginx: \"^v1\"}\n",
       {"9:25: error: spec.argocd.allow-tags.nginx: invalid allow-tags \"^v1\" (valid: \"any\" or "
        "\"regexp:<expression>\")"}},
      {"invalid glob in a list",
       "  images: [nginx]\n" + k_app + "    ignore-tags:\n      nginx: [\"*-dev\", \"[a-\"]\n",
       {"10:24: error: spec.argocd.ignore-tags.nginx[1]: invalid ignore-tags glob \"[a-\": "}},
      {"invalid glob in a string",
       "  images: [nginx]\n" + k_app + "    ignore-tags:\n      nginx: \"*-dev, [\"\n",
       {"10:14: error: spec.argocd.ignore-tags.nginx: invalid ignore-tags glob \"[\": "}},
      {"bad platform",
       "  images: [nginx]\n" + k_app + "    platforms:\n      nginx: linux/amd64,linux\n",
       {"10:14: error: spec.argocd.platforms.nginx: invalid platform \"linux"}},
      {"bad platform in a list",
       "  images: [nginx]\n" + k_app + "    platforms: {nginx: [linux/amd64, Linux/ARM64]}\n",
       {"9:38: error: spec.argocd.platforms.nginx[1]: invalid platform \"Linux/ARM64\""}},
      {"duplicate alias",
       "  images:\n    - nginx:^1\n    - nginx:^2\n" + k_app,
       {"8:7: error: spec.images[1]: duplicate alias \"nginx\" in \"nginx:^2\" (first at "
        "spec.images[0], line 7)"}},
      {"missing app",
       "  images: [nginx]\n  argocd:\n    write: git\n",
       {"8:5: error: missing spec.argocd.app.name (the Application to update)"}},
      {"empty app",
       "  images: [nginx]\n  argocd:\n    app: {}\n",
       {"8:10: error: missing spec.argocd.app.name (the Application to update)"}},
      {"empty app name",
       "  images: [nginx]\n  argocd:\n    app:\n      name:\n",
       {"9:7: error: missing spec.argocd.app.name (the Application to update)"}},
      {"app name not a DNS name",
       "  images: [nginx]\n  argocd:\n    app: {name: My_App}\n",
       {"8:17: error: invalid spec.argocd.app.name \"My_App\": must be a lowercase RFC 1123 "
        "subdomain"}},
      {"missing argocd block",
       "  images: [nginx]\n",
       {"6:3: error: missing spec.argocd (kind argocd needs spec.argocd.app.name)"}},
      {"missing images", k_app.substr(0), {"6:3: error: missing spec.images"}},
      {"empty images",
       "  images: []\n" + k_app,
       {"6:11: error: spec.images is empty: there is nothing to update"}},
      {"unparseable image",
       "  images:\n    - Nginx:^1\n    - \"\"\n    -\n    - {a: b}\n" + k_app,
       {"7:7: error: spec.images[0]: invalid image \"Nginx:^1\"",
        "8:7: error: spec.images[1]: invalid image \"\"",
        "10:5: error: spec.images[2]: empty entry in spec.images",
        "10:7: error: spec.images[3] must be a string, not a mapping"}},
      {"images as a string",
       "  images: nginx\n" + k_app,
       {"6:11: error: spec.images must be a list of \"[alias=]image[:constraint]\" strings"}},
      {"unknown kind",
       "  kind: flux\n  images: [nginx]\n" + k_app,
       {"6:9: error: unknown spec.kind \"flux\" (valid: argocd, fluxcd)"}},
      {"unknown write method",
       "  images: [nginx]\n" + k_app + "    write: github\n",
       {"9:12: error: spec.argocd.write: unknown write method \"github\" (valid: built-in, argocd, "
        "git, git:<credentials>)"}},
      {"setting for an alias not in images (a warning)",
       "  images: [nginx]\n" + k_app + "    ignore-tags:\n      tomcat: \"*-dev\"\n",
       {"10:15: warning: spec.argocd.ignore-tags.tomcat: no image with alias \"tomcat\" in "
        "spec.images; this setting is unused"}},
      {"a map where a string belongs",
       "  images: [nginx]\n" + k_app + "    update-strategy: {nginx: {x: 1}}\n",
       {"9:30: error: spec.argocd.update-strategy.nginx must be a string, not a mapping"}},
      {"bad secrets",
       "  images: [a, b, c]\n" + k_app +
           "    secret: {a: \"pullsecret:nons\", b: \"x/y/z\", c: \"env:\"}\n",
       {"9:17: error: spec.argocd.secret.a: invalid secret \"pullsecret:nons\": want ",
        "9:39: error: spec.argocd.secret.b: invalid secret \"x/y/z\"",
        "9:51: error: spec.argocd.secret.c: secret \"env:\": env: reads the service's "
        "environment"}},
      {"good secrets",
       "  images: [a, b, e]\n" + k_app +
           "    secret: {a: \"pullsecret:ns/n\", b: \"secret:ns/n#creds\", "
           "e: \"ghcr.io=pullsecret:ns/n\"}\n",
       {}},
      {"sources that read the host are operator configuration",
       "  images: [c, d, e]\n" + k_app +
           "    secret: {c: \"env:CREDS\", d: \"ext:/bin/creds\", e: \"ghcr.io=env:X\"}\n",
       {"9:17: error: spec.argocd.secret.c: secret \"env:CREDS\": env: reads the service's "
        "environment; such credential sources are operator configuration",
        "9:33: error: spec.argocd.secret.d: secret \"ext:/bin/creds\": ext: runs a program",
        "9:54: error: spec.argocd.secret.e: secret \"ghcr.io=env:X\": env:"}},
      {"fluxcd block with kind argocd",
       "  images: [nginx]\n" + k_app + "  fluxcd: {interval: 1m}\n",
       {"9:11: warning: spec.fluxcd is ignored for kind argocd"}},
  };
  for (const auto& c : cases) {
    check(c);
  }
}

TEST(Validate, KubeSphereDialect) {
  const std::string app = "  argo:\n    app: {name: web}\n";
  const Case cases[] = {
      {"unknown strategy",
       "  images: [nginx]\n" + app + "    updateStrategy: {nginx: semverr}\n",
       {"9:29: error: spec.argo.updateStrategy.nginx: unknown update strategy \"semverr\""}},
      {"bad regexp",
       "  images: [nginx]\n" + app + "    allowTags: {nginx: \"^v(\"}\n",
       {"9:24: error: spec.argo.allowTags.nginx: invalid allow-tags \"regexp:^v(\": "}},
      {"prefixed regexp",
       "  images: [nginx]\n" + app + "    allowTags: {nginx: \"regexp:^v\"}\n",
       {"9:24: warning: spec.argo.allowTags.nginx: allowTags values are regular expressions "
        "without a \"regexp:\" prefix"}},
      {"no default values in this dialect",
       "  images: [nginx]\n" + app + "    platforms: linux/amd64\n",
       {"9:16: error: spec.argo.platforms must be a mapping, not a string"}},
      {"lists are not accepted",
       "  images: [nginx]\n" + app + "    ignoreTags: {nginx: [a]}\n",
       {"9:25: error: spec.argo.ignoreTags.nginx must be a string, not a list"}},
      {"secrets are ns/name",
       "  images: [nginx]\n" + app + "    secrets: {nginx: regcred}\n",
       {"9:22: error: spec.argo.secrets.nginx: invalid secret \"regcred\": want "
        "\"<namespace>/<name>\""}},
      {"app has no namespace",
       "  images: [nginx]\n  argo:\n    app: {name: web, namespace: x}\n",
       {"8:22: warning: unknown field \"spec.argo.app.namespace\""}},
      {"missing app",
       "  images: [nginx]\n  argo: {write: git}\n",
       {"7:9: error: missing spec.argo.app.name (the Application to update)"}},
      {"unused alias",
       "  images: [nginx]\n" + app + "    secrets: {redis: ns/x}\n",
       {"9:22: warning: spec.argo.secrets.redis: no image with alias \"redis\""}},
  };
  for (const auto& c : cases) {
    check(c);
  }
}

TEST(Validate, Metadata) {
  const std::string body = "  images: [nginx]\n" + k_app;
  auto head = [](const std::string& metadata) {
    return "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n" + metadata + "spec:\n";
  };
  // body starts at line 4 + (metadata lines - 1)
  const Case cases[] = {
      {"missing name",
       "  images: [nginx]\n" + k_app,
       {"3:11: error: missing metadata.name"},
       head("metadata: {namespace: ns}\n")},
      {"no metadata",
       "  images: [nginx]\n" + k_app,
       {"1:1: error: missing metadata.name"},
       "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nspec:\n"},
      {"bad name",
       body,
       {"3:18: error: invalid metadata.name \"Demo\": must be a lowercase RFC 1123 subdomain"},
       head("metadata: {name: Demo}\n")},
      {"name too long",
       body,
       {"3:18: error: invalid metadata.name \"" + std::string(254, 'a') + "\""},
       head("metadata: {name: " + std::string(254, 'a') + "}\n")},
      {"dotted name is fine, dotted namespace is not",
       body,
       {"3:37: error: invalid metadata.namespace \"a.b\": must be a lowercase RFC 1123 label"},
       head("metadata: {name: web.v1, namespace: a.b}\n")},
      {"labels and annotations",
       body,
       {"3:29: error: metadata.labels must be a mapping"},
       head("metadata: {name: a, labels: [x], annotations: {a: b}}\n")},
      {"server fields are not unknown",
       body,
       {},
       head("metadata: {name: a, uid: x, resourceVersion: \"1\", managedFields: []}\n")},
      {"missing spec",
       "",
       {"1:1: error: missing spec"},
       "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: a}\n"},
  };
  for (const auto& c : cases) {
    check(c);
  }
}

TEST(Validate, Flux) {
  const std::string policy = "    policy: {semver: {range: \">=1.0\"}}\n";
  const Case cases[] = {
      {"missing block",
       "  kind: fluxcd\n  images: [nginx]\n",
       {"6:3: error: missing spec.fluxcd (kind fluxcd needs spec.fluxcd.interval and "
        "spec.fluxcd.policy)"}},
      {"bad interval",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1x\n" + policy,
       {"9:15: error: spec.fluxcd.interval: invalid interval: invalid duration \"1x\": unknown "
        "unit \"x\""}},
      {"negative interval",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: -5m\n" + policy,
       {"9:15: error: spec.fluxcd.interval: invalid interval \"-5m\": must be positive"}},
      {"missing interval and policy",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    secret: s\n",
       {"9:5: error: missing spec.fluxcd.interval (a Go duration such as 5m)",
        "9:5: error: missing spec.fluxcd.policy (one of semver, alphabetical, numerical)"}},
      {"two policies",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n"
       "    policy:\n      semver: {range: 1.x}\n      numerical: {order: asc}\n",
       {"12:7: error: spec.fluxcd.policy has both \"semver\" and \"numerical\"; give exactly one "
        "of "
        "semver, alphabetical, numerical"}},
      {"empty policy",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n    policy: {}\n",
       {"10:13: error: missing spec.fluxcd.policy (one of semver, alphabetical, numerical)"}},
      {"bad order",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n"
       "    policy: {alphabetical: {order: up}}\n",
       {"10:36: error: spec.fluxcd.policy.alphabetical.order: unknown order \"up\" (valid: asc, "
        "desc)"}},
      {"bad range",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n"
       "    policy: {semver: {range: \"5.0.x.y\"}}\n",
       {"10:30: error: spec.fluxcd.policy.semver.range: invalid semver range \"5.0.x.y\": "}},
      {"missing range",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n"
       "    policy: {semver: {}}\n",
       {"10:22: error: missing spec.fluxcd.policy.semver.range (a semver range such as 5.0.x)"}},
      {"bad filter pattern",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n" + policy +
           "    filterTags: {pattern: \"^(v\"}\n",
       {"11:27: error: spec.fluxcd.filterTags.pattern: invalid filterTags"}},
      {"bad filter extract",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n" + policy +
           "    filterTags: {pattern: \"^(?P<ts>[0-9]+)$\", extract: $tz}\n",
       {"11:56: error: spec.fluxcd.filterTags.extract: invalid filterTags.extract \"$tz\""}},
      {"extract without pattern",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n" + policy +
           "    filterTags: {extract: $ts}\n",
       {"11:27: error: spec.fluxcd.filterTags.extract: filterTags.extract needs "
        "filterTags.pattern"}},
      {"source and git",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n" + policy +
           "    sourceRef: {kind: Bucket}\n"
           "    git:\n      commit:\n        messageTemplate: '{{ .Updated.Images }}'\n"
           "        signingKey: {type: pgp}\n"
           "    update: {strategy: Regex}\n",
       {"11:16: error: spec.fluxcd.sourceRef needs a name or a url",
        "11:23: error: spec.fluxcd.sourceRef.kind: unsupported sourceRef kind \"Bucket\" (valid: "
        "GitRepository)",
        "14:9: error: missing spec.fluxcd.git.commit.author.email (the commit author)",
        "14:26: warning: spec.fluxcd.git.commit.messageTemplate: messageTemplate uses .Updated",
        "15:21: error: missing spec.fluxcd.git.commit.signingKey.secretRef.name",
        "15:28: error: spec.fluxcd.git.commit.signingKey.type: unknown signingKey type \"pgp\" "
        "(valid: gpg, ssh)",
        "16:24: error: spec.fluxcd.update.strategy: unknown update strategy \"Regex\" (valid: "
        "Setters, SettersAndImages)"}},
      {"image constraints are ignored",
       "  kind: fluxcd\n  images: [\"nginx:^1\"]\n  fluxcd:\n    interval: 1m\n" + policy,
       {"7:12: warning: spec.images[0]: the constraint \"^1\" of image \"nginx:^1\" is ignored for "
        "kind fluxcd"}},
      {"argocd block with kind fluxcd",
       "  kind: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 1m\n" + policy + k_app,
       {"12:5: warning: spec.argocd is ignored for kind fluxcd"}},
      {"good",
       "  engine: fluxcd\n  images: [nginx]\n  fluxcd:\n    interval: 500ms\n"
       "    policy: {numerical: {order: DESC}}\n    sourceRef: {url: https://example.com/r.git}\n",
       {}},
  };
  for (const auto& c : cases) {
    check(c);
  }
}

TEST(Validate, ModelBuiltInCode) {
  ImageUpdater u;
  u.metadata.name = "x";
  auto d = validate(u);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message, "missing spec");
  u.source.fields["spec"] = {};
  u.argocd = ArgoSettings{};
  u.argocd->app.name = "web";
  d = validate(u);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message, "missing spec.images");
}

} // namespace

namespace {

TEST(Validate, SecretsOfAnotherNamespaceAreErrors) {
  // The ImageUpdater's namespace is known (metadata.namespace, or what the API's path says):
  // its secrets must be there.
  const std::string doc = "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                          "metadata: {name: demo, namespace: team-a}\nspec:\n  images: [a, b, c, "
                          "d, e]\n  argocd:\n    app: {name: web}\n    secret: {a: regcred, b: "
                          "\"team-a/regcred\", c: \"pullsecret:team-b/regcred\", d: "
                          "\"secret:kube-system/x#y\", e: \"team-b/regcred\"}\n";
  auto loaded = common::spec::parse_stream(doc, "s.yaml");
  std::vector<std::string> errors;
  for (const auto& d : loaded.diagnostics) {
    errors.push_back(d.field + ": " + d.message);
  }
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("spec.argocd.secret.c: secret \"pullsecret:team-b/regcred\" is in "
                           "namespace \"team-b\"; an ImageUpdater may use only secrets of its "
                           "own namespace (\"team-a\")"),
            std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("kube-system"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("spec.argocd.secret.e"), std::string::npos) << errors[2];
  EXPECT_EQ(loaded.updaters.at(0).argocd->secrets.at("a"), "pullsecret:team-a/regcred");
  // KubeSphere's dialect too.
  const std::string ks = "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                         "metadata: {name: demo, namespace: team-a}\nspec:\n  images: [a]\n"
                         "  argo:\n    app: {name: web}\n    secrets: {a: \"team-b/regcred\"}\n";
  auto ks_loaded = common::spec::parse_stream(ks, "s.yaml");
  ASSERT_TRUE(common::spec::has_errors(ks_loaded.diagnostics));
}

} // namespace
