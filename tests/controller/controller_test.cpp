#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "common/controller/controller.hpp"

namespace common::controller {
namespace {

using namespace std::chrono_literals;

// Scripted answers per key; records calls and how many ran at once.
class ScriptedReconciler final : public Reconciler {
public:
  util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) override {
    const int now = ++m_running;
    int seen = m_max_running.load();
    while (now > seen && !m_max_running.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(5ms);
    --m_running;
    const std::lock_guard lock(m_mutex);
    const int call = ++m_calls[key.name];
    if (key.name == "failing") {
      return util::fail(util::ErrorKind::transient, "registry down");
    }
    if (key.name == "conflicting" && call == 1) {
      return util::fail(util::ErrorKind::conflict, "changed");
    }
    if (key.name == "periodic") {
      return std::chrono::nanoseconds(20ms);
    }
    if (key.name == "throwing") {
      throw std::runtime_error("boom");
    }
    return std::chrono::nanoseconds(0);
  }
  int calls(const std::string& name) {
    const std::lock_guard lock(m_mutex);
    return m_calls[name];
  }
  int max_running() const { return m_max_running; }

private:
  std::mutex m_mutex;
  std::map<std::string, int> m_calls;
  std::atomic<int> m_running{0};
  std::atomic<int> m_max_running{0};
};

template <class F>
bool eventually(F condition) {
  for (int i = 0; i < 400; ++i) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST(Controller, RequeuesPeriodicRetriesConflictsAtOnceAndBacksOffFailures) {
  ScriptedReconciler r;
  metrics::Registry registry;
  ControllerOptions options;
  options.workers = 2;
  options.backoff_base = 10ms;
  options.backoff_max = 40ms;
  Controller c(r, options, &registry, nullptr);
  c.start();
  for (const char* name : {"once", "periodic", "conflicting", "failing", "throwing"}) {
    c.enqueue({"ns", name});
  }
  EXPECT_TRUE(eventually([&] { return r.calls("periodic") >= 4; }));
  EXPECT_TRUE(eventually([&] { return r.calls("conflicting") == 2; }));
  EXPECT_TRUE(eventually([&] { return r.calls("failing") >= 4; }));
  EXPECT_TRUE(eventually([&] { return r.calls("throwing") >= 2; })) << "a throw is a failure";
  c.stop();
  EXPECT_EQ(r.calls("once"), 1);
  EXPECT_EQ(r.calls("conflicting"), 2);
  EXPECT_LE(r.max_running(), 2);
  const std::string exposed = registry.expose();
  EXPECT_NE(exposed.find("imageupdater_reconcile_total{result=\"conflict\"} 1"), std::string::npos)
      << exposed;
  EXPECT_NE(exposed.find("imageupdater_reconcile_total{result=\"error\"}"), std::string::npos);
}

TEST(Controller, StopWaitsForReconcilesInProgressAndIsIdempotent) {
  ScriptedReconciler r;
  Controller c(r, {}, nullptr, nullptr);
  c.start();
  for (int i = 0; i < 20; ++i) {
    c.enqueue({"ns", "o" + std::to_string(i)});
  }
  c.stop();
  c.stop();
  c.enqueue({"ns", "late"});
  EXPECT_EQ(r.calls("late"), 0);
}

} // namespace
} // namespace common::controller
