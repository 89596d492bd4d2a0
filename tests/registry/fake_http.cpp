#include "tests/registry/fake_http.hpp"

#include <cctype>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/image/digest.hpp"
#include "common/registry/client.hpp"

namespace common::registry::testing {

using image::sha256_digest;

namespace {

std::string key(const std::string& method, const std::string& url) {
  return method + " " + url;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

} // namespace

FakeHttp& FakeHttp::on(const std::string& method, const std::string& url, http::Response response) {
  std::lock_guard lock(m_mutex);
  m_queues[key(method, url)].emplace_back(std::move(response));
  return *this;
}

FakeHttp& FakeHttp::fail(const std::string& method, const std::string& url, util::Error error) {
  std::lock_guard lock(m_mutex);
  m_queues[key(method, url)].emplace_back(std::unexpected(std::move(error)));
  return *this;
}

FakeHttp& FakeHttp::handle(const std::string& method, const std::string& url, Handler handler) {
  std::lock_guard lock(m_mutex);
  m_handlers[key(method, url)] = std::move(handler);
  return *this;
}

util::Result<http::Response> FakeHttp::send(const http::Request& request,
                                            const http::Limits& limits) {
  Handler handler;
  {
    std::lock_guard lock(m_mutex);
    m_sent.push_back(Sent{request, m_clock.steady_now(), limits});
    const std::string k = key(request.method, request.url);
    if (auto it = m_handlers.find(k); it != m_handlers.end()) {
      handler = it->second;
    } else if (auto q = m_queues.find(k); q != m_queues.end() && !q->second.empty()) {
      Step step = q->second.front();
      if (q->second.size() > 1) {
        q->second.erase(q->second.begin());
      }
      if (step && step->body.size() > limits.max_body) {
        return util::fail(util::ErrorKind::too_large, "body over the limit");
      }
      if (step && request.method == "HEAD") {
        step->body.clear();
      }
      return step;
    } else {
      m_unmatched.push_back(k);
      return response(404, R"({"errors":[{"code":"NOT_SCRIPTED","message":"no route"}]})");
    }
  }
  return handler(request);
}

std::vector<Sent> FakeHttp::sent() const {
  std::lock_guard lock(m_mutex);
  return m_sent;
}

std::size_t FakeHttp::count(std::string_view url_prefix, std::string_view method) const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const Sent& s : m_sent) {
    if (s.request.url.starts_with(url_prefix) && (method.empty() || s.request.method == method)) {
      ++n;
    }
  }
  return n;
}

std::vector<std::string> FakeHttp::unmatched() const {
  std::lock_guard lock(m_mutex);
  return m_unmatched;
}

std::optional<std::string> header(const http::Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      return v;
    }
  }
  return std::nullopt;
}

http::Response response(int status, std::string body, http::Headers headers) {
  return http::Response{status, std::move(headers), std::move(body)};
}

TestImage make_image(const std::string& created, const image::Platform& platform,
                     bool docker_media_types) {
  TestImage out;
  nlohmann::json config = {{"architecture", platform.arch},
                           {"os", platform.os},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
  if (!platform.variant.empty()) {
    config["variant"] = platform.variant;
  }
  if (!created.empty()) {
    config["created"] = created;
  }
  out.config = config.dump();
  out.config_digest = sha256_digest(out.config);
  const nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", docker_media_types ? k_docker_manifest : k_oci_manifest},
      {"config",
       {{"mediaType", docker_media_types ? "application/vnd.docker.container.image.v1+json"
                                         : "application/vnd.oci.image.config.v1+json"},
        {"digest", out.config_digest},
        {"size", out.config.size()}}},
      {"layers", nlohmann::json::array()}};
  out.manifest = manifest.dump();
  out.digest = sha256_digest(out.manifest);
  return out;
}

std::string make_index(const std::vector<std::pair<TestImage, image::Platform>>& children,
                       bool docker_media_types) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [image, platform] : children) {
    nlohmann::json p = {{"os", platform.os}, {"architecture", platform.arch}};
    if (!platform.variant.empty()) {
      p["variant"] = platform.variant;
    }
    list.push_back({{"mediaType", docker_media_types ? k_docker_manifest : k_oci_manifest},
                    {"digest", image.digest},
                    {"size", image.manifest.size()},
                    {"platform", p}});
  }
  return nlohmann::json{{"schemaVersion", 2},
                        {"mediaType", docker_media_types ? k_docker_list : k_oci_index},
                        {"manifests", list}}
      .dump();
}

void serve_manifest(FakeHttp& fake, const std::string& base, const std::string& repo,
                    const std::string& ref, const std::string& body, const std::string& media_type,
                    bool with_digest) {
  http::Headers headers{{"Content-Type", media_type}};
  if (with_digest) {
    headers.emplace_back("Docker-Content-Digest", sha256_digest(body));
  }
  const std::string url = base + "/v2/" + repo + "/manifests/" + ref;
  fake.on("GET", url, response(200, body, headers));
  fake.on("HEAD", url, response(200, "", headers));
}

void serve_blob(FakeHttp& fake, const std::string& base, const std::string& repo,
                const std::string& digest, const std::string& body) {
  fake.on("GET", base + "/v2/" + repo + "/blobs/" + digest,
          response(200, body, {{"Content-Type", "application/octet-stream"}}));
}

void serve_image(FakeHttp& fake, const std::string& base, const std::string& repo,
                 const std::string& ref, const TestImage& image) {
  const std::string type(image.manifest.find(k_docker_manifest) != std::string::npos
                             ? k_docker_manifest
                             : k_oci_manifest);
  serve_manifest(fake, base, repo, ref, image.manifest, type);
  serve_manifest(fake, base, repo, image.digest, image.manifest, type);
  serve_blob(fake, base, repo, image.config_digest, image.config);
}

Endpoint test_endpoint(const std::string& api_url) {
  Endpoint e;
  e.name = "test";
  e.prefix = "registry.example";
  e.api_url = api_url;
  e.rate_limit = 0;
  return e;
}

ClientOptions test_options() {
  ClientOptions o;
  o.jitter = 0;
  o.page_size = 100;
  return o;
}

} // namespace common::registry::testing
