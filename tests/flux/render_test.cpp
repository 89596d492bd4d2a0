#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/flux/render.hpp"
#include "common/spec/loader.hpp"

namespace common::flux {
namespace {

spec::ImageUpdater updater(const std::string& strategy = "Setters") {
  auto loaded =
      spec::parse_stream("apiVersion: gitops.kubesphere.io/v1alpha1\n"
                         "kind: ImageUpdater\n"
                         "metadata: {name: web, namespace: demo}\n"
                         "spec:\n"
                         "  kind: fluxcd\n"
                         "  images: [web=127.0.0.1:5000/demo/web, api=127.0.0.1:5000/demo/api]\n"
                         "  fluxcd:\n"
                         "    interval: 1m\n"
                         "    policy: {semver: {range: '>=1.0.0'}}\n"
                         "    update: {path: apps, strategy: " +
                             strategy + "}\n",
                         "spec.yaml");
  EXPECT_TRUE(loaded.diagnostics.empty()) << loaded.diagnostics.front().message;
  return loaded.updaters.front();
}

resolve::ImageResult result(const std::string& alias, const std::string& tag) {
  resolve::ImageResult r;
  r.updater = "demo/web";
  r.alias = alias;
  r.image = "127.0.0.1:5000/demo/" + alias;
  r.repository = r.image;
  r.strategy = "semver";
  r.tag = tag;
  r.digest = "sha256:" + std::string(64, 'a');
  return r;
}

const std::string k_deployment =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: web\n"
    "          image: 127.0.0.1:5000/demo/web:1.0.0 # {\"$imagepolicy\": \"demo:web\"}\n"
    "        - name: api\n"
    "          image: 127.0.0.1:5000/demo/api:1.0.0\n"
    "      initContainers:\n"
    "        - name: tag-only\n"
    "          image: \"busybox:1.0.0\"\n";

TEST(Flux, SettersWriteNameAndTagWithoutDigest) {
  auto overrides = overrides_for(updater(), {result("web", "1.2.0"), result("api", "2.0.0")});
  ASSERT_TRUE(overrides) << overrides.error().message;
  EXPECT_TRUE(overrides->images.empty()) << "Setters touches markers only";
  ASSERT_EQ(overrides->setters.size(), 2u);
  EXPECT_EQ(overrides->setters.at("demo:web").full(), "127.0.0.1:5000/demo/web:1.2.0");

  auto rendered = render(
      {{"apps/web.yaml", k_deployment, false}, {"apps/run.sh", "#!/bin/sh\n", true}}, *overrides);
  ASSERT_TRUE(rendered) << rendered.error().message;
  ASSERT_EQ(rendered->files.size(), 2u);
  EXPECT_EQ(rendered->files[0].path, "apps/run.sh");
  EXPECT_TRUE(rendered->files[0].executable);
  const std::string& web = rendered->files[1].content;
  EXPECT_NE(web.find("image: 127.0.0.1:5000/demo/web:1.2.0 # {\"$imagepolicy\": \"demo:web\"}"),
            std::string::npos)
      << web;
  EXPECT_NE(web.find("image: 127.0.0.1:5000/demo/api:1.0.0\n"), std::string::npos)
      << "no marker, not governed under Setters";
  ASSERT_EQ(rendered->changes.size(), 1u);
  EXPECT_EQ(rendered->changes[0].file, "apps/web.yaml");
}

TEST(Flux, SettersAndImagesAlsoRewritesGovernedWorkloadImages) {
  auto overrides =
      overrides_for(updater("SettersAndImages"), {result("web", "1.2.0"), result("api", "2.0.0")});
  ASSERT_TRUE(overrides) << overrides.error().message;
  auto rendered = render({{"apps/web.yaml", k_deployment, false}}, *overrides);
  ASSERT_TRUE(rendered) << rendered.error().message;
  const std::string& web = rendered->files[0].content;
  EXPECT_NE(web.find("image: 127.0.0.1:5000/demo/api:2.0.0\n"), std::string::npos) << web;
  EXPECT_NE(web.find("image: \"busybox:1.0.0\""), std::string::npos) << "not governed";
}

TEST(Flux, AnyFailedImageFailsTheWholeRender) {
  auto failed = result("api", "");
  failed.error = util::Error(util::ErrorKind::not_found, "no tag qualifies among 3 tags");
  auto overrides = overrides_for(updater(), {result("web", "1.2.0"), failed});
  ASSERT_FALSE(overrides);
  EXPECT_NE(overrides.error().message.find("api: no tag qualifies"), std::string::npos);
}

TEST(Flux, BadYamlNamesTheFile) {
  auto overrides = overrides_for(updater(), {result("web", "1.2.0"), result("api", "2.0.0")});
  ASSERT_TRUE(overrides);
  auto rendered = render({{"apps/bad.yml", "a: [1, 2\nb: {", false}}, *overrides);
  ASSERT_FALSE(rendered);
  EXPECT_NE(rendered.error().message.find("apps/bad.yml"), std::string::npos)
      << rendered.error().message;
}

TEST(Flux, UnknownSettersOfOurNamespaceAreFound) {
  auto overrides = overrides_for(updater(), {result("web", "1.2.0"), result("api", "2.0.0")});
  ASSERT_TRUE(overrides);
  const util::Tree files = {
      {"apps/a.yaml",
       "image: x:1 # {\"$imagepolicy\": \"demo:wbe\"}\n"
       "tag: \"1\" # {\"$imagepolicy\": \"demo:web:tag\"}\n"
       "other: y:1 # {\"$imagepolicy\": \"elsewhere:web\"}\n",
       false},
      {"apps/notes.txt", "# {\"$imagepolicy\": \"demo:nope\"}\n", false},
  };
  const auto unknown = unknown_setters(files, *overrides, "demo");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], "apps/a.yaml:1: marker \"demo:wbe\" names no image of this ImageUpdater "
                        "(known: api, web)");
}

} // namespace
} // namespace common::flux
