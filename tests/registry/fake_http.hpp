// A scripted http::Client for the registry tests: routes (method + exact URL) answer with
// queued responses (the last one repeats) or a handler; every request is recorded with its
// headers and the (fake) time it was sent, so tests can assert on what went over the wire.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/client.hpp"
#include "common/image/platform.hpp"
#include "common/registry/client.hpp"
#include "common/registry/endpoint.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::registry::testing {

struct Sent {
  http::Request request;
  std::chrono::steady_clock::time_point at;
  http::Limits limits;
};

class FakeHttp final : public http::Client {
public:
  using Handler = std::function<util::Result<http::Response>(const http::Request&)>;

  explicit FakeHttp(util::Clock& clock) : m_clock(clock) {}

  // Queues a response for `method url`; once the queue is down to one, that one repeats.
  FakeHttp& on(const std::string& method, const std::string& url, http::Response response);
  // Queues a transport error (timeout, reset...) for `method url`.
  FakeHttp& fail(const std::string& method, const std::string& url, util::Error error);
  // Answers `method url` with a handler (replaces the queue).
  FakeHttp& handle(const std::string& method, const std::string& url, Handler handler);

  util::Result<http::Response> send(const http::Request& request,
                                    const http::Limits& limits) override;

  std::vector<Sent> sent() const;
  // Requests whose URL starts with `url_prefix` (and method, when given).
  std::size_t count(std::string_view url_prefix, std::string_view method = "") const;
  // The requests that matched no route.
  std::vector<std::string> unmatched() const;

private:
  using Step = util::Result<http::Response>;
  util::Clock& m_clock;
  mutable std::mutex m_mutex;
  std::map<std::string, std::vector<Step>> m_queues;
  std::map<std::string, Handler> m_handlers;
  std::vector<Sent> m_sent;
  std::vector<std::string> m_unmatched;
};

// The value of the first header named `name` (case-insensitive).
std::optional<std::string> header(const http::Headers& headers, std::string_view name);

http::Response response(int status, std::string body = "", http::Headers headers = {});

// Test images: a config with `created` and a platform, the manifest naming it, and digests.
struct TestImage {
  std::string config;
  std::string config_digest;
  std::string manifest;
  std::string digest;
};
TestImage make_image(const std::string& created, const image::Platform& platform,
                     bool docker_media_types = false);
// An OCI index (or Docker manifest list) of `children`, each with its platform.
std::string make_index(const std::vector<std::pair<TestImage, image::Platform>>& children,
                       bool docker_media_types = false);

// Serves a manifest under GET and HEAD at base/v2/repo/manifests/ref with Content-Type and
// Docker-Content-Digest (omitted when `with_digest` is false).
void serve_manifest(FakeHttp& fake, const std::string& base, const std::string& repo,
                    const std::string& ref, const std::string& body, const std::string& media_type,
                    bool with_digest = true);
void serve_blob(FakeHttp& fake, const std::string& base, const std::string& repo,
                const std::string& digest, const std::string& body);
// serve_manifest for the image under `ref` and its digest, and its config blob.
void serve_image(FakeHttp& fake, const std::string& base, const std::string& repo,
                 const std::string& ref, const TestImage& image);

inline constexpr const char* k_base = "https://registry.example";

// An endpoint at k_base without rate limit, and options without jitter and with page size 100.
Endpoint test_endpoint(const std::string& api_url = k_base);
ClientOptions test_options();

} // namespace common::registry::testing
