#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/artifact/external_artifact.hpp"

namespace common::artifact {
namespace {

using nlohmann::json;

const std::string k_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

ExternalArtifactInput sample() {
  ExternalArtifactInput in;
  in.name = "web";
  in.namespace_ = "demo";
  in.updater_name = "web";
  in.updater_namespace = "demo";
  in.base_url = "http://imageupdater.flux-system.svc.cluster.local./artifacts";
  in.digest = "sha256:" + k_hex;
  in.path = "externalartifact/demo/web/" + k_hex + ".tar.gz";
  in.size = 20914;
  in.last_update_time = util::parse_rfc3339("2025-08-21T13:37:31.123456Z").value();
  in.source_revision = "main@sha1:363a6a8fe6a7f13e05d34c163b0ef02a777da20a";
  return in;
}

const std::string k_golden_json = R"({
  "apiVersion": "source.toolkit.fluxcd.io/v1",
  "kind": "ExternalArtifact",
  "metadata": {
    "labels": {
      "app.kubernetes.io/managed-by": "imageupdater"
    },
    "name": "web",
    "namespace": "demo"
  },
  "spec": {
    "sourceRef": {
      "apiVersion": "gitops.kubesphere.io/v1alpha1",
      "kind": "ImageUpdater",
      "name": "web",
      "namespace": "demo"
    }
  },
  "status": {
    "artifact": {
      "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "lastUpdateTime": "2025-08-21T13:37:31Z",
      "metadata": {
        "org.opencontainers.image.revision": "main@sha1:363a6a8fe6a7f13e05d34c163b0ef02a777da20a"
      },
      "path": "externalartifact/demo/web/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.tar.gz",
      "revision": "latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "size": 20914,
      "url": "http://imageupdater.flux-system.svc.cluster.local./artifacts/externalartifact/demo/web/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.tar.gz"
    },
    "conditions": [
      {
        "lastTransitionTime": "2025-08-21T13:37:31Z",
        "message": "stored artifact for revision 'latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'",
        "reason": "Succeeded",
        "status": "True",
        "type": "Ready"
      }
    ]
  }
}
)";

const std::string k_golden_yaml = R"(apiVersion: source.toolkit.fluxcd.io/v1
kind: ExternalArtifact
metadata:
  labels:
    app.kubernetes.io/managed-by: imageupdater
  name: web
  namespace: demo
spec:
  sourceRef:
    apiVersion: gitops.kubesphere.io/v1alpha1
    kind: ImageUpdater
    name: web
    namespace: demo
status:
  artifact:
    digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    lastUpdateTime: "2025-08-21T13:37:31Z"
    metadata:
      org.opencontainers.image.revision: "main@sha1:363a6a8fe6a7f13e05d34c163b0ef02a777da20a"
    path: externalartifact/demo/web/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.tar.gz
    revision: "latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    size: 20914
    url: "http://imageupdater.flux-system.svc.cluster.local./artifacts/externalartifact/demo/web/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.tar.gz"
  conditions:
  - lastTransitionTime: "2025-08-21T13:37:31Z"
    message: "stored artifact for revision 'latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"
    reason: Succeeded
    status: "True"
    type: Ready
)";

TEST(ExternalArtifact, JsonGolden) {
  EXPECT_EQ(artifact_json(sample()), k_golden_json);
}

TEST(ExternalArtifact, YamlGolden) {
  EXPECT_EQ(artifact_yaml(sample()), k_golden_yaml);
}

TEST(ExternalArtifact, Revision) {
  EXPECT_EQ(artifact_revision("sha256:" + k_hex), "latest@sha256:" + k_hex);
}

TEST(ExternalArtifact, OwnerReferenceOnlyWithAUidInTheSameNamespace) {
  ExternalArtifactInput in = sample();
  in.updater_uid = "6f1c0a8e-0000-4000-8000-000000000001";
  const json owned = json::parse(artifact_json(in));
  EXPECT_EQ(owned["metadata"]["ownerReferences"],
            json::parse(R"([{"apiVersion":"gitops.kubesphere.io/v1alpha1","blockOwnerDeletion":true,
                            "controller":true,"kind":"ImageUpdater","name":"web",
                            "uid":"6f1c0a8e-0000-4000-8000-000000000001"}])"));
  in.updater_namespace = "elsewhere";
  const json cross = json::parse(artifact_json(in));
  EXPECT_FALSE(cross["metadata"].contains("ownerReferences"));
  EXPECT_EQ(cross["spec"]["sourceRef"]["namespace"], "elsewhere");
}

TEST(ExternalArtifact, NoMetadataWithoutASourceRevision) {
  ExternalArtifactInput in = sample();
  in.source_revision.clear();
  EXPECT_FALSE(json::parse(artifact_json(in))["status"]["artifact"].contains("metadata"));
}

TEST(ExternalArtifact, InvalidUtf8IsReplacedNotThrown) {
  ExternalArtifactInput in = sample();
  in.source_revision = "main@\xff\xfe";
  const json doc = json::parse(artifact_json(in));
  EXPECT_EQ(doc["status"]["artifact"]["metadata"]["org.opencontainers.image.revision"],
            "main@\xef\xbf\xbd\xef\xbf\xbd");
}

// The YAML as a YAML parser reads it, typed as the core schema does (plain scalars that look
// like numbers or booleans are not strings).
json from_yaml(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map: {
    json out = json::object();
    for (const auto& kv : node) {
      out[kv.first.as<std::string>()] = from_yaml(kv.second);
    }
    return out;
  }
  case YAML::NodeType::Sequence: {
    json out = json::array();
    for (const auto& item : node) {
      out.push_back(from_yaml(item));
    }
    return out;
  }
  case YAML::NodeType::Scalar: {
    const std::string text = node.Scalar();
    if (node.Tag() == "?") { // plain
      if (text == "true" || text == "false") {
        return text == "true";
      }
      if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        return std::stoull(text);
      }
    }
    return text;
  }
  default:
    return nullptr;
  }
}

TEST(ExternalArtifact, YamlReadsBackAsTheJson) {
  for (const std::string& tricky :
       {std::string("true"), std::string("no"), std::string("123"), std::string("1.5"),
        std::string(""), std::string("a: b"), std::string("#comment"), std::string("- item"),
        std::string("line\nbreak"), std::string("quote\"and\\backslash"), std::string(" padded "),
        std::string("caf\xc3\xa9"), std::string("null"), std::string("~"), std::string("*ref"),
        std::string("{x}"), std::string("main@sha1:abc")}) {
    ExternalArtifactInput in = sample();
    in.source_revision = tricky;
    in.name = tricky;
    const json expected = json::parse(artifact_json(in));
    json actual;
    try {
      actual = from_yaml(YAML::Load(artifact_yaml(in)));
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << "\"" << tricky << "\": " << e.what() << "\n" << artifact_yaml(in);
      continue;
    }
    EXPECT_EQ(actual, expected) << "\"" << tricky << "\"\n" << artifact_yaml(in);
  }
}

} // namespace
} // namespace common::artifact
