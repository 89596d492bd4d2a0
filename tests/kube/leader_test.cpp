#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/kube/leader.hpp"

#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
using tests::SharedFakeClock;
namespace kube = common::kube;
namespace util = common::util;
using util::ErrorKind;
using namespace std::chrono_literals;

template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout = 5s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Lets the elector run several tries (each a get) on the frozen clock.
void let_it_try(FakeApi& api, std::uint64_t tries = 5) {
  auto start = api.count(FakeApi::Verb::get);
  ASSERT_TRUE(eventually([&] { return api.count(FakeApi::Verb::get) >= start + tries; }));
}

class Log {
public:
  kube::LeaderCallbacks callbacks(const std::string& who) {
    return {[this, who] { push(who + " started"); }, [this, who] { push(who + " stopped"); },
            [this, who](const std::string& leader) { push(who + " sees " + leader); }};
  }
  std::vector<std::string> take() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_seen, {});
  }
  bool has(const std::string& line) {
    std::lock_guard lock(m_mutex);
    return std::find(m_seen.begin(), m_seen.end(), line) != m_seen.end();
  }

private:
  void push(std::string s) {
    std::lock_guard lock(m_mutex);
    m_seen.push_back(std::move(s));
  }
  std::mutex m_mutex;
  std::vector<std::string> m_seen;
};

kube::LeaderElectionOptions options(const std::string& identity) {
  kube::LeaderElectionOptions o;
  o.namespace_ = "system";
  o.name = "imageupdater";
  o.identity = identity;
  o.wait_scale = 0.001; // retry period 2 ms of real time
  o.jitter_seed = 7;
  return o;
}

std::unique_ptr<kube::LeaderElector> elector(FakeApi& api, SharedFakeClock& clock, Log& log,
                                             const std::string& identity) {
  auto e = kube::LeaderElector::create(api, options(identity), log.callbacks(identity), clock);
  EXPECT_TRUE(e) << (e ? "" : e.error().message);
  return std::move(*e);
}

json lease(FakeApi& api) {
  return json::parse(*api.get(kube::leases(), "system", "imageupdater"))["spec"];
}

TEST(LeaderElection, ValidatesLikeClientGo) {
  struct Case {
    const char* what;
    std::chrono::milliseconds lease, renew, retry;
    const char* ns;
    bool ok;
  };
  const Case cases[] = {
      {"defaults", 15s, 10s, 2s, "system", true},
      {"lease not above renew", 10s, 10s, 2s, "system", false},
      {"renew not above 1.2 x retry", 15s, 2400ms, 2s, "system", false},
      {"renew just above 1.2 x retry", 15s, 2401ms, 2s, "system", true},
      {"zero retry", 15s, 10s, 0ms, "system", false},
      {"no namespace", 15s, 10s, 2s, "", false},
  };
  for (const Case& c : cases) {
    auto o = options("a");
    o.lease_duration = c.lease;
    o.renew_deadline = c.renew;
    o.retry_period = c.retry;
    o.namespace_ = c.ns;
    auto valid = kube::validate(o);
    EXPECT_EQ(valid.has_value(), c.ok) << c.what;
    if (!c.ok) {
      EXPECT_EQ(valid.error().kind, ErrorKind::invalid_input) << c.what;
    }
  }
}

TEST(LeaderElection, MicroTimeAndIdentity) {
  std::chrono::system_clock::time_point t(std::chrono::seconds(1'700'000'005));
  EXPECT_EQ(kube::format_micro_time(t), "2023-11-14T22:13:25.000000Z");
  EXPECT_EQ(kube::format_micro_time(t + 123456789ns), "2023-11-14T22:13:25.123456Z");
  EXPECT_TRUE(std::regex_match(
      kube::default_identity(),
      std::regex(".+_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
}

TEST(LeaderElection, CreatesTheLeaseAndRenewsIt) {
  FakeApi api;
  SharedFakeClock clock;
  Log log;
  auto a = elector(api, clock, log, "a");
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }));
  EXPECT_EQ(log.take(), (std::vector<std::string>{"a sees a", "a started"}));
  json spec = lease(api);
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);

  clock.advance(2s);
  ASSERT_TRUE(eventually([&] { return lease(api)["renewTime"] == "2023-11-14T22:13:22.000000Z"; }));
  spec = lease(api);
  EXPECT_EQ(spec["acquireTime"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(a->leader(), "a");
}

TEST(LeaderElection, TakesOverOnlyWhenTheLeaseRanOutByItsOwnClock) {
  FakeApi api;
  SharedFakeClock clock;
  // Held by "old", renewed long ago by its timestamps: those are not trusted.
  json held = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", "imageupdater"}}},
               {"spec",
                {{"holderIdentity", "old"},
                 {"leaseDurationSeconds", 15},
                 {"acquireTime", "2000-01-01T00:00:00.000000Z"},
                 {"renewTime", "2000-01-01T00:00:00.000000Z"},
                 {"leaseTransitions", 3}}}};
  ASSERT_TRUE(api.create(kube::leases(), "system", held.dump()));
  Log log;
  auto b = elector(api, clock, log, "b");
  b->start();
  let_it_try(api);
  EXPECT_FALSE(b->is_leader());
  EXPECT_EQ(b->leader(), "old");
  clock.advance(14s);
  let_it_try(api);
  EXPECT_FALSE(b->is_leader());
  clock.advance(2s);
  ASSERT_TRUE(eventually([&] { return b->is_leader(); }));
  EXPECT_EQ(log.take(), (std::vector<std::string>{"b sees old", "b sees b", "b started"}));
  json spec = lease(api);
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 4);
  EXPECT_EQ(spec["acquireTime"], "2023-11-14T22:13:36.000000Z");
}

TEST(LeaderElection, ARenewedLeaseIsNotTakenOver) {
  FakeApi api;
  SharedFakeClock clock;
  Log log;
  auto a = elector(api, clock, log, "a");
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }));
  auto b = elector(api, clock, log, "b");
  b->start();
  for (int i = 0; i < 10; ++i) { // 20 s: well past one lease duration, with renewals
    clock.advance(2s);
    std::string now = kube::format_micro_time(clock.now());
    ASSERT_TRUE(eventually([&] { return lease(api)["renewTime"] == now; }));
    let_it_try(api, 4);
  }
  EXPECT_TRUE(a->is_leader());
  EXPECT_FALSE(b->is_leader());
  EXPECT_EQ(b->leader(), "a");
}

TEST(LeaderElection, StopReleasesSoTheStandbyTakesOverAtOnce) {
  FakeApi api;
  SharedFakeClock clock;
  Log log;
  auto a = elector(api, clock, log, "a");
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }));
  auto b = elector(api, clock, log, "b");
  b->start();
  ASSERT_TRUE(eventually([&] { return b->leader() == "a"; }));
  a->stop();
  EXPECT_FALSE(a->is_leader());
  json spec = lease(api);
  // The clock did not move: b takes over because the lease was released, not expired.
  ASSERT_TRUE(eventually([&] { return b->is_leader(); }));
  EXPECT_EQ(lease(api)["leaseTransitions"], 1);
  std::vector<std::string> seen = log.take();
  auto at = [&](const std::string& s) {
    return std::find(seen.begin(), seen.end(), s) - seen.begin();
  };
  EXPECT_LT(at("a stopped"), at("b started"));
  EXPECT_LT(at("b started"), static_cast<long>(seen.size()));
  b->stop();
  spec = lease(api);
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 1);
}

TEST(LeaderElection, LosesLeadershipWhenRenewalsFailForTheDeadline) {
  FakeApi api;
  SharedFakeClock clock;
  Log log;
  auto a = elector(api, clock, log, "a");
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }));
  log.take();
  api.fail_next(FakeApi::Verb::update, util::Error(ErrorKind::transient, "timeout"), 1'000'000);
  // A renew round has started failing before the clock moves: the deadline runs from there.
  auto updates = api.count(FakeApi::Verb::update);
  ASSERT_TRUE(eventually([&] { return api.count(FakeApi::Verb::update) >= updates + 2; }));
  clock.advance(5s);
  let_it_try(api);
  EXPECT_TRUE(a->is_leader());
  clock.advance(6s);
  ASSERT_TRUE(eventually([&] { return !a->is_leader(); }));
  ASSERT_TRUE(eventually([&] { return log.has("a stopped"); }));
  // The API server answers again: nobody else took the lease, so a leads again.
  api.clear_failures();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }));
  EXPECT_EQ(log.take(), (std::vector<std::string>{"a stopped", "a started"}));
}

TEST(LeaderElection, StopWithoutLeadingCallsNothing) {
  FakeApi api;
  SharedFakeClock clock;
  api.fail_next(FakeApi::Verb::get, util::Error(ErrorKind::auth, "forbidden"), 1'000'000);
  Log log;
  auto a = elector(api, clock, log, "a");
  a->start();
  let_it_try(api, 3);
  a->stop();
  a->stop();
  EXPECT_TRUE(log.take().empty());
  EXPECT_EQ(api.count(FakeApi::Verb::update), 0u);
}

} // namespace
