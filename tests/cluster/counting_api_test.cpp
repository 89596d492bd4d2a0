// CountingApi: every verb counted by verb, resource (with the subresource) and result.
#include <gtest/gtest.h>

#include "common/cluster/counting_api.hpp"

#include "tests/support/fake_kube.hpp"

namespace {

using tests::FakeApi;
namespace cluster = common::cluster;
namespace kube = common::kube;
namespace metrics = common::metrics;
using common::util::ErrorKind;

// The value of one series in the exposition; -1 when absent.
double series(const metrics::Registry& registry, const std::string& verb,
              const std::string& resource, const std::string& result) {
  const std::string prefix = "imageupdater_kube_requests_total{verb=\"" + verb + "\",resource=\"" +
                             resource + "\",result=\"" + result + "\"} ";
  const std::string text = registry.expose();
  auto at = text.find(prefix);
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(text.substr(at + prefix.size()));
}

TEST(CountingApi, CountsEveryVerbByResourceAndResult) {
  FakeApi fake;
  metrics::Registry registry;
  cluster::CountingApi api(fake, cluster::CountingApi::register_counter(registry));
  const auto iu = kube::imageupdaters();
  const std::string cr =
      R"({"apiVersion":"gitops.kubesphere.io/v1alpha1","kind":"ImageUpdater","metadata":{"name":"web"},"spec":{}})";
  ASSERT_TRUE(api.create(iu, "apps", cr));
  EXPECT_FALSE(api.create(iu, "apps", cr)); // exists: conflict
  ASSERT_TRUE(api.get(iu, "apps", "web"));
  ASSERT_TRUE(api.get(iu, "apps", "web"));
  EXPECT_FALSE(api.get(iu, "apps", "nope"));
  ASSERT_TRUE(api.list(iu, "", {}));
  ASSERT_TRUE(api.update(iu, "apps", "web", cr));
  ASSERT_TRUE(api.update(iu, "apps", "web", R"({"status":{"observedGeneration":1}})", "status"));
  ASSERT_TRUE(
      api.patch(iu, "apps", "web", kube::PatchType::merge, R"({"metadata":{"labels":{"a":"b"}}})"));
  fake.fail_next(FakeApi::Verb::patch, {ErrorKind::transient, "timeout"});
  EXPECT_FALSE(api.patch(iu, "apps", "web", kube::PatchType::merge, "{}", "status"));
  auto watch = api.watch(iu, "", {});
  ASSERT_TRUE(watch);
  fake.fail_next(FakeApi::Verb::watch, {ErrorKind::gone, "too old"});
  EXPECT_FALSE(api.watch(iu, "", {}));
  ASSERT_TRUE(api.remove(iu, "apps", "web"));
  EXPECT_FALSE(api.remove(iu, "apps", "web"));
  ASSERT_TRUE(api.create(
      kube::leases(), "system",
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"}})"));

  struct Case {
    const char* verb;
    const char* resource;
    const char* result;
    double value;
  };
  const Case cases[] = {
      {"create", "imageupdaters", "ok", 1},
      {"create", "imageupdaters", "conflict", 1},
      {"get", "imageupdaters", "ok", 2},
      {"get", "imageupdaters", "not_found", 1},
      {"list", "imageupdaters", "ok", 1},
      {"update", "imageupdaters", "ok", 1},
      {"update", "imageupdaters/status", "ok", 1},
      {"patch", "imageupdaters", "ok", 1},
      {"patch", "imageupdaters/status", "transient", 1},
      {"watch", "imageupdaters", "ok", 1},
      {"watch", "imageupdaters", "gone", 1},
      {"delete", "imageupdaters", "ok", 1},
      {"delete", "imageupdaters", "not_found", 1},
      {"create", "leases", "ok", 1},
      {"get", "leases", "ok", -1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(series(registry, c.verb, c.resource, c.result), c.value)
        << c.verb << " " << c.resource << " " << c.result << "\n"
        << registry.expose();
  }
  // Every call went through to the inner API.
  EXPECT_EQ(fake.total_requests(), 15u);
  // The watch handed out is the inner one, and works.
  (*watch)->cancel();
  auto end = (*watch)->next();
  ASSERT_TRUE(end);
}

} // namespace
