// libFuzzer entry point for the REST API's handlers (common::api::ImageUpdaterApi::handle) over
// an in-memory store holding one object (demo/web, resourceVersion "1"). The first bytes choose
// the request, the rest is its body:
//
//   byte 0: method (GET POST PUT DELETE PATCH HEAD)      byte 2: Content-Type
//   byte 1: route                                        byte 3: query parameter (0 = none)
//   then, with a query parameter, its value up to the first '\n'; the rest is the body.
//
// Whatever the bytes: handle() returns (it must never throw), with a status a client's mistake
// can cause (never 500: that is an exception inside the handlers), a JSON body, a Kubernetes
// Status for every error; and whatever a write stored can be read back and listed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"

namespace {

using namespace common;

// The store's contract without SQLite (unlike tests/support/fake_store.hpp), paging with the real
// continue tokens so that their decoding is fuzzed too.
class MemoryStore final : public store::Store {
public:
  util::Result<store::Object> create(store::Object o) override {
    if (m_objects.contains(o.key)) {
      return util::fail(util::ErrorKind::conflict, "exists");
    }
    o.uid = "uid-" + std::to_string(++m_uids);
    o.resource_version = std::to_string(++m_version);
    o.generation = 1;
    o.creation_timestamp = "2023-11-14T22:13:20Z";
    o.status_json = "{}";
    m_objects[o.key] = o;
    return o;
  }
  util::Result<store::Object> get(const store::Key& key) override {
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    return it->second;
  }
  util::Result<store::Page> list(const std::string& ns,
                                 const store::ListOptions& options) override {
    std::optional<store::Key> after;
    if (!options.continue_token.empty()) {
      auto key = store::decode_continue(options.continue_token);
      if (!key) {
        return std::unexpected(key.error());
      }
      after = *key;
    }
    store::Page page;
    page.resource_version = std::to_string(m_version);
    for (const auto& [key, o] : m_objects) {
      if ((!ns.empty() && key.namespace_ != ns) || (after && key <= *after) ||
          !store::matches(options.selector, o.labels)) {
        continue;
      }
      if (options.limit != 0 && page.items.size() == options.limit) {
        page.continue_token = store::encode_continue(page.items.back().key);
        break;
      }
      page.items.push_back(o);
    }
    return page;
  }
  util::Result<store::Object> replace(const store::Object& o) override {
    auto it = m_objects.find(o.key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (o.resource_version.empty()) {
      return util::fail(util::ErrorKind::invalid_input, "no version");
    }
    if (o.resource_version != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    store::Object& s = it->second;
    if (s.spec_json != o.spec_json || s.labels != o.labels || s.annotations != o.annotations) {
      ++s.generation;
    }
    s.spec_json = o.spec_json;
    s.labels = o.labels;
    s.annotations = o.annotations;
    s.resource_version = std::to_string(++m_version);
    return s;
  }
  util::Result<store::Object> replace_status(const store::Key& key, const std::string& rv,
                                             const std::string& status_json) override {
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (rv != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    it->second.status_json = status_json;
    it->second.resource_version = std::to_string(++m_version);
    return it->second;
  }
  util::Result<void> remove(const store::Key& key, const std::string& rv) override {
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (!rv.empty() && rv != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    m_objects.erase(it);
    return {};
  }

private:
  std::map<store::Key, store::Object> m_objects;
  int m_version = 0;
  int m_uids = 0;
};

const std::string k_prefix(api::k_api_prefix);
const std::string k_items = k_prefix + "/namespaces/demo/imageupdaters";

constexpr std::string_view k_seed_object =
    R"({"apiVersion":"gitops.kubesphere.io/v1alpha1","kind":"ImageUpdater",)"
    R"("metadata":{"name":"web","labels":{"app":"web"}},"spec":{"kind":"argocd",)"
    R"("images":["app=127.0.0.1:9/demo/app:^1.0"],"argocd":{"app":{"name":"web"}}}})";

api::HttpRequest request(std::string method, std::string path, std::string body = "",
                         std::string type = "application/json") {
  api::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  if (!type.empty()) {
    r.headers.emplace_back("Content-Type", std::move(type));
  }
  return r;
}

// The invariants of every reply; aborts (a finding) when one is broken.
void check(const api::HttpResponse& r) {
  switch (r.status) {
  case 200:
  case 201:
  case 400:
  case 404:
  case 405:
  case 409:
  case 413:
  case 415:
  case 422:
    break;
  default:
    std::fprintf(stderr, "status %d: %s\n", r.status, r.body.c_str());
    std::abort();
  }
  if (r.content_type != "application/json") {
    std::abort();
  }
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    std::fprintf(stderr, "not a JSON object: %s\n", r.body.c_str());
    std::abort();
  }
  if (r.status >= 400 &&
      (body.value("kind", "") != "Status" || body.value("code", 0) != r.status ||
       body.value("reason", "").empty() || body.value("status", "") != "Failure")) {
    std::fprintf(stderr, "not a Status: %s\n", r.body.c_str());
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
  static const std::string routes[] = {k_items,
                                       k_items + "/web",
                                       k_items + "/other",
                                       k_prefix + "/imageupdaters",
                                       k_prefix + "/namespaces/other/imageupdaters",
                                       k_prefix + "/namespaces/other/imageupdaters/web",
                                       k_prefix + "/namespaces/Bad_NS/imageupdaters",
                                       k_items + "/Bad..Name",
                                       k_items + "/",
                                       std::string(api::k_openapi_path)};
  static const char* const types[] = {
      "application/json",       "application/yaml", "application/json; charset=utf-8",
      " Application/YAML ;x=y", "text/plain",       ""};
  static const char* const queries[] = {"", "limit", "continue", "labelSelector"};
  if (size < 4) {
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);

  util::FakeClock clock;
  MemoryStore store;
  api::Options options;
  options.max_body_bytes = 64 * 1024;
  options.max_list_limit = 2;
  api::ImageUpdaterApi api(store, clock, options);
  if (api.handle(request("POST", k_items, std::string(k_seed_object))).status != 201) {
    std::abort();
  }

  api::HttpRequest r =
      request(methods[data[0] % std::size(methods)], routes[data[1] % std::size(routes)], "",
              types[data[2] % std::size(types)]);
  if (const char* q = queries[data[3] % std::size(queries)]; *q != '\0') {
    const auto newline = rest.find('\n');
    r.query[q] = std::string(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  }
  r.body = std::string(rest);
  check(api.handle(r));

  // Whatever was stored reads back and lists (to_json of the stored texts), page by page.
  check(api.handle(request("GET", k_items + "/web")));
  std::string token;
  for (int page = 0; page < 10; ++page) {
    api::HttpRequest list = request("GET", k_prefix + "/imageupdaters");
    list.query["limit"] = "1";
    if (!token.empty()) {
      list.query["continue"] = token;
    }
    const api::HttpResponse listed = api.handle(list);
    check(listed);
    if (listed.status != 200) {
      std::abort();
    }
    token = nlohmann::json::parse(listed.body)["metadata"].value("continue", "");
    if (token.empty()) {
      break;
    }
  }
  return 0;
}
