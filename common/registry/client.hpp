// The OCI distribution client: tags, manifests, digests and build times from one registry
// endpoint, over the narrow http::Client interface. It handles what the anchors do not: tag
// list pagination (Link headers, relative or absolute, never to another origin), 429/503 with
// Retry-After, backoff with jitter on 5xx and transient errors, a per-endpoint rate limit on
// every request (token requests included), Basic and Bearer token auth with a token cache, and
// blob redirects that never carry the registry's Authorization to another host.
//
// Thread-safety: every operation may be called concurrently on one Client (the token cache, the
// rate limiter and the jitter source are locked); the http::Client must be thread-safe too.
// Make one Client per (endpoint, credential) and keep it: the token cache and the rate limit
// live in it (share a RateLimiter through ClientOptions when several Clients use one endpoint).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/credentials/credential.hpp"
#include "common/http/client.hpp"
#include "common/image/platform.hpp"
#include "common/registry/endpoint.hpp"
#include "common/registry/ratelimit.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"
#include "common/util/time.hpp"

namespace common::registry {

inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";

// The Accept header sent for manifests: all four types above (distribution 2.8 answers 404 to
// an OCI manifest, and down-converts a manifest list to schema 1, without it).
std::string manifest_accept();

struct ClientOptions {
  int max_retries = 3; // retries after the first attempt, for transient errors, 5xx and 429
  std::chrono::milliseconds backoff_base{500}; // first retry delay, doubling each retry
  std::chrono::milliseconds backoff_max{30'000};
  double jitter = 0.2;           // up to this fraction of each backoff is removed at random
  std::uint64_t jitter_seed = 0; // 0 = seeded from std::random_device
  std::chrono::seconds max_retry_after{60}; // a longer Retry-After fails at once (transient)
  int page_size = 1000;           // tags/list ?n= (1000 is distribution 3's maximum); 0 = omit n
  int max_pages = 100;            // more pages fail with too_large, never a silent cut
  std::size_t max_tags = 100'000; // more tags fail with too_large
  int max_redirects = 5;
  http::Limits limits; // per request: timeouts and the body size cap
  // An absolute end for every operation (the steady clock of the Client's util::Clock), for a
  // run that must finish in time (the plugin under Argo CD's timeout). Requests get at most the
  // time left as their timeouts; no retry is started, and no Retry-After or backoff waited for,
  // that would end after it. Passing it fails with transient ("deadline ... reached"). None by
  // default: the per-request limits and retries bound each operation on their own.
  std::string user_agent = "imageupdater";
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Shared per-endpoint limiter; null = this Client makes its own from Endpoint::rate_limit.
  std::shared_ptr<RateLimiter> rate_limiter;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::int64_t size = 0;
  std::optional<image::Platform> platform; // index children that declare one
};

struct Manifest {
  std::string media_type;           // the body's mediaType, else the Content-Type header
  std::string digest;               // verified: equals the hash of `bytes`
  std::string bytes;                // exactly as served
  std::vector<Descriptor> children; // an index or manifest list, in document order
  std::optional<Descriptor> config; // an image manifest

  bool is_index() const noexcept;
};

// What newest-build needs about one tag.
struct BuildInfo {
  util::Timestamp created;
  std::string digest;   // the tag's manifest digest (the index digest for multi-arch)
  std::string platform; // the chosen platform ("linux/arm64/v8"), "" when the image names none
};

// Checks that the endpoint may be used: api_url is an http(s) URL without credentials, and
// plain http only for a loopback host or an endpoint marked insecure. Fails (invalid_input)
// saying how to mark the registry insecure.
util::Result<void> check_endpoint(const Endpoint& endpoint);

class Client {
public:
  // `http` and `clock` must outlive the Client. A credential is sent only to the endpoint's own
  // origin (Basic) and to its token service (https or loopback only); an empty one is none.
  // An endpoint failing check_endpoint() makes every operation fail with that error.
  Client(Endpoint endpoint, http::Client& http, util::Clock& clock,
         std::optional<credentials::Credential> credential, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Endpoint& endpoint() const noexcept;

  // Repositories are as in image::Reference ("library/nginx"); a one-component name gets the
  // endpoint's default_ns ("nginx" -> "library/nginx" on Docker Hub). Every operation fails with
  // invalid_input on a malformed repository, tag or digest; auth (401/403, with which registry,
  // which repository and whether credentials were sent), not_found (404), transient (5xx, 429,
  // timeouts after the retries; rate limits beyond max_retry_after), too_large (body cap,
  // pages, tags, redirects) or invalid_input (garbage JSON, digest mismatch, a redirect or
  // pagination link to another origin or to plain http) naming the registry and the URL.

  // All tags in registry order, following `Link: <...>; rel="next"`.
  util::Result<std::vector<std::string>> list_tags(std::string_view repository);

  // The manifest or index under a tag or digest; the digest is checked against the bytes
  // (and against the reference when it is a digest). Schema 1 fails with unsupported.
  util::Result<Manifest> get_manifest(std::string_view repository, std::string_view reference);

  // The tag's digest from a HEAD request (GET and hash when the header is missing).
  util::Result<std::string> head_digest(std::string_view repository, std::string_view tag);

  // The `created` time of an image config blob (redirects followed, the blob's hash checked).
  // Fails with not_found when the config has no `created`.
  util::Result<util::Timestamp> get_config_created(std::string_view repository,
                                                   std::string_view config_digest);

  // newest-build metadata of a tag. For an index: the children matching any of `platforms`
  // (image::matches; an empty list matches every child whose os is not "unknown"), newest
  // created among them; none matching fails (not_found) listing the platforms there are. For a
  // single image, a config whose os/architecture match none of `platforms` fails the same way.
  util::Result<BuildInfo> created_for(std::string_view repository, std::string_view tag,
                                      const std::vector<image::Platform>& platforms);

  // The digest strategy's value: "tag@sha256:..." (the index digest for multi-arch).
  util::Result<std::string> digest_for(std::string_view repository, std::string_view tag);

  // ---- pushing (OCI distribution spec, "push"). These ask the token service for
  // "repository:<name>:pull,push" (reads above keep asking for pull only) and fail like the
  // reads, plus auth when the credentials do not allow pushing (403, or a token without push).

  // Whether the repository has the blob: HEAD /v2/<name>/blobs/<digest> (200 yes, 404 no;
  // redirects to blob storage followed without our Authorization).
  util::Result<bool> blob_exists(std::string_view repository, std::string_view digest);

  // Uploads a blob monolithically: POST /v2/<name>/blobs/uploads/ (202 and a Location,
  // relative or absolute), then PUT <Location>[?|&]digest=<digest> with the bytes (201). The
  // digest is checked against the bytes before anything is sent (invalid_input on a mismatch).
  // An upload Location on another origin gets no Authorization (and must be https or loopback
  // unless the endpoint is insecure); a Docker-Content-Digest answered must equal the digest.
  util::Result<void> push_blob(std::string_view repository, std::string_view digest,
                               std::string_view bytes);

  // PUT /v2/<name>/manifests/<tag or digest> with Content-Type `media_type` (201); returns the
  // manifest's digest (sha256 of the bytes; a Docker-Content-Digest answered must equal it, a
  // digest reference too). The blobs it names must have been pushed first (the registry answers
  // 400 MANIFEST_BLOB_UNKNOWN otherwise: invalid_input).
  util::Result<std::string> push_manifest(std::string_view repository, std::string_view reference,
                                          std::string_view media_type, std::string_view bytes);

  struct Impl;

private:
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::registry
