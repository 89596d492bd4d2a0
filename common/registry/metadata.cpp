// Build times for newest-build: manifest -> (index: platform-matching children) -> config blob
// -> `created`, as argocd-image-updater does, with every blob's digest checked.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/image/digest.hpp"
#include "common/image/platform.hpp"
#include "common/registry/client.hpp"
#include "common/registry/detail.hpp"
#include "common/util/time.hpp"
#include "common/util/try.hpp"

namespace common::registry {

using image::digest_like;
using image::is_valid_digest;

namespace {

using nlohmann::json;
using util::ErrorKind;

std::string string_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool wanted(const std::vector<image::Platform>& platforms, const image::Platform& candidate) {
  if (platforms.empty()) {
    // No filter: every real platform, but not the "unknown/unknown" attestation manifests
    // that buildx puts into indexes.
    return candidate.os != "unknown";
  }
  for (const image::Platform& p : platforms) {
    if (image::matches(p, candidate)) {
      return true;
    }
  }
  return false;
}

std::string join(const std::vector<image::Platform>& platforms) {
  std::string out;
  for (const image::Platform& p : platforms) {
    out += (out.empty() ? "" : ", ") + p.to_string();
  }
  return out;
}

} // namespace

util::Result<detail::ImageConfig> Client::Impl::config(const std::string& repository,
                                                       std::string_view digest) {
  if (!is_valid_digest(digest)) {
    return util::fail(ErrorKind::invalid_input, "invalid config digest \"" +
                                                    detail::excerpt(digest, 140) + "\" for " +
                                                    label());
  }
  detail::Fetch fetch;
  fetch.url = url_for("/v2/" + repository + "/blobs/" + std::string(digest));
  fetch.repository = repository;
  // Blob storage commonly lives elsewhere (S3, a CDN): redirects are followed to any host,
  // without our Authorization (see fetch), and the content is checked against the digest.
  fetch.redirects = detail::Redirects::any;
  auto response = this->fetch(fetch);
  if (!response) {
    return std::unexpected(response.error());
  }
  const std::string what = "config blob " + std::string(digest) + " of \"" + repository + "\"";
  if (response->status != 200) {
    return std::unexpected(status_error(*response, fetch.url, "GET", what));
  }
  auto computed = digest_like(digest, response->body);
  if (!computed) {
    return std::unexpected(computed.error());
  }
  if (*computed != digest) {
    return std::unexpected(bad_body(fetch.url, "digest mismatch for " + what +
                                                   ": the content hashes to " + *computed));
  }
  const json doc = detail::json_parsable(response->body)
                       ? json::parse(response->body, nullptr, false)
                       : json(json::value_t::discarded);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::unexpected(bad_body(fetch.url, what + " is not a JSON object"));
  }
  detail::ImageConfig out;
  out.platform = {string_field(doc, "os"), string_field(doc, "architecture"),
                  string_field(doc, "variant")};
  const auto created = doc.find("created");
  if (created != doc.end() && !created->is_null()) {
    if (!created->is_string()) {
      return std::unexpected(bad_body(fetch.url, what + ": \"created\" is not a string"));
    }
    auto time = util::parse_rfc3339(created->get_ref<const std::string&>());
    if (!time) {
      return std::unexpected(bad_body(fetch.url, what + ": " + time.error().message));
    }
    out.created = *time;
  }
  return out;
}

util::Result<util::Timestamp> Client::get_config_created(std::string_view repository,
                                                         std::string_view config_digest) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  auto config = m_impl->config(*repo, config_digest);
  if (!config) {
    return std::unexpected(config.error());
  }
  if (!config->created) {
    return util::fail(ErrorKind::not_found, m_impl->label() + ": config blob " +
                                                std::string(config_digest) + " of \"" + *repo +
                                                "\" has no \"created\" time");
  }
  return *config->created;
}

util::Result<BuildInfo> Client::created_for(std::string_view repository, std::string_view tag,
                                            const std::vector<image::Platform>& platforms) {
  Impl& impl = *m_impl;
  IU_TRY(impl.usable());
  auto repo = impl.repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  auto top = impl.manifest(*repo, tag);
  if (!top) {
    return std::unexpected(top.error());
  }
  const std::string image = *repo + ":" + std::string(tag);
  const auto no_created = [&](const std::string& where) {
    return util::fail(ErrorKind::not_found,
                      impl.label() + ": " + where + " has no \"created\" time in its config");
  };
  if (!top->is_index()) {
    auto config = impl.config(*repo, top->config->digest);
    if (!config) {
      return std::unexpected(config.error());
    }
    const image::Platform& p = config->platform;
    const bool named = !p.os.empty() && !p.arch.empty();
    if (named && !platforms.empty() && !wanted(platforms, p)) {
      return util::fail(ErrorKind::not_found, impl.label() + ": " + image + " is " + p.to_string() +
                                                  ", which matches none of " + join(platforms));
    }
    if (!config->created) {
      return no_created(image);
    }
    return BuildInfo{*config->created, top->digest, named ? p.to_string() : std::string()};
  }

  std::optional<BuildInfo> newest;
  std::vector<image::Platform> available;
  for (const Descriptor& child : top->children) {
    if (!child.platform) {
      continue;
    }
    available.push_back(*child.platform);
    if (!wanted(platforms, *child.platform)) {
      continue;
    }
    auto manifest = impl.manifest(*repo, child.digest);
    if (!manifest) {
      return std::unexpected(manifest.error());
    }
    if (!manifest->config) {
      continue; // a nested index: not an image of this platform
    }
    auto config = impl.config(*repo, manifest->config->digest);
    if (!config) {
      return std::unexpected(config.error());
    }
    if (!config->created) {
      return no_created(image + " (" + child.platform->to_string() + ")");
    }
    // Strictly newer: among equal times the first child in index order wins, deterministically.
    if (!newest || *config->created > newest->created) {
      newest = BuildInfo{*config->created, top->digest, child.platform->to_string()};
    }
  }
  if (!newest) {
    return util::fail(ErrorKind::not_found,
                      impl.label() + ": no image in the index of " + image + " matches " +
                          (platforms.empty() ? std::string("any platform") : join(platforms)) +
                          "; it has " +
                          (available.empty() ? std::string("no platforms") : join(available)));
  }
  return *newest;
}

} // namespace common::registry
