// Reading streams: both dialects into one model, multi-document streams, YAML errors, bounds.
#include <gtest/gtest.h>

#include "common/spec/loader.hpp"

#include "spec_test_util.hpp"

namespace {

using namespace common::spec;
using common::policy::Strategy;
using spec_test::brief;
using spec_test::joined;
using spec_test::testdata;

TEST(Loader, ProposalSample) {
  auto r = parse_stream(testdata("proposal.yaml"), "proposal.yaml");
  ASSERT_EQ(r.updaters.size(), 1u);
  EXPECT_FALSE(has_errors(r.diagnostics)) << joined(r.diagnostics);
  // The sample's own oddities are warnings: a setting for an alias it does not list, the
  // deprecated strategy name, the fluxcd block next to kind argocd (and its .Updated template).
  EXPECT_EQ(brief(r.diagnostics),
            (std::vector<std::string>{
                "19:16: warning: spec.argocd.update-strategy.myalias: update strategy \"latest\" "
                "is deprecated; use \"newest-build\"",
                "23:15: warning: spec.argocd.ignore-tags.tomcat: no image with alias \"tomcat\" "
                "in spec.images; this setting is unused",
                "29:5: warning: spec.fluxcd is ignored for kind argocd",
            }));
  const ImageUpdater& u = r.updaters[0];
  EXPECT_EQ(u.metadata.name, "demo");
  EXPECT_EQ(u.metadata.namespace_, "");
  EXPECT_EQ(u.kind, Engine::argocd);
  EXPECT_EQ(u.dialect, Dialect::proposal);
  ASSERT_EQ(u.images.size(), 2u);
  EXPECT_EQ(u.images[0].spec.alias, "nginx");
  EXPECT_EQ(u.images[0].spec.constraint, "^0.1");
  EXPECT_EQ(u.images[0].field, "spec.images[0]");
  EXPECT_EQ(u.images[0].at, (Location{9, 7}));
  EXPECT_EQ(u.images[1].spec.alias, "myalias");
  EXPECT_EQ(u.images[1].spec.ref.name(), "docker.io/some/image");
  ASSERT_TRUE(u.argocd);
  const ArgoSettings& a = *u.argocd;
  EXPECT_EQ(a.app.name, "demo");
  EXPECT_EQ(a.app.namespace_, "demo");
  EXPECT_EQ(a.write, WriteMethod::argocd);
  EXPECT_EQ(a.update_strategy, (std::map<std::string, Strategy>{{"myalias", Strategy::newest_build},
                                                                {"nginx", Strategy::semver}}));
  EXPECT_EQ(a.allow_tags.at("nginx"), "any");
  EXPECT_EQ(a.ignore_tags.at("tomcat"), std::vector<std::string>{"*-dev"});
  EXPECT_EQ(a.platforms.at("nginx"),
            (std::vector<common::image::Platform>{{"linux", "amd64", ""}}));
  // A bare Secret name lives in the updater's namespace, "default" when it has none.
  EXPECT_EQ(a.secrets.at("nginx"), "pullsecret:default/docker-hub-secret");
  // The fluxcd block is read (and ignored for kind argocd).
  ASSERT_TRUE(u.fluxcd);
  EXPECT_EQ(u.fluxcd->interval.value, std::chrono::minutes(1));
  EXPECT_EQ(u.source.find("spec.argocd.platforms.nginx"), (Location{25, 14}));
}

TEST(Loader, KubeSphereAndProposalSpellingsGiveTheSameSettings) {
  auto ks = parse_stream(testdata("kubesphere.yaml"), "kubesphere.yaml");
  auto proposal = parse_stream(testdata("kubesphere_as_proposal.yaml"), "p.yaml");
  ASSERT_EQ(ks.updaters.size(), 1u);
  ASSERT_EQ(proposal.updaters.size(), 1u);
  EXPECT_EQ(ks.diagnostics.size(), 0u) << joined(ks.diagnostics);
  EXPECT_EQ(proposal.diagnostics.size(), 0u) << joined(proposal.diagnostics);
  const ImageUpdater& k = ks.updaters[0];
  const ImageUpdater& p = proposal.updaters[0];
  EXPECT_EQ(k.dialect, Dialect::kubesphere);
  EXPECT_EQ(p.dialect, Dialect::proposal);
  EXPECT_EQ(k.metadata, p.metadata);
  EXPECT_EQ(k.kind, p.kind);
  ASSERT_TRUE(k.argocd && p.argocd);
  EXPECT_EQ(*k.argocd, *p.argocd);
  const ArgoSettings& a = *k.argocd;
  EXPECT_EQ(a.write, WriteMethod::git);
  EXPECT_EQ(a.allow_tags.at("nginx"), "regexp:^0\\.1\\.[0-9]+$");
  EXPECT_EQ(a.ignore_tags.at("myalias"), (std::vector<std::string>{"*-dev", "*-rc"}));
  EXPECT_EQ(a.platforms.at("myalias").size(), 2u);
  EXPECT_EQ(a.secrets.at("nginx"), "pullsecret:demo/docker-hub-secret");
  ASSERT_EQ(k.images.size(), p.images.size());
  for (std::size_t i = 0; i < k.images.size(); ++i) {
    EXPECT_EQ(k.images[i].text, p.images[i].text);
  }
  // Field paths are the names as written.
  EXPECT_EQ(k.source.find("spec.argo.allowTags.nginx"), (Location{20, 14}));
}

TEST(Loader, FluxSample) {
  auto r = parse_stream(testdata("fluxcd.yaml"), "fluxcd.yaml");
  ASSERT_EQ(r.updaters.size(), 1u);
  EXPECT_EQ(r.diagnostics.size(), 0u) << joined(r.diagnostics);
  const ImageUpdater& u = r.updaters[0];
  EXPECT_EQ(u.kind, Engine::fluxcd);
  EXPECT_FALSE(u.argocd);
  ASSERT_TRUE(u.fluxcd);
  const FluxSettings& f = *u.fluxcd;
  EXPECT_EQ(f.interval.written, "1h30m");
  EXPECT_EQ(f.interval.value, std::chrono::minutes(90));
  EXPECT_EQ(f.secret, "ghcr-secret");
  ASSERT_TRUE(f.policy);
  EXPECT_EQ(std::get<SemverPolicy>(*f.policy).range, "5.0.x");
  ASSERT_TRUE(f.filter_tags);
  EXPECT_EQ(f.filter_tags->extract, "$version");
  ASSERT_TRUE(f.source_ref);
  EXPECT_EQ(*f.source_ref, (SourceRef{"GitRepository", "flux-system", "flux-system", ""}));
  ASSERT_TRUE(f.git);
  ASSERT_TRUE(f.git->checkout);
  EXPECT_EQ(f.git->checkout->branch, "main");
  EXPECT_EQ(f.git->commit.author, (GitAuthor{"fluxcdbot", "fluxcdbot@users.noreply.github.com"}));
  EXPECT_TRUE(f.git->commit.message_template.starts_with("Automated image update\n\n{{ range"));
  ASSERT_TRUE(f.git->commit.signing_key);
  EXPECT_EQ(*f.git->commit.signing_key, (SigningKey{"signing-key", "ssh"}));
  EXPECT_EQ(f.git->push, (GitPush{"image-updates", "refs/heads/image-updates:refs/heads/main"}));
  EXPECT_EQ(f.update, (UpdateSettings{"./clusters/production", "Setters"}));
}

TEST(Loader, MultiDocumentStreamSkipsOtherKinds) {
  auto r = parse_stream(testdata("multi.yaml"), "multi.yaml");
  EXPECT_EQ(r.diagnostics.size(), 0u) << joined(r.diagnostics);
  ASSERT_EQ(r.updaters.size(), 2u);
  EXPECT_EQ(r.updaters[0].metadata.name, "first");
  EXPECT_EQ(r.updaters[0].source.document, 4);
  EXPECT_EQ(r.updaters[0].source.at, (Location{17, 1}));
  EXPECT_EQ(r.updaters[1].metadata.name, "second");
  EXPECT_EQ(r.updaters[1].source.document, 6);
  EXPECT_EQ(r.updaters[1].dialect, Dialect::kubesphere);
  EXPECT_EQ(r.updaters[1].source.file, "multi.yaml");
}

TEST(Loader, EngineDefaultsAndJson) {
  struct Case {
    std::string spec;
    Engine want;
  };
  const Case cases[] = {
      {"{\"images\": [\"a\"], \"argo\": {\"app\": {\"name\": \"x\"}}}", Engine::argocd},
      {"{\"images\": [\"a\"], \"fluxcd\": {\"interval\": \"1m\", \"policy\": "
       "{\"numerical\": {}}}}",
       Engine::fluxcd},
      {"{\"engine\": \"argocd\", \"images\": [\"a\"], \"argocd\": {\"app\": {\"name\": "
       "\"x\"}}}",
       Engine::argocd},
  };
  for (const auto& c : cases) {
    // JSON is YAML: `kubectl get -o json` output reads the same way.
    auto r = parse_stream("{\"apiVersion\": \"gitops.kubesphere.io/v1alpha1\", \"kind\": "
                          "\"ImageUpdater\",\n \"metadata\": {\"name\": \"j\"},\n \"spec\": " +
                              c.spec + "}\n",
                          "j.json");
    ASSERT_EQ(r.updaters.size(), 1u);
    EXPECT_TRUE(r.diagnostics.empty()) << joined(r.diagnostics);
    EXPECT_EQ(r.updaters[0].kind, c.want) << c.spec;
    int column = 10 + static_cast<int>(c.spec.find("\"a\"")); // line 3 is ` "spec": ` + spec
    EXPECT_EQ(r.updaters[0].images.at(0).at, (Location{3, column})) << c.spec;
  }
}

TEST(Loader, EmptyStreams) {
  for (const char* text : {"", "\n", "# nothing\n", "---\n", "---\n...\n---\n", "~\n", "[]\n"}) {
    auto r = parse_stream(text, "e.yaml");
    EXPECT_TRUE(r.updaters.empty()) << text;
    EXPECT_TRUE(r.diagnostics.empty()) << text << joined(r.diagnostics);
  }
}

TEST(Loader, OtherVersionsAndGroups) {
  struct Case {
    std::string head;
    std::vector<std::string> want;
    std::size_t updaters;
  };
  const std::string body = "metadata: {name: x}\nspec: {images: [a], argocd: {app: {name: x}}}\n";
  const Case cases[] = {
      {"apiVersion: gitops.kubesphere.io/v1beta1\nkind: ImageUpdater\n",
       {"1:13: error: unsupported apiVersion \"gitops.kubesphere.io/v1beta1\" (this build reads "
        "\"gitops.kubesphere.io/v1alpha1\")"},
       0},
      {"apiVersion: argocd-image-updater.argoproj.io/v1alpha1\nkind: ImageUpdater\n",
       {"1:13: warning: ImageUpdater of apiVersion \"argocd-image-updater.argoproj.io/v1alpha1\" "
        "is not a gitops.kubesphere.io ImageUpdater; document skipped"},
       0},
      {"apiVersion: gitops.kubesphere.io/v1alpha1\nkind: imageupdater\n",
       {"2:7: warning: kind \"imageupdater\" is not \"ImageUpdater\" (kinds are case-sensitive); "
        "document skipped"},
       0},
      {"kind: ImageUpdater\n",
       {"1:1: error: missing apiVersion: want \"gitops.kubesphere.io/v1alpha1\""},
       1},
      {"apiVersion: gitops.kubesphere.io/v1alpha1\nkind: Other\n", {}, 0},
      {"apiVersion: v1\nkind: ImageUpdater\n",
       {"1:13: warning: ImageUpdater of apiVersion \"v1\" is not a gitops.kubesphere.io "
        "ImageUpdater; document skipped"},
       0},
  };
  for (const auto& c : cases) {
    auto r = parse_stream(c.head + body, "v.yaml");
    EXPECT_EQ(brief(r.diagnostics), c.want) << c.head;
    EXPECT_EQ(r.updaters.size(), c.updaters) << c.head;
  }
}

TEST(Loader, YamlSyntaxErrorsHaveLocations) {
  struct Case {
    std::string text;
    int line;
    int column;
  };
  // Each mentions the kind or the group (unrelated documents are not parsed).
  const Case cases[] = {
      {"apiVersion: gitops.kubesphere.io/v1alpha1\nkind: [\n", 3, 1},
      {"kind: ImageUpdater\nx: {a: 1\n", 3, 1},
      {"kind: ImageUpdater\na: b: c\n", 2, 5},
      {"kind: ImageUpdater\na:\n  - x\n - y\n", 4, 2},
      {"kind: ImageUpdater\na: *undefined\n", 2, 4},
      {"kind: ImageUpdater\nkey: value\n\tbad: tab\n", 0, 0},
  };
  for (const auto& c : cases) {
    auto r = parse_stream(c.text, "bad.yaml");
    ASSERT_EQ(r.diagnostics.size(), 1u) << c.text << joined(r.diagnostics);
    const Diagnostic& d = r.diagnostics[0];
    EXPECT_EQ(d.severity, Severity::error);
    EXPECT_TRUE(d.message.starts_with("invalid YAML: ")) << d.message;
    if (c.line > 0) {
      EXPECT_EQ(d.line, c.line) << c.text << d.message;
      EXPECT_EQ(d.column, c.column) << c.text << d.message;
    }
    EXPECT_TRUE(format(d).starts_with("bad.yaml:")) << format(d);
  }
  // Unrelated documents are not parsed: their syntax is not ours to judge.
  EXPECT_TRUE(parse_stream("apiVersion: v1\nkind: [\n", "x.yaml").diagnostics.empty());
}

TEST(Loader, SyntaxErrorEndsOnlyItsDocument) {
  std::string good =
      std::string(spec_test::k_head) + "  images: [nginx]\n  argocd: {app: {name: web}}\n";
  auto r = parse_stream(good + "---\nkind: ImageUpdater\nspec: [\n---\n" + good, "s.yaml");
  EXPECT_EQ(r.updaters.size(), 2u);
  EXPECT_EQ(brief(r.diagnostics),
            std::vector<std::string>{"11:1: error: invalid YAML: end of sequence flow not found"});
  EXPECT_EQ(r.diagnostics.at(0).document, 1);
  EXPECT_EQ(r.updaters.at(1).source.document, 2);
  EXPECT_EQ(r.updaters.at(1).source.at, (Location{12, 1}));
}

TEST(Loader, Bounds) {
  Limits limits;
  limits.max_depth = 20;
  limits.max_nodes = 1000;
  limits.max_documents = 3;
  limits.max_bytes = 100'000;
  limits.max_document_bytes = 10'000;
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string mention = "# ImageUpdater\n"; // makes a document worth parsing
  const Case cases[] = {
      {mention + std::string(30, '[') + std::string(30, ']'),
       "2:21: error: more than 20 nested collections"},
      {mention + "a:\n" +
           [] {
             std::string s;
             for (int i = 1; i <= 25; ++i) {
               s += std::string(static_cast<std::size_t>(i) * 2, ' ') + "k:\n";
             }
             return s;
           }(),
       "more than 20 nested collections"},
      {mention + "[" +
           [] {
             std::string s;
             for (int i = 0; i < 1000; ++i) {
               s += "1,";
             }
             return s;
           }() +
           "]",
       "document has more than 1000 nodes"},
      {mention + std::string(10'000, '['),
       "1:1: error: document is 10015 bytes, more than the 10000 allowed for an ImageUpdater"},
      {"a: 1\n---\nb: 1\n---\nc: 1\n---\nd: 1\n", "6:1: error: stream has more than 3 documents"},
      {std::string(100'001, '#'),
       "0:0: error: input is 100001 bytes, more than the 100000 allowed"},
  };
  for (const auto& c : cases) {
    auto r = parse_stream(c.text, "big.yaml", limits);
    ASSERT_EQ(r.diagnostics.size(), 1u) << joined(r.diagnostics);
    EXPECT_NE(brief(r.diagnostics)[0].find(c.message), std::string::npos)
        << brief(r.diagnostics)[0];
  }
}

TEST(Loader, AliasBombIsNeverExpanded) {
  std::string laughs = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) {
      laughs += std::string(i ? ",*" : "*") + static_cast<char>(c - 1);
    }
    laughs += "]\n";
  }
  // Inside an ImageUpdater: 10^10 scalars expanded; here 10 list items of the wrong type.
  std::string bomb = "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                     "metadata: {name: demo}\nx:\n";
  std::size_t start = 0;
  while (start < laughs.size()) {
    auto end = laughs.find('\n', start);
    bomb += "  " + laughs.substr(start, end - start + 1);
    start = end + 1;
  }
  bomb += "spec:\n  images: *j\n  argocd: {app: {name: x}}\n";
  auto r = parse_stream(bomb, "bomb.yaml");
  auto got = brief(r.diagnostics);
  ASSERT_EQ(got.size(), 11u) << joined(r.diagnostics);
  EXPECT_EQ(got[0], "4:1: warning: unknown field \"x\"");
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_NE(got[i].find("must be a string, not a list"), std::string::npos) << got[i];
  }
}

TEST(Loader, UnknownFieldsAreWarningsWithSuggestions) {
  std::string text = std::string(spec_test::k_head) + // body from line 6
                     "  images: [nginx]\n"
                     "  argocd:\n"
                     "    app: {name: web, namespaces: x}\n"
                     "    updatestrategy: {nginx: semver}\n"
                     "    updateStrategy: {nginx: semver}\n"
                     "    frobnicate: 1\n"
                     "  imgaes: []\n"
                     "metdata: {}\n"
                     "status: {ignored: true}\n";
  auto r = parse_stream(text, "u.yaml");
  EXPECT_EQ(brief(r.diagnostics),
            (std::vector<std::string>{
                "8:22: warning: unknown field \"spec.argocd.app.namespaces\" (did you mean "
                "\"namespace\"?)",
                "9:5: warning: unknown field \"spec.argocd.updatestrategy\" (did you mean "
                "\"update-strategy\"?)",
                "10:5: warning: unknown field \"spec.argocd.updateStrategy\" (did you mean "
                "\"update-strategy\"?)",
                "11:5: warning: unknown field \"spec.argocd.frobnicate\"",
                "12:3: warning: unknown field \"spec.imgaes\" (did you mean \"images\"?)",
                "13:1: warning: unknown field \"metdata\" (did you mean \"metadata\"?)",
            }));
}

TEST(Loader, DuplicateKeysAndBothSpellings) {
  std::string text = std::string(spec_test::k_head) + // body from line 6
                     "  images: [nginx]\n"
                     "  argocd:\n"
                     "    app: {name: web}\n"
                     "    update-strategy:\n"
                     "      nginx: semver\n"
                     "      nginx: digest\n"
                     "  argo:\n"
                     "    app: {name: other}\n"
                     "  kind: argocd\n"
                     "  engine: fluxcd\n";
  auto r = parse_stream(text, "d.yaml");
  EXPECT_EQ(brief(r.diagnostics),
            (std::vector<std::string>{
                "11:7: error: spec.argocd.update-strategy.nginx: duplicate key \"nginx\" (first at "
                "line 10)",
                "12:3: error: both spec.argocd (the proposal's spelling) and spec.argo "
                "(KubeSphere's) are given; use one",
                "15:11: error: spec.engine \"fluxcd\" contradicts spec.kind \"argocd\"; give one "
                "of them",
            }));
}

TEST(Loader, MergeKeysAndAnchors) {
  std::string text = std::string(spec_test::k_head) +
                     "  images: [nginx:stable]\n"
                     "  argocd:\n"
                     "    <<: &defaults {app: {name: web}, update-strategy: {nginx: digest}}\n"
                     "    write: git\n";
  auto r = parse_stream(text, "m.yaml");
  EXPECT_TRUE(r.diagnostics.empty()) << joined(r.diagnostics);
  ASSERT_EQ(r.updaters.size(), 1u);
  ASSERT_TRUE(r.updaters[0].argocd);
  EXPECT_EQ(r.updaters[0].argocd->app.name, "web");
  EXPECT_EQ(r.updaters[0].argocd->write, WriteMethod::git);
  EXPECT_EQ(r.updaters[0].argocd->update_strategy.at("nginx"), Strategy::digest);
}

TEST(Loader, DocumentHasErrors) {
  std::string good =
      std::string(spec_test::k_head) + "  images: [nginx]\n  argocd: {app: {name: a}}\n";
  std::string bad =
      std::string(spec_test::k_head) + "  images: [Nginx]\n  argocd: {app: {name: a}}\n";
  auto r = parse_stream(good + "---\n" + bad, "h.yaml");
  ASSERT_EQ(r.updaters.size(), 2u);
  EXPECT_FALSE(document_has_errors(r, r.updaters[0]));
  EXPECT_TRUE(document_has_errors(r, r.updaters[1]));
}

TEST(Loader, DiagnosticsAreOrderedByLine) {
  std::string text = std::string(spec_test::k_head) + // body from line 6
                     "  images: [\"a:^q\", \"b\"]\n"
                     "  argocd:\n"
                     "    update-strategy: {b: nope}\n"
                     "    app: {}\n";
  auto r = parse_stream(text, "o.yaml");
  ASSERT_GE(r.diagnostics.size(), 3u) << joined(r.diagnostics);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    const auto& a = r.diagnostics[i - 1];
    const auto& b = r.diagnostics[i];
    EXPECT_TRUE(a.line < b.line || (a.line == b.line && a.column <= b.column))
        << joined(r.diagnostics);
  }
}

} // namespace

namespace {

TEST(Loader, ExampleFileIsClean) {
  std::ifstream in(std::string(IU_SOURCE_DIR) + "/examples/imageupdater.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto r = common::spec::parse_stream(text.str(), "examples/imageupdater.yaml");
  EXPECT_TRUE(r.diagnostics.empty()) << spec_test::joined(r.diagnostics);
  ASSERT_EQ(r.updaters.size(), 3u);
  EXPECT_EQ(r.updaters[0].dialect, common::spec::Dialect::proposal);
  EXPECT_EQ(r.updaters[1].dialect, common::spec::Dialect::kubesphere);
  EXPECT_EQ(r.updaters[2].kind, common::spec::Engine::fluxcd);
  const auto& u = r.updaters[0];
  auto cache = common::spec::image_settings(u, u.images.at(2));
  EXPECT_EQ(cache.policy.strategy, common::policy::Strategy::digest);
  EXPECT_EQ(cache.policy.constraint, "7-alpine");
  EXPECT_EQ(cache.platforms.size(), 2u);
  EXPECT_EQ(cache.credentials, "");
  auto web = common::spec::image_settings(u, u.images.at(1));
  EXPECT_EQ(web.credentials, "pullsecret:shop/ghcr-pull");
  EXPECT_EQ(web.policy.ignore_tags, (std::vector<std::string>{"*-rc*", "*-beta*"}));
}

} // namespace

TEST(Loader, Suspend) {
  struct Row {
    const char* value; // spec.suspend as written; nullptr = absent
    bool suspend;
    const char* error; // "" = none
  };
  const Row rows[] = {
      {nullptr, false, ""},
      {"true", true, ""},
      {"false", false, ""},
      {"yes", false, "7:12: error: spec.suspend must be true or false, not \"yes\""},
  };
  for (const Row& row : rows) {
    std::string text = std::string(spec_test::k_head) + "  images: [nginx]\n" +
                       (row.value ? std::string("  suspend: ") + row.value + "\n" : "") +
                       "  argocd: {app: {name: web}}\n";
    auto r = parse_stream(text, "s.yaml");
    SCOPED_TRACE(row.value ? row.value : "(absent)");
    if (*row.error) {
      EXPECT_EQ(brief(r.diagnostics), std::vector<std::string>{row.error});
      continue;
    }
    ASSERT_TRUE(r.diagnostics.empty()) << joined(r.diagnostics);
    ASSERT_EQ(r.updaters.size(), 1u);
    EXPECT_EQ(r.updaters[0].suspend, row.suspend);
  }
}
