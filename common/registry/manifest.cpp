// Manifests and indexes: fetched with the full Accept list, their digest verified, parsed into
// the descriptors the strategies need.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/image/digest.hpp"
#include "common/registry/client.hpp"
#include "common/registry/detail.hpp"
#include "common/util/json_depth.hpp"
#include "common/util/try.hpp"

namespace common::registry {

using image::digest_like;
using image::is_valid_digest;
using image::sha256_digest;

namespace {

using nlohmann::json;
using util::ErrorKind;

bool is_index_type(std::string_view t) noexcept {
  return t == k_oci_index || t == k_docker_list;
}
bool is_manifest_type(std::string_view t) noexcept {
  return t == k_oci_manifest || t == k_docker_manifest;
}

std::string string_field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Descriptor> parse_descriptor(const json& j) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  Descriptor d;
  d.media_type = string_field(j, "mediaType");
  d.digest = string_field(j, "digest");
  if (!is_valid_digest(d.digest)) {
    return std::nullopt;
  }
  if (const auto size = j.find("size"); size != j.end() && size->is_number_integer()) {
    d.size = size->get<std::int64_t>();
  }
  if (const auto platform = j.find("platform"); platform != j.end() && platform->is_object()) {
    image::Platform p{string_field(*platform, "os"), string_field(*platform, "architecture"),
                      string_field(*platform, "variant")};
    if (!p.os.empty() && !p.arch.empty()) {
      d.platform = std::move(p);
    }
  }
  return d;
}

std::string shown_reference(const std::string& repository, std::string_view reference) {
  return repository + (is_valid_digest(reference) ? "@" : ":") + std::string(reference);
}

} // namespace

namespace detail {

bool json_parsable(std::string_view body) noexcept {
  constexpr std::size_t k_max_values = 200'000;
  return util::json_nesting(body, util::k_max_json_nesting) <= util::k_max_json_nesting &&
         util::json_values(body, k_max_values) <= k_max_values;
}

bool valid_tag(std::string_view tag) noexcept {
  if (tag.empty() || tag.size() > 128) {
    return false;
  }
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const char c = tag[i];
    const bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) {
      return false;
    }
  }
  return true;
}

} // namespace detail

util::Result<Manifest> Client::Impl::manifest(const std::string& repository,
                                              std::string_view reference) {
  const bool by_digest = is_valid_digest(reference);
  if (!by_digest && !detail::valid_tag(reference)) {
    return util::fail(ErrorKind::invalid_input, "invalid tag or digest \"" +
                                                    detail::excerpt(reference, 140) + "\" for " +
                                                    label());
  }
  const std::string what = "manifest \"" + shown_reference(repository, reference) + "\"";
  detail::Fetch fetch;
  fetch.url = url_for("/v2/" + repository + "/manifests/" + std::string(reference));
  fetch.repository = repository;
  fetch.headers.emplace_back("Accept", manifest_accept());
  auto response = this->fetch(fetch);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status != 200) {
    return std::unexpected(status_error(*response, fetch.url, "GET", what));
  }
  Manifest out;
  out.bytes = std::move(response->body);
  // Both claims about the content, the header's and the reference's, must hold.
  for (const auto claim : {http::find_header(response->headers, "Docker-Content-Digest"),
                           by_digest ? std::optional(reference) : std::nullopt}) {
    if (!claim) {
      continue;
    }
    const std::string claimed(*claim);
    auto computed = digest_like(claimed, out.bytes);
    if (!computed) {
      return std::unexpected(
          bad_body(fetch.url, "Docker-Content-Digest: " + computed.error().message));
    }
    if (*computed != claimed) {
      return std::unexpected(bad_body(fetch.url, "digest mismatch for " + what + ": expected " +
                                                     claimed + ", the content hashes to " +
                                                     *computed));
    }
    if (out.digest.empty()) {
      out.digest = claimed;
    }
  }
  if (out.digest.empty()) {
    out.digest = sha256_digest(out.bytes);
  }

  const json doc = detail::json_parsable(out.bytes) ? json::parse(out.bytes, nullptr, false)
                                                    : json(json::value_t::discarded);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::unexpected(bad_body(fetch.url, what + " is not a JSON object"));
  }
  if (const auto version = doc.find("schemaVersion");
      version != doc.end() && version->is_number_integer() && version->get<int>() == 1) {
    return util::fail(ErrorKind::unsupported, label() + ": " + what +
                                                  " is a Docker schema 1 manifest, which is not "
                                                  "supported (push the image again with a current "
                                                  "client)");
  }
  const std::string body_type = string_field(doc, "mediaType");
  const auto content_type = http::find_header(response->headers, "Content-Type");
  const std::string header_type = http::media_type(content_type.value_or(""));
  if (!body_type.empty()) {
    out.media_type = body_type;
  } else if (is_index_type(header_type) || is_manifest_type(header_type)) {
    out.media_type = header_type;
  } else if (doc.contains("manifests")) {
    out.media_type = std::string(k_oci_index);
  } else if (doc.contains("config")) {
    out.media_type = std::string(k_oci_manifest);
  }
  if (is_index_type(out.media_type)) {
    const auto list = doc.find("manifests");
    if (list == doc.end() || !list->is_array()) {
      return std::unexpected(bad_body(fetch.url, what + " is an index without \"manifests\""));
    }
    for (const json& child : *list) {
      auto descriptor = parse_descriptor(child);
      if (!descriptor) {
        return std::unexpected(bad_body(fetch.url, what + " has a malformed child descriptor"));
      }
      out.children.push_back(std::move(*descriptor));
    }
  } else if (is_manifest_type(out.media_type)) {
    const auto config = doc.find("config");
    out.config = config == doc.end() ? std::nullopt : parse_descriptor(*config);
    if (!out.config) {
      return std::unexpected(bad_body(fetch.url, what + " has no valid config descriptor"));
    }
  } else {
    return util::fail(ErrorKind::unsupported, label() + ": " + what + " has media type \"" +
                                                  detail::excerpt(out.media_type, 100) +
                                                  "\", neither an image manifest nor an index");
  }
  return out;
}

util::Result<std::string> Client::Impl::head(const std::string& repository, std::string_view tag) {
  if (!is_valid_digest(tag) && !detail::valid_tag(tag)) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid tag \"" + detail::excerpt(tag, 140) + "\" for " + label());
  }
  detail::Fetch fetch;
  fetch.method = "HEAD";
  fetch.url = url_for("/v2/" + repository + "/manifests/" + std::string(tag));
  fetch.repository = repository;
  fetch.headers.emplace_back("Accept", manifest_accept());
  auto response = this->fetch(fetch);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status == 200) {
    if (auto digest = http::find_header(response->headers, "Docker-Content-Digest")) {
      if (!is_valid_digest(*digest)) {
        return std::unexpected(bad_body(fetch.url, "Docker-Content-Digest \"" +
                                                       detail::excerpt(*digest, 140) +
                                                       "\" is not a digest"));
      }
      return std::string(*digest);
    }
  } else if (response->status != 405 && response->status != 501) {
    return std::unexpected(status_error(*response, fetch.url, "HEAD",
                                        "manifest \"" + shown_reference(repository, tag) + "\""));
  }
  // No digest header, or no HEAD at all: the digest of the bytes a GET returns.
  auto manifest = this->manifest(repository, tag);
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  return manifest->digest;
}

util::Result<Manifest> Client::get_manifest(std::string_view repository,
                                            std::string_view reference) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  return m_impl->manifest(*repo, reference);
}

util::Result<std::string> Client::head_digest(std::string_view repository, std::string_view tag) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  return m_impl->head(*repo, tag);
}

util::Result<std::string> Client::digest_for(std::string_view repository, std::string_view tag) {
  if (!detail::valid_tag(tag)) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid tag \"" + detail::excerpt(tag, 140) + "\" for the digest strategy");
  }
  auto digest = head_digest(repository, tag);
  if (!digest) {
    return std::unexpected(digest.error());
  }
  return std::string(tag) + "@" + *digest;
}

} // namespace common::registry
