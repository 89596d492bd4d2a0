#include "common/oci/flux_artifact.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/image/digest.hpp"
#include "common/util/time.hpp"
#include "common/util/try.hpp"

namespace common::oci {
namespace {

using nlohmann::json;
using util::ErrorKind;

// Compact, keys sorted (nlohmann's object is a std::map), invalid UTF-8 rejected rather than
// silently replaced: a manifest is a content address, its bytes must be what the caller meant.
util::Result<std::string> compact(const json& j, const char* what) {
  try {
    return j.dump();
  } catch (const json::exception& e) {
    return util::fail(ErrorKind::invalid_input, std::string(what) + ": " + e.what());
  }
}

std::string string_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Whether an existing manifest already carries this content (see push_flux_artifact).
bool same_content(std::string_view manifest_bytes, const FluxArtifact& ours,
                  const Annotations& annotations) {
  const json doc = json::parse(manifest_bytes, nullptr, false);
  if (!doc.is_object() || string_field(doc, "mediaType") != registry::k_oci_manifest) {
    return false;
  }
  const auto config = doc.find("config");
  if (config == doc.end() || !config->is_object() ||
      string_field(*config, "mediaType") != k_flux_config_media_type) {
    return false;
  }
  const auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array() || layers->size() != 1 ||
      !layers->front().is_object() ||
      string_field(layers->front(), "mediaType") != k_flux_content_media_type ||
      string_field(layers->front(), "digest") != ours.layer_digest) {
    return false;
  }
  json none = json::object();
  const auto found = doc.find("annotations");
  const json& existing = found != doc.end() && found->is_object() ? *found : none;
  return string_field(existing, k_source_annotation.data()) == annotations.source &&
         string_field(existing, k_revision_annotation.data()) == annotations.revision;
}

} // namespace

util::Result<FluxArtifact> build_flux_artifact(std::string_view layer_targz,
                                               const Annotations& annotations) {
  const std::string created =
      annotations.created.empty() ? std::string(k_reproducible_created) : annotations.created;
  if (auto parsed = util::parse_rfc3339(created); !parsed) {
    return util::fail(ErrorKind::invalid_input,
                      "flux artifact: created annotation: " + parsed.error().message);
  }
  artifact::Limits limits;
  limits.max_total_bytes = std::uint64_t{1} << 30;
  auto diff_id = artifact::tar_digest(layer_targz, limits);
  if (!diff_id) {
    return util::fail(diff_id.error().kind, "flux artifact layer: " + diff_id.error().message);
  }
  FluxArtifact out;
  out.layer_digest = image::sha256_digest(layer_targz);

  // What go-containerregistry makes of empty.Image plus one layer (the config `flux push`
  // writes): an image config with empty platform fields, `created`, one history entry and the
  // layer's diff_id. Consumers do not read it; it is there so that generic tools see a
  // well-formed config.
  const json config = {
      {"architecture", ""}, {"config", json::object()},
      {"created", created}, {"history", json::array({{{"created", created}}})},
      {"os", ""},           {"rootfs", {{"type", "layers"}, {"diff_ids", json::array({*diff_id})}}},
  };
  auto config_text = compact(config, "flux artifact config");
  if (!config_text) {
    return std::unexpected(config_text.error());
  }
  out.config = std::move(*config_text);
  out.config_digest = image::sha256_digest(out.config);

  json manifest_annotations = {{std::string(k_created_annotation), created}};
  if (!annotations.source.empty()) {
    manifest_annotations[std::string(k_source_annotation)] = annotations.source;
  }
  if (!annotations.revision.empty()) {
    manifest_annotations[std::string(k_revision_annotation)] = annotations.revision;
  }
  const json manifest = {
      {"schemaVersion", 2},
      {"mediaType", std::string(registry::k_oci_manifest)},
      {"config",
       {{"mediaType", std::string(k_flux_config_media_type)},
        {"digest", out.config_digest},
        {"size", out.config.size()}}},
      {"layers", json::array({{{"mediaType", std::string(k_flux_content_media_type)},
                               {"digest", out.layer_digest},
                               {"size", layer_targz.size()}}})},
      {"annotations", manifest_annotations},
  };
  auto manifest_text = compact(manifest, "flux artifact manifest");
  if (!manifest_text) {
    return std::unexpected(manifest_text.error());
  }
  out.manifest = std::move(*manifest_text);
  out.manifest_digest = image::sha256_digest(out.manifest);
  return out;
}

util::Result<PushResult> push_flux_artifact(registry::Client& client, std::string_view repository,
                                            std::string_view tag, std::string_view layer_targz,
                                            const Annotations& annotations) {
  auto built = build_flux_artifact(layer_targz, annotations);
  if (!built) {
    return std::unexpected(built.error());
  }
  auto existing = client.get_manifest(repository, tag);
  if (existing) {
    if (same_content(existing->bytes, *built, annotations)) {
      return PushResult{existing->digest, false};
    }
  } else if (existing.error().kind != ErrorKind::not_found &&
             existing.error().kind != ErrorKind::unsupported) {
    // unsupported: the tag names something we do not read (schema 1, an unknown type), which
    // the push replaces.
    return std::unexpected(existing.error());
  }
  for (const auto& [digest, bytes] :
       {std::pair<std::string_view, std::string_view>{built->config_digest, built->config},
        std::pair<std::string_view, std::string_view>{built->layer_digest, layer_targz}}) {
    auto present = client.blob_exists(repository, digest);
    if (!present) {
      return std::unexpected(present.error());
    }
    if (!*present) {
      IU_TRY(client.push_blob(repository, digest, bytes));
    }
  }
  auto digest = client.push_manifest(repository, tag, registry::k_oci_manifest, built->manifest);
  if (!digest) {
    return std::unexpected(digest.error());
  }
  if (*digest != built->manifest_digest) {
    return util::fail(ErrorKind::internal, "flux artifact: the registry stored the manifest as " +
                                               *digest + ", not " + built->manifest_digest);
  }
  return PushResult{*digest, true};
}

} // namespace common::oci
