// Table tests of rewrite(): small inline documents for the rules the golden files show at
// length (matching, quoting, precedence, aliases, errors, stream mode).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/manifest/rewrite.hpp"

#include "golden_support.hpp"

namespace common::manifest {
namespace {

const std::string k_d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

struct Case {
  std::string name;
  std::string overrides; // golden_support's format
  std::string input;
  std::string output;  // expected output ("" with `error` set)
  std::string error;   // a part of the expected error message
  std::string changes; // describe(), when non-empty
};

std::string deployment(const std::string& containers) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n"
         "spec:\n  template:\n    spec:\n      containers:\n" +
         containers;
}

void run_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto overrides = testing::parse_overrides_file(c.overrides);
    ASSERT_TRUE(overrides) << overrides.error().message;
    auto result = rewrite(c.input, "in.yaml", *overrides);
    if (!c.error.empty()) {
      ASSERT_FALSE(result) << result->output;
      EXPECT_NE(result.error().message.find(c.error), std::string::npos) << result.error().message;
      continue;
    }
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->output, c.output);
    if (!c.changes.empty()) {
      EXPECT_EQ(describe(result->changes), c.changes);
    }
  }
}

TEST(Rewrite, MatchingNormalisesRepositories) {
  run_cases({
      {"docker hub spellings are one image", "--image docker.io/library/nginx=:1.27",
       deployment("      - image: nginx:1.25\n      - image: docker.io/nginx:1.25\n"
                  "      - image: index.docker.io/library/nginx\n"
                  "      - image: library/nginx@" +
                  k_d1 + "\n      - image: nginx-extra:1.25\n      - image: acme/nginx:1.25\n"),
       deployment("      - image: nginx:1.27\n      - image: docker.io/nginx:1.27\n"
                  "      - image: index.docker.io/library/nginx:1.27\n"
                  "      - image: library/nginx:1.27\n      - image: nginx-extra:1.25\n"
                  "      - image: acme/nginx:1.25\n"),
       "", ""},
      {"a registry port is part of the name", "--image 127.0.0.1:5000/tools/busybox=:1.37",
       deployment("      - image: 127.0.0.1:5000/tools/busybox:1.36\n"
                  "      - image: 127.0.0.1:5001/tools/busybox:1.36\n"
                  "      - image: tools/busybox:1.36\n"),
       deployment("      - image: 127.0.0.1:5000/tools/busybox:1.37\n"
                  "      - image: 127.0.0.1:5001/tools/busybox:1.36\n"
                  "      - image: tools/busybox:1.36\n"),
       "", ""},
      {"values that are no references are left alone", "--image nginx=:1.27",
       deployment("      - image: $(NGINX_IMAGE)\n      - image: Nginx:1.0\n      - image:\n"
                  "      - image: ''\n"),
       deployment("      - image: $(NGINX_IMAGE)\n      - image: Nginx:1.0\n      - image:\n"
                  "      - image: ''\n"),
       "", ""},
  });
}

TEST(Rewrite, QuotingAndStyles) {
  run_cases({
      {"a plain tag that reads as a number is double-quoted",
       "--image nginx=:1.10\n--helm nginx tag=image.tag",
       "image:\n  repository: nginx\n  tag: 1.9\n",
       "image:\n  repository: nginx\n  tag: \"1.10\"\n", "", ""},
      {"quote styles are kept", "--image nginx=:1.10\n--helm nginx tag=a.tag",
       "a:\n  tag: '1.9' # pinned\n", "a:\n  tag: '1.10' # pinned\n", "", ""},
      {"double quotes are kept", "--image nginx=:1.27",
       deployment("      - image: \"nginx:1.0\"\n"), deployment("      - image: \"nginx:1.27\"\n"),
       "", ""},
      {"flow style containers", "--image nginx=:1.27",
       deployment("      - {name: a, image: nginx:1.0}\n"),
       deployment("      - {name: a, image: nginx:1.27}\n"), "", ""},
      {"a block scalar becomes a double-quoted scalar, its header comment stays",
       "--image nginx=:1.27",
       deployment("      - image: |- # odd\n          nginx:1.0\n        name: a\n"),
       deployment("      - image: \"nginx:1.27\" # odd\n        name: a\n"), "", ""},
      {"a tag on the scalar stays", "--image nginx=:1.27",
       deployment("      - image: !!str nginx:1.0\n"),
       deployment("      - image: !!str nginx:1.27\n"), "", ""},
  });
}

TEST(Rewrite, SettersWinOverImages) {
  run_cases({
      {"a known setter writes its value, not the override",
       "--image nginx=:1.27\n--setter ns:p=nginx:2.0",
       deployment("      - image: nginx:1.0 # {\"$imagepolicy\": \"ns:p\"}\n"
                  "      - image: nginx:1.0 # {\"$imagepolicy\": \"ns:other\"}\n"),
       deployment("      - image: nginx:2.0 # {\"$imagepolicy\": \"ns:p\"}\n"
                  "      - image: nginx:1.27 # {\"$imagepolicy\": \"ns:other\"}\n"),
       "",
       "in.yaml:10 apps/v1 Deployment prod/web spec.template.spec.containers[0].image: "
       "\"nginx:1.0\" -> \"nginx:2.0\" (setter ns:p)\n"
       "in.yaml:11 apps/v1 Deployment prod/web spec.template.spec.containers[1].image: "
       "\"nginx:1.0\" -> \"nginx:1.27\" (image nginx)\n"},
      {"a marker on a key is not a marker of the value", "--setter ns:p=app:2",
       "a: # {\"$imagepolicy\": \"ns:p\"}\n  b: c\n", "a: # {\"$imagepolicy\": \"ns:p\"}\n  b: c\n",
       "", ""},
      {"a head comment marks a sequence item; a :tag value that reads as a number is quoted",
       "--setter ns:p=app:1.10", "tags:\n  # {\"$imagepolicy\": \"ns:p:tag\"}\n  - 1.0\n  - 1.0\n",
       "tags:\n  # {\"$imagepolicy\": \"ns:p:tag\"}\n  - \"1.10\"\n  - 1.0\n", "", ""},
      {"a :digest marker without digest writes an empty string", "--setter ns:p=app:1",
       "digest: sha256:abc # {\"$imagepolicy\": \"ns:p:digest\"}\n",
       "digest: \"\" # {\"$imagepolicy\": \"ns:p:digest\"}\n", "", ""},
  });
}

TEST(Rewrite, Aliases) {
  run_cases({
      {"an alias to an anchor elsewhere is an error naming file and line", "--image nginx=:1.27",
       "x-image: &img nginx:1.0\n---\n" + deployment("      - image: nginx:1.0\n") +
           "---\nx: &img nginx:1.0\n" + deployment("      - name: a\n        image: *img\n"),
       "",
       "in.yaml:25: spec.template.spec.containers[0].image is given by alias *img (anchor at line "
       "14)",
       ""},
      {"an alias to an image that is rewritten anyway is fine", "--image nginx=:1.27",
       deployment("      - image: &img nginx:1.0\n      - image: *img\n"),
       deployment("      - image: &img nginx:1.27\n      - image: *img\n"), "",
       "in.yaml:10 apps/v1 Deployment prod/web spec.template.spec.containers[0].image: "
       "\"nginx:1.0\" -> \"nginx:1.27\" (image nginx)\n"},
      {"an alias whose value does not change is fine", "--image nginx=:1.27",
       "x: &img nginx:1.27\n" + deployment("      - image: *img\n"),
       "x: &img nginx:1.27\n" + deployment("      - image: *img\n"), "", ""},
      {"a merged container is an error", "--image nginx=:1.27",
       "x: &base {image: \"nginx:1.0\"}\n" + deployment("      - name: a\n        <<: *base\n"), "",
       "in.yaml:12: spec.template.spec.containers[0].image is given by alias *base", ""},
      {"a container list given by alias is an error", "--image nginx=:1.27",
       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers: &c\n"
       "  - image: nginx:1.0\n  containers: *c\n",
       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers: &c\n"
       "  - image: nginx:1.27\n  containers: *c\n",
       "", ""},
  });
}

TEST(Rewrite, HelmTemplateSyntaxIsReported) {
  run_cases({
      {"in a plain scalar", "--image nginx=:1.27",
       deployment("      - image: nginx:{{ .Values.tag }}\n"), "",
       "in.yaml:10: Helm template syntax", ""},
      {"as a flow mapping", "--image nginx=:1.27",
       deployment("      - image: {{ .Values.image }}\n"), "", "in.yaml:10: Helm template syntax",
       ""},
      {"as a line of its own", "",
       "a: 1\n---\n{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n", "",
       "in.yaml:3: Helm template syntax", ""},
      {"in a control structure inside a mapping", "",
       "apiVersion: v1\nkind: ConfigMap\ndata:\n  {{- range .Values.x }}\n  a: b\n  {{- end }}\n",
       "", "in.yaml:4: Helm template syntax", ""},
      {"in a Kustomize entry", "--image nginx=:1.27",
       "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
       "- name: nginx\n  newTag: v{{ .Values.tag }}\n",
       "", "in.yaml:5: Helm template syntax (\"{{\") in images[0].newTag", ""},
      {"at a Helm path", "--image nginx=:1.27\n--helm nginx tag=image.tag",
       "image:\n  tag: v{{ .Values.tag }}\n", "", "in.yaml:2: Helm template syntax", ""},
      {"in a plain scalar that is no image it is data (Prometheus templates)",
       "--image nginx=:1.27",
       "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n"
       "  - rules:\n    - annotations:\n        summary: Instance {{ $labels.instance }} down\n",
       "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n"
       "  - rules:\n    - annotations:\n        summary: Instance {{ $labels.instance }} down\n",
       "", ""},
      {"quoted, in a block scalar or in a comment it is data", "--image nginx=:1.27",
       "args: [\"{{workflow.name}}\"] # {{ x }}\nscript: |\n  echo {{inputs.parameters.m}}\n" +
           std::string("---\n") + deployment("      - image: nginx:1.0\n"),
       "args: [\"{{workflow.name}}\"] # {{ x }}\nscript: |\n  echo {{inputs.parameters.m}}\n" +
           std::string("---\n") + deployment("      - image: nginx:1.27\n"),
       "", ""},
  });
}

TEST(Rewrite, KustomizeEntryEdits) {
  const std::string head =
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n";
  run_cases({
      {"a key is added to a flow entry", "--image redis=:7.4.0", head + "- {name: redis}\n",
       head + "- {name: redis, newTag: 7.4.0}\n", "", ""},
      {"a key that does not start its line is blanked, not removed", "--image redis=@" + k_d1,
       head + "- newTag: \"7.2\"\n  name: redis\n",
       head + "- newTag: \"\"\n  name: redis\n  digest: " + k_d1 + "\n", "", ""},
      {"a flow entry's key is blanked", "--image redis=:7.4.0",
       head + "- {name: redis, digest: " + k_d1 + "}\n",
       head + "- {name: redis, digest: \"\", newTag: 7.4.0}\n", "", ""},
      {"an entry already right is left alone", "--image redis=:7.4.0@" + k_d1,
       head + "- name: redis\n  newTag: 7.4.0\n  digest: " + k_d1 + "\n",
       head + "- name: redis\n  newTag: 7.4.0\n  digest: " + k_d1 + "\n", "", ""},
      {"an entry given by alias that needs a key is an error", "--image redis=:7.4.0",
       "x: &e {name: redis}\n" + head + "- *e\n", "",
       "in.yaml:5: images[0] is given by alias *e and needs newTag", ""},
      {"other kinds named Kustomization are not Kustomize", "--image redis=:7.4.0",
       "apiVersion: example.com/v1\nkind: Kustomization\nimages:\n- name: redis\n  newTag: "
       "\"7.2\"\n",
       "apiVersion: example.com/v1\nkind: Kustomization\nimages:\n- name: redis\n  newTag: "
       "\"7.2\"\n",
       "", ""},
  });
}

TEST(Rewrite, KindsEndingInListWithoutItemsAreObjects) {
  run_cases({
      {"a CRD kind ending in List", "--image nginx=:1.27",
       "apiVersion: example.com/v1\nkind: AllowList\nspec:\n  template:\n    spec:\n"
       "      containers:\n      - image: nginx:1.0\n",
       "apiVersion: example.com/v1\nkind: AllowList\nspec:\n  template:\n    spec:\n"
       "      containers:\n      - image: nginx:1.27\n",
       "", ""},
  });
}

TEST(Rewrite, HelmPaths) {
  run_cases({
      {"name and tag paths; name written on a rename only",
       "--image ghcr.io/acme/app=:2.0.0\n--helm ghcr.io/acme/app name=image.repository "
       "tag=image.tag",
       "image:\n  repository: acme/app # without registry: charts add it\n  tag: 1.0.0\n",
       "image:\n  repository: acme/app # without registry: charts add it\n  tag: 2.0.0\n", "",
       "in.yaml:3 - - - image.tag: \"1.0.0\" -> \"2.0.0\" (helm ghcr.io/acme/app)\n"},
      {"rename",
       "--image ghcr.io/acme/app=mirror.io/acme/app:2.0.0\n"
       "--helm ghcr.io/acme/app name=images[1].name tag=images[1].tag",
       "images:\n- name: x\n  tag: 1\n- name: ghcr.io/acme/app\n  tag: 1.0.0\n",
       "images:\n- name: x\n  tag: 1\n- name: mirror.io/acme/app\n  tag: 2.0.0\n", "", ""},
      {"spec path; digest pinning", "--image nginx=:1.27@" + k_d1 + "\n--helm nginx spec=app.image",
       "app:\n  image: nginx:1.25 # spec\n", "app:\n  image: nginx:1.27@" + k_d1 + " # spec\n", "",
       ""},
      {"a tag path with a digest writes tag@digest",
       "--image nginx=:1.27@" + k_d1 + "\n--helm nginx tag=image.tag", "image:\n  tag: \"1.25\"\n",
       "image:\n  tag: \"1.27@" + k_d1 + "\"\n", "", ""},
      {"Kubernetes objects are not values files", "--image nginx=:1.27\n--helm nginx tag=spec.tag",
       "apiVersion: v1\nkind: X\nspec:\n  tag: 1.25\n",
       "apiVersion: v1\nkind: X\nspec:\n  tag: 1.25\n", "", ""},
      {"a missing path is skipped", "--image nginx=:1.27\n--helm nginx tag=image.tag",
       "replicas: 1\n", "replicas: 1\n", "", ""},
      {"a path on a mapping is an error", "--image nginx=:1.27\n--helm nginx tag=image",
       "image:\n  tag: 1\n", "", "in.yaml:2: helm path image of \"nginx\" is a mapping", ""},
  });
}

TEST(Rewrite, ObjectsWithoutImagesStayByteForByte) {
  const std::string text = "\xEF\xBB\xBF# head\n%YAML 1.2\n---\napiVersion: v1\nkind: ConfigMap\n"
                           "data:\n  image: nginx:1.0\n...\n---\n# only a comment\n---\n";
  auto result = rewrite(text, "cm.yaml", *testing::parse_overrides_file("--image nginx=:2\n"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->output, text);
  EXPECT_FALSE(result->changed());
}

TEST(Rewrite, StreamModeHandsOutViewsOfTheInput) {
  const std::string doc = deployment("      - image: nginx:1.0\n      - image: redis:7\n");
  std::string text;
  for (int i = 0; i < 3; ++i) {
    text += "---\n" + doc;
  }
  auto rewriter = Rewriter::create(*testing::parse_overrides_file("--image nginx=:1.27\n"));
  ASSERT_TRUE(rewriter);
  std::string out;
  std::size_t views = 0;
  auto changes = rewriter->rewrite_stream(text, "-", [&](std::string_view piece) {
    if (piece.data() >= text.data() && piece.data() + piece.size() <= text.data() + text.size()) {
      ++views;
    }
    out += piece;
  });
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(changes->count(), 3u);
  ASSERT_EQ(changes->objects.size(), 1u); // three documents naming one object share an entry
  EXPECT_GE(views, 4u);
  std::string expected = text;
  for (std::size_t at = expected.find("nginx:1.0"); at != std::string::npos;
       at = expected.find("nginx:1.0", at)) {
    expected.replace(at, 9, "nginx:1.27");
  }
  EXPECT_EQ(out, expected);
}

TEST(Rewriter, RejectsOverlappingOverrides) {
  Overrides o;
  o.images.push_back(*parse_image_arg("nginx=:1"));
  o.images.push_back(*parse_image_arg("docker.io/library/nginx=:2"));
  auto r = Rewriter::create(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("govern the same repository"), std::string::npos);

  Overrides bad;
  ImageOverride b;
  b.repository = "nginx:1.0";
  bad.images.push_back(b);
  EXPECT_FALSE(Rewriter::create(bad));
}

TEST(Rewrite, MergeBombsAreBounded) {
  // Ten levels of mappings that each merge the previous level ten times: a lookup that walked
  // every merge would visit 10^10 mappings.
  std::string text = "l0: &l0 {a: 1}\n";
  for (int level = 1; level < 10; ++level) {
    text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " {<<: [";
    for (int i = 0; i < 10; ++i) {
      text += (i == 0 ? "*l" : ", *l") + std::to_string(level - 1);
    }
    text += "]}\n";
  }
  text += "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
          "  - name: a\n    <<: *l9\n";
  auto result = rewrite(text, "bomb.yaml", *testing::parse_overrides_file("--image nginx=:1\n"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->output, text);
}

TEST(Rewrite, ScanErrorsNameTheFile) {
  auto result = rewrite("a: [1, 2\n", "bad.yaml", Overrides{});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
  EXPECT_TRUE(result.error().message.starts_with("bad.yaml: line ")) << result.error().message;
  ASSERT_TRUE(result.error().where);
  EXPECT_EQ(result.error().where->file, "bad.yaml");
  EXPECT_EQ(result.error().where->line, 1) << "the unclosed '[', carried as a location";
  EXPECT_TRUE(result.error().message.starts_with(
      "bad.yaml: line 1, column " + std::to_string(result.error().where->column) + ": "))
      << result.error().message;
}

// The scanner's line (Error::where, not its message) bounds the search for Helm template syntax:
// "{{" after the failing line is not the cause, "{{" before it is.
TEST(Rewrite, HelmSyntaxIsFoundUpToTheScannersLine) {
  struct LineCase {
    const char* text;
    const char* starts; // the message's start
    int line;
  };
  const std::vector<LineCase> cases{
      {"a: {{ .Values.x }}\nb: [1\n", "in.yaml:1: Helm template syntax", 1},
      {"a: [1\nb: 2\n---\nc: {{ .Values.x }}\n", "in.yaml: line ", 0},
  };
  for (const auto& c : cases) {
    auto result = rewrite(c.text, "in.yaml", Overrides{});
    ASSERT_FALSE(result) << c.text;
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_TRUE(result.error().message.starts_with(c.starts)) << result.error().message;
    ASSERT_TRUE(result.error().where) << c.text;
    EXPECT_EQ(result.error().where->file, "in.yaml");
    if (c.line > 0) {
      EXPECT_EQ(result.error().where->line, c.line);
    }
  }
}

TEST(Rewrite, ScannerLimitsApply) {
  RewriteOptions options;
  options.limits.max_nodes = 10;
  auto rewriter = Rewriter::create(Overrides{}, options);
  ASSERT_TRUE(rewriter);
  std::string text = "a: [";
  for (int i = 0; i < 100; ++i) {
    text += "1, ";
  }
  text += "2]\n";
  auto result = rewriter->rewrite(text, "big.yaml");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("big.yaml"), std::string::npos);
}

} // namespace
} // namespace common::manifest

namespace common::manifest {
namespace {

TEST(Rewrite, MatchesCountGovernedValuesChangedOrNot) {
  // Per override: values governed (images, Kustomize entries, Helm paths), also when already
  // current; 0 = the override matched nothing (the plugin warns about it).
  auto overrides = testing::parse_overrides_file(
      "--image nginx=:1.27\n--image redis=:7.2\n--image ghcr.io/acme/absent=:1.0\n");
  ASSERT_TRUE(overrides) << overrides.error().message;
  const std::string input = deployment("      - image: nginx:1.27\n      - image: nginx:1.25\n"
                                       "      - image: redis:7.0\n") +
                            "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: "
                            "Kustomization\nimages:\n- name: redis\n  newTag: \"7.2\"\n";
  auto result = rewrite(input, "in.yaml", *overrides);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->matches, (std::vector<std::size_t>{2, 2, 0}));
}

} // namespace
} // namespace common::manifest
