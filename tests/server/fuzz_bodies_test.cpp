// Fuzzed request bodies never crash `serve`: a few thousand mutated or random bodies (random
// bytes, truncated and bit-flipped JSON, deep nesting, huge numbers, invalid UTF-8, YAML alias
// bombs, wrong field types, odd and wrong content types, chunked transfer) go to every route with
// every method over real HTTP, from a fixed PRNG seed. Each reply must be a well-formed HTTP
// response (status line, headers, a Content-Length the body matches) with a status the API can
// give for a client's mistake, errors must be Kubernetes Status objects, and the server must
// still answer GET /healthz and not have exited at the end.
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/client.hpp"
#include "tests/server/raw_http.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using nlohmann::json;
using server_test::exchange;
using server_test::loopback_updater;
using server_test::RawReply;
using server_test::Service;

const std::string k_prefix = "/kapis/gitops.kubesphere.io/v1alpha1";
const std::string k_items = k_prefix + "/namespaces/demo/imageupdaters";
constexpr int k_requests = 4000;
constexpr std::uint64_t k_seed = 0x5eed'0006'2024ULL;

// ---- request generation (deterministic: only rng() % n, no distributions) ----

class Gen {
public:
  explicit Gen(std::uint64_t seed) : m_rng(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(m_rng() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  std::string random_bytes(std::size_t max) {
    std::string s(below(max + 1), '\0');
    for (char& c : s) {
      c = static_cast<char>(below(256));
    }
    return s;
  }

  // Flips, inserts, deletes and duplicates bytes of `s`.
  std::string mutate(std::string s) {
    const std::size_t edits = 1 + below(8);
    static const std::string interesting = "{}[]\":,\\ \n\t0-1e.&*!|>%@`'#?\xff\xc0\x80";
    for (std::size_t i = 0; i < edits && !s.empty(); ++i) {
      const std::size_t at = below(s.size());
      switch (below(5)) {
      case 0:
        s[at] = static_cast<char>(s[at] ^ (1 << below(8)));
        break;
      case 1:
        s.insert(at, 1, interesting[below(interesting.size())]);
        break;
      case 2:
        s.erase(at, 1 + below(8));
        break;
      case 3:
        s.insert(at, s.substr(below(s.size()), below(64)));
        break;
      default:
        s[at] = static_cast<char>(below(256));
        break;
      }
    }
    return s;
  }

  std::string body(const std::string& resource_version, std::string& type) {
    type = "application/json";
    json base =
        loopback_updater(chance(70) ? "web" : "fuzz-" + std::to_string(below(20)),
                         static_cast<long long>(below(5)), chance(70) ? resource_version : "");
    switch (below(16)) {
    case 0:
      return base.dump();
    case 1:
      return random_bytes(chance(10) ? 20000 : 300);
    case 2: {
      const std::string text = base.dump();
      return text.substr(0, below(text.size()));
    }
    case 3:
    case 4:
      return mutate(base.dump(chance(30) ? 2 : -1));
    case 5:
      return deep();
    case 6:
      return huge_number(base);
    case 7:
      return bad_utf8(base);
    case 8:
      type = "application/yaml";
      return yaml();
    case 9:
      type = "application/yaml";
      return mutate(yaml());
    case 10:
      return wrong_types(base);
    case 11:
      return labels(base);
    case 12:
      return delete_options(resource_version);
    case 13:
      return pick<std::string>({"", " ", "\r\n\t ", "null", "0", "\"x\"", "[]", "{}", "true",
                                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", "\xef\xbb\xbf{}"});
    default:
      return base.dump();
    }
  }

  std::string deep() {
    // Under the 1 MiB limit: a larger body is refused before it is read (see RawReply).
    const bool object = chance(50);
    const std::size_t depth =
        pick<std::size_t>({50, 98, 99, 100, 101, 1000, object ? 20000u : 100000u});
    std::string open = object ? "{\"a\":" : "[";
    std::string close = object ? "}" : "]";
    std::string inner;
    for (std::size_t i = 0; i < depth; ++i) {
      inner += open;
    }
    inner += "1";
    if (chance(80)) {
      for (std::size_t i = 0; i < depth; ++i) {
        inner += close;
      }
    }
    if (chance(50)) {
      return inner;
    }
    // Inside an otherwise valid object, where the spec model reads it.
    return "{\"apiVersion\":\"gitops.kubesphere.io/v1alpha1\",\"kind\":\"ImageUpdater\","
           "\"metadata\":{\"name\":\"deep\"},\"spec\":{\"kind\":\"argocd\",\"images\":" +
           inner + ",\"argocd\":{\"app\":{\"name\":\"web\"}}}}";
  }

  std::string huge_number(json base) {
    const std::string number = pick<std::string>(
        {"1e999999", "-1e400", "123456789012345678901234567890123456789", "-9223372036854775809",
         "18446744073709551616", "1e-999999", "0.00000000000000000000000000000000000000001", "-0",
         "1E+308", std::string(5000, '9')});
    std::string text = base.dump();
    const std::vector<std::string> places = {"\"web\"", "\"argocd\"",
                                             "\"gitops.kubesphere.io/v1alpha1\""};
    const std::string& place = pick(places);
    if (auto at = text.find(place); at != std::string::npos) {
      text.replace(at, place.size(), number);
    }
    if (chance(50)) {
      text.insert(text.size() - 1, ",\"generation\":" + number);
    }
    return text;
  }

  std::string bad_utf8(json base) {
    const std::string junk =
        pick<std::string>({"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                           "\x80", "\\ud800", "\\udfff\\ud800", "\\u0000", "\xf0\x9f\x98\x80"});
    std::string text = base.dump();
    const std::vector<std::string> places = {"\"web\"", "app=127.0.0.1", "\"name\"", "argocd\""};
    const std::string& place = pick(places);
    if (auto at = text.find(place); at != std::string::npos) {
      text.insert(at + 1, junk);
    }
    return text;
  }

  std::string yaml() {
    switch (below(7)) {
    case 0: { // billion laughs
      std::string y = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
      char prev = 'a';
      for (char c = 'b'; c <= 'j'; ++c) {
        y += std::string(1, c) + ": &" + c + " [*" + prev + ",*" + prev + ",*" + prev + ",*" +
             prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n";
        prev = c;
      }
      return y + "spec: *j\n";
    }
    case 1: // anchors and aliases in a real object, merge keys
      return "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
             "metadata: &m {name: yaml-web, labels: &l {a: b}}\n"
             "spec:\n  kind: argocd\n  images: [&i \"app=127.0.0.1:9/demo/app:^1.0\"]\n"
             "  argocd: {app: {name: web}}\n  extra: {<<: *l, again: *i, meta: *m}\n";
    case 2: // an alias before its anchor, a self-referencing anchor
      return pick<std::string>({"a: *x\nb: &x 1\n", "&a [*a]\n", "&a {k: *a}\n"});
    case 3: // tags, complex keys, several documents
      return pick<std::string>({"!!binary aGVsbG8=\n", "!!python/object:os.system [ls]\n",
                                "? [a, b]\n: c\n", "a: 1\n---\nb: 2\n", "--- |\n  text\n",
                                "a: 1\na: 2\n", ",\n", "{a: [}\n", "- - - - - - -\n"});
    case 4: { // deep
      std::string y;
      const std::size_t depth = pick<std::size_t>({99, 101, 5000});
      for (std::size_t i = 0; i < depth; ++i) {
        y += chance(50) ? "[" : "{a: ";
      }
      return y;
    }
    case 5: { // many nodes
      std::string y = "spec:\n  images:\n";
      for (int i = 0; i < 3000; ++i) {
        y += "  - x" + std::to_string(i) + "\n";
      }
      return y;
    }
    default:
      return "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
             "metadata: {name: yaml-" +
             std::to_string(below(5)) +
             "}\nspec:\n  kind: argocd\n  images: [\"app=127.0.0.1:9/demo/app:^1.0\"]\n"
             "  argocd: {app: {name: web}}\n";
    }
  }

  std::string wrong_types(json base) {
    const std::vector<json> values = {json::array(), json::object(), 1,      -1.5,
                                      true,          nullptr,        "text", json::array({1, 2}),
                                      json{{"a", 1}}};
    const json& v = pick(values);
    switch (below(10)) {
    case 0:
      base["metadata"] = v;
      break;
    case 1:
      base["metadata"]["name"] = v;
      break;
    case 2:
      base["metadata"]["resourceVersion"] = v;
      break;
    case 3:
      base["metadata"]["labels"] = v;
      break;
    case 4:
      base["spec"] = v;
      break;
    case 5:
      base["spec"]["images"] = v;
      break;
    case 6:
      base["apiVersion"] = v;
      break;
    case 7:
      base["kind"] = v;
      break;
    case 8:
      base["metadata"]["namespace"] = v;
      break;
    default:
      base["status"] = v;
      break;
    }
    return base.dump();
  }

  std::string labels(json base) {
    const std::vector<std::string> keys = {"a",
                                           "",
                                           "a/b",
                                           "/b",
                                           "a/",
                                           "example.com/x",
                                           std::string(64, 'k'),
                                           std::string(254, 'p') + "/k",
                                           "UP/x",
                                           "-x",
                                           "a b",
                                           "\\u00e9"};
    const std::vector<std::string> values = {"", "v", std::string(64, 'v'), "-v", "a b", "a_b.c"};
    json map = json::object();
    for (std::size_t i = 0, n = 1 + below(3); i < n; ++i) {
      map[pick(keys)] = pick(values);
    }
    base["metadata"][chance(50) ? "labels" : "annotations"] = map;
    return base.dump();
  }

  std::string delete_options(const std::string& resource_version) {
    const std::vector<json> values = {resource_version, "1",           "", 7, nullptr,
                                      json::array(),    json::object()};
    switch (below(4)) {
    case 0:
      return json{{"preconditions", {{"resourceVersion", pick(values)}}}}.dump();
    case 1:
      return json{{"preconditions", pick(values)}}.dump();
    case 2:
      return json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}.dump();
    default:
      return json::array().dump();
    }
  }

  std::string content_type() {
    return pick<std::string>({"application/json; charset=utf-8", "APPLICATION/JSON",
                              "application/yaml", "application/x-yaml", "text/plain", "",
                              "application/merge-patch+json", "multipart/form-data; boundary=x",
                              " application/json ;;", "application/json;charset=\"latin1\"", "*/*",
                              ";"});
  }

  // Random query strings for the list routes: percent-encoded junk included.
  std::string query() {
    static const std::string hex = "0123456789ABCDEF";
    std::string junk;
    for (std::size_t i = 0, n = below(12); i < n; ++i) {
      const auto byte = static_cast<unsigned char>(below(256));
      junk += '%';
      junk += hex[byte >> 4];
      junk += hex[byte & 15];
    }
    return pick<std::string>({"?limit=1", "?limit=-1", "?limit=abc", "?limit=99999999999999999999",
                              "?continue=" + junk, "?continue=eyJ2IjoxfQ", "?labelSelector=" + junk,
                              "?labelSelector=a%20in%20(b", "?labelSelector=!a,b!=c,d%20notin%20()",
                              "?limit=2&continue=", "?%zz=1", "?limit=1&limit=2", "?" + junk});
  }

private:
  std::mt19937_64 m_rng;
};

std::string encode(const std::string& method, const std::string& target, const std::string& body,
                   const std::string* type, bool chunked, Gen& gen) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (type != nullptr) {
    r += "Content-Type: " + *type + "\r\n";
  }
  if (!chunked) {
    // Without a length only where Poco takes that as an empty body (see the test at the end).
    if (!body.empty() || (method != "GET" && method != "HEAD" && method != "DELETE")) {
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return r + "\r\n" + body;
  }
  r += "Transfer-Encoding: chunked\r\n\r\n";
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t n = std::min(body.size() - at, 1 + gen.below(gen.chance(50) ? 7 : 4000));
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    r += size + body.substr(at, n) + "\r\n";
    at += n;
  }
  return r + "0\r\n\r\n";
}

TEST(ServeFuzzTest, FuzzedBodiesNeverCrashTheServer) {
  test_support::TempDir dir;
  Service service(dir.path() + "/data", dir.path());
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();

  const std::set<int> allowed = {200, 201, 400, 404, 405, 409, 413, 415, 422};
  const std::vector<std::string> routes = {k_prefix + "/imageupdaters",
                                           k_items,
                                           k_items + "/web",
                                           k_items + "/missing",
                                           k_items + "/",
                                           k_items + "/web/extra",
                                           k_prefix + "/namespaces/Bad_NS/imageupdaters",
                                           k_prefix + "/namespaces/demo/imageupdaters/Bad..Name",
                                           k_prefix + "/namespaces/" + std::string(64, 'n') +
                                               "/imageupdaters/web",
                                           k_prefix + "/namespaces/demo/imageupdaters/%2e%2e",
                                           "/openapi.json",
                                           "/healthz",
                                           "/no/such/route"};
  const std::vector<std::string> methods = {"GET",   "POST", "PUT",    "DELETE",
                                            "PATCH", "HEAD", "OPTIONS"};
  Gen gen(k_seed);
  std::map<int, int> seen;
  std::string version;
  int failures = 0;

  // `route` is the target without its query string.
  const auto check = [&](const std::string& method, const std::string& route,
                         const std::string& target, const std::string& request,
                         const RawReply& reply) {
    ++seen[reply.status];
    std::string why = reply.error;
    if (why.empty() && !allowed.contains(reply.status)) {
      why = "status " + std::to_string(reply.status);
    }
    const bool api = route != "/healthz";
    if (why.empty() && method != "HEAD" && api) {
      const json body = json::parse(reply.body, nullptr, false);
      const auto type = reply.headers.find("content-type");
      if (body.is_discarded() || !body.is_object()) {
        why = "the body is not a JSON object";
      } else if (type == reply.headers.end() || type->second != "application/json") {
        why = "Content-Type is not application/json";
      } else if (reply.status >= 400 &&
                 (body.value("kind", "") != "Status" || body.value("apiVersion", "") != "v1" ||
                  body.value("status", "") != "Failure" || body.value("code", 0) != reply.status ||
                  body.value("reason", "").empty() || !body.contains("message"))) {
        why = "not a Failure Status with code " + std::to_string(reply.status);
      }
    }
    if (!why.empty() && ++failures <= 20) {
      ADD_FAILURE() << method << " " << target << ": " << why
                    << "\nrequest: " << request.substr(0, 300)
                    << "\nreply: " << reply.body.substr(0, 300);
    }
  };

  // Keeps "web" present and its resourceVersion known, so PUT and DELETE reach the store.
  const auto refresh = [&] {
    const std::string target = k_items + "/web";
    const std::string type = "application/json";
    const std::string request =
        encode("POST", k_items, loopback_updater("web").dump(), &type, false, gen);
    check("POST", k_items, k_items, request, exchange(port, request, false));
    const std::string get = encode("GET", target, "", nullptr, false, gen);
    const RawReply got = exchange(port, get, false);
    check("GET", target, target, get, got);
    if (got.status == 200) {
      version = json::parse(got.body)["metadata"].value("resourceVersion", "");
    }
  };

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < k_requests; ++i) {
    if (i % 40 == 0) {
      refresh();
    }
    // Every route with every method in turn; every other request a write, so that bodies get
    // past routing into decoding, validation and the store.
    const std::size_t turn = static_cast<std::size_t>(i / 2);
    std::string route = routes[turn % routes.size()];
    std::string method = methods[(turn / routes.size()) % methods.size()];
    if (i % 2 == 1) {
      const std::size_t pick = gen.below(10);
      route = pick < 5 ? k_items : k_items + "/web";
      method = pick < 5 ? "POST" : pick < 9 ? "PUT" : "DELETE";
    }
    std::string target = route;
    if (gen.chance(15)) {
      target += gen.query();
    }
    std::string type;
    std::string body = gen.body(version, type);
    if (gen.chance(15)) {
      type = gen.content_type();
    }
    const bool typed = !gen.chance(5);
    // Health probes answer before reading a body; a body left unread there makes the kernel
    // reset the connection, which is not what this test is about.
    if (route == "/healthz" && (method == "GET" || method == "HEAD")) {
      body.clear();
    }
    std::string request;
    if (gen.chance(2)) { // a declared length over the limit, body not sent
      request = method + " " + target +
                " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                "Content-Length: 2000000\r\n\r\n";
    } else {
      request = encode(method, target, body, typed ? &type : nullptr, gen.chance(15), gen);
    }
    check(method, route, target, request, exchange(port, request, method == "HEAD"));
    if (!service.running()) {
      FAIL() << "serve exited after request " << i << " (" << method << " " << target
             << "), wait status " << service.exit_status() << "\n"
             << request.substr(0, 500) << "\n"
             << service.log();
    }
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);

  const RawReply health =
      exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok");
  EXPECT_TRUE(service.running()) << service.log();
  EXPECT_EQ(failures, 0);

  std::string histogram;
  for (const auto& [status, count] : seen) {
    histogram += " " + std::to_string(status) + ":" + std::to_string(count);
  }
  std::printf("fuzzed %d requests in %lld ms, statuses%s\n", k_requests,
              static_cast<long long>(elapsed.count()), histogram.c_str());
  // The generator reaches every layer: routing, media types, decoding, validation, the store.
  for (int status : {200, 201, 400, 404, 405, 409, 413, 415, 422}) {
    EXPECT_GT(seen[status], 0) << "no " << status << " reply:" << histogram;
  }
}

} // namespace
