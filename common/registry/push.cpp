// Pushing blobs and manifests (OCI distribution spec, "Pushing blobs" and "Pushing
// manifests"): monolithic uploads only (POST, then one PUT with the whole blob), which every
// registry implements; no chunked uploads and no cross-repository mounts. Every request asks
// for a "pull,push" token (Fetch::push).
#include <optional>
#include <string>
#include <string_view>

#include "common/http/url.hpp"
#include "common/image/digest.hpp"
#include "common/registry/client.hpp"
#include "common/registry/detail.hpp"
#include "common/util/try.hpp"

namespace common::registry {

using image::digest_like;
using image::is_valid_digest;
using image::sha256_digest;

namespace {

using util::ErrorKind;

std::string blob_what(const std::string& repository, std::string_view digest) {
  return "blob " + std::string(digest) + " of \"" + repository + "\"";
}

} // namespace

util::Result<bool> Client::Impl::blob_exists(const std::string& repository,
                                             std::string_view digest) {
  if (!is_valid_digest(digest)) {
    return util::fail(ErrorKind::invalid_input, "invalid blob digest \"" +
                                                    detail::excerpt(digest, 140) + "\" for " +
                                                    label());
  }
  detail::Fetch fetch;
  fetch.method = "HEAD";
  fetch.url = url_for("/v2/" + repository + "/blobs/" + std::string(digest));
  fetch.repository = repository;
  fetch.push = true;
  // As for config blobs: storage behind a redirect gets no Authorization of ours.
  fetch.redirects = detail::Redirects::any;
  auto response = this->fetch(fetch);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status == 200) {
    return true;
  }
  if (response->status == 404) {
    return false;
  }
  return std::unexpected(status_error(*response, fetch.url, "HEAD", blob_what(repository, digest)));
}

util::Result<void> Client::Impl::push_blob(const std::string& repository, std::string_view digest,
                                           std::string_view bytes) {
  const std::string what = blob_what(repository, digest);
  auto computed = digest_like(digest, bytes);
  if (!computed) {
    return util::fail(computed.error().kind,
                      "cannot push " + what + " to " + label() + ": " + computed.error().message);
  }
  if (*computed != digest) {
    return util::fail(ErrorKind::invalid_input, "cannot push " + what + " to " + label() +
                                                    ": the content hashes to " + *computed);
  }

  detail::Fetch start;
  start.method = "POST";
  start.url = url_for("/v2/" + repository + "/blobs/uploads/");
  start.repository = repository;
  start.push = true;
  start.redirects = detail::Redirects::none;
  auto started = this->fetch(start);
  if (!started) {
    return std::unexpected(started.error());
  }
  if (started->status != 202) {
    return std::unexpected(status_error(*started, start.url, "POST", "an upload of " + what));
  }
  const auto location = http::find_header(started->headers, "Location");
  if (!location || location->empty()) {
    return std::unexpected(
        bad_body(start.url, "202 without a Location header for the upload of " + what));
  }
  auto target = http::resolve(start.url, *location);
  if (!target) {
    return std::unexpected(
        bad_body(start.url, "upload Location for " + what + ": " + target.error().message));
  }
  // Another origin gets the bytes but never our Authorization (fetch() sends it to the
  // registry's own origin only); plain HTTP is acceptable only where it is for the registry.
  if (!own_origin(*target) && target->scheme == "http" && !http::is_loopback(target->host) &&
      !endpoint.insecure) {
    return util::fail(ErrorKind::invalid_input,
                      label() + ": refusing to upload " + what + " to plain HTTP (" +
                          detail::origin_text(*target) + ", the upload Location)");
  }
  target->query +=
      std::string(target->query.empty() ? "" : "&") + "digest=" + http::percent_encode(digest);

  detail::Fetch put;
  put.method = "PUT";
  put.url = *target;
  put.repository = repository;
  put.push = true;
  put.redirects = detail::Redirects::none;
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.body = std::string(bytes);
  auto done = this->fetch(put);
  if (!done) {
    return std::unexpected(done.error());
  }
  if (done->status != 201) {
    return std::unexpected(status_error(*done, put.url, "PUT", what));
  }
  if (auto claimed = http::find_header(done->headers, "Docker-Content-Digest");
      claimed && *claimed != digest) {
    return std::unexpected(bad_body(put.url, "the registry stored " + what + " as \"" +
                                                 detail::excerpt(*claimed, 140) + "\""));
  }
  return {};
}

util::Result<std::string> Client::Impl::push_manifest(const std::string& repository,
                                                      std::string_view reference,
                                                      std::string_view media_type,
                                                      std::string_view bytes) {
  const bool by_digest = is_valid_digest(reference);
  if (!by_digest && !detail::valid_tag(reference)) {
    return util::fail(ErrorKind::invalid_input, "invalid tag or digest \"" +
                                                    detail::excerpt(reference, 140) + "\" for " +
                                                    label());
  }
  if (media_type.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      "cannot push a manifest to " + label() + " without a media type");
  }
  const std::string what =
      "manifest \"" + repository + (by_digest ? "@" : ":") + std::string(reference) + "\"";
  const std::string digest = sha256_digest(bytes);
  if (by_digest) {
    auto computed = digest_like(reference, bytes);
    if (!computed || *computed != reference) {
      return util::fail(ErrorKind::invalid_input,
                        "cannot push " + what + " to " + label() +
                            ": the content does not hash to the digest it is pushed under");
    }
  }
  detail::Fetch put;
  put.method = "PUT";
  put.url = url_for("/v2/" + repository + "/manifests/" + std::string(reference));
  put.repository = repository;
  put.push = true;
  put.redirects = detail::Redirects::none;
  put.headers.emplace_back("Content-Type", std::string(media_type));
  put.body = std::string(bytes);
  auto response = this->fetch(put);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status != 201 && response->status != 200) {
    return std::unexpected(status_error(*response, put.url, "PUT", what));
  }
  if (auto claimed = http::find_header(response->headers, "Docker-Content-Digest")) {
    auto computed = digest_like(*claimed, bytes);
    if (!computed || *computed != *claimed) {
      return std::unexpected(bad_body(put.url, "the registry stored " + what + " as \"" +
                                                   detail::excerpt(*claimed, 140) +
                                                   "\", which is not the digest of its content"));
    }
    return std::string(*claimed);
  }
  return digest;
}

util::Result<bool> Client::blob_exists(std::string_view repository, std::string_view digest) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  return m_impl->blob_exists(*repo, digest);
}

util::Result<void> Client::push_blob(std::string_view repository, std::string_view digest,
                                     std::string_view bytes) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  return m_impl->push_blob(*repo, digest, bytes);
}

util::Result<std::string> Client::push_manifest(std::string_view repository,
                                                std::string_view reference,
                                                std::string_view media_type,
                                                std::string_view bytes) {
  IU_TRY(m_impl->usable());
  auto repo = m_impl->repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  return m_impl->push_manifest(*repo, reference, media_type, bytes);
}

} // namespace common::registry
