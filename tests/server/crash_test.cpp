// Durability of acknowledged writes across kill -9: `serve` takes creates and updates from
// several client threads over real HTTP; once a few hundred writes are acknowledged it is killed
// with SIGKILL while requests are in flight, restarted on the same data directory, and every
// acknowledged write must be there. A write whose reply never arrived may or may not be.
//
// Each object is written by one thread only, with a spec counter (loopback_spec's minor) that
// is 0 on create and +1 on every update; so after a restart an object's stored counter must lie
// between the last acknowledged one and the last one sent, and its generation must be counter+1
// (every update changes the spec). A 409 is tolerated (the service may write status in the
// background, which bumps resourceVersion): the thread re-reads the object and goes on.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/client.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using nlohmann::json;
using server_test::Client;
using server_test::k_demo_items;
using server_test::loopback_minor;
using server_test::loopback_updater;
using server_test::Service;
using namespace std::chrono_literals;

constexpr int k_threads = 6;
constexpr int k_rounds = 3;

// What one client thread knows of one of its objects.
struct Tracked {
  std::string name;
  bool create_sent = false;
  bool create_acked = false;
  std::string uid;
  std::string resource_version; // of the last reply or read
  long long acked_minor = -1;   // last acknowledged spec counter
  long long sent_minor = -1;    // highest spec counter sent
  std::int64_t acked_generation = 0;
};

std::optional<std::uint64_t> as_number(const std::string& text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

// Shared by the threads of one round and the main thread.
struct Round {
  int number = 0;
  std::atomic<int> acked{0};
  std::atomic<bool> killed{false};
  std::mutex mutex;
  std::vector<std::string> errors; // anything but an expected reply while the server was alive
  std::uint64_t min_version = UINT64_MAX; // smallest numeric resourceVersion acknowledged

  void error(const std::string& what) {
    std::lock_guard lock(mutex);
    errors.push_back(what);
  }
  void version(const std::string& rv) {
    if (auto n = as_number(rv)) {
      std::lock_guard lock(mutex);
      min_version = std::min(min_version, *n);
    }
  }
};

std::string item(const std::string& name) {
  return k_demo_items + "/" + name;
}

// One client thread: creates objects and updates its own ones until the server dies.
void writer(std::uint16_t port, int thread, Round& round, std::vector<Tracked>& objects) {
  Client client(port);
  std::mt19937_64 rng(static_cast<std::uint64_t>(round.number * 100 + thread));
  int created = 0;
  while (true) {
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      if (objects[i].create_acked) {
        live.push_back(i);
      }
    }
    const bool create = live.size() < 3 || rng() % 4 == 0;
    try {
      if (create) {
        Tracked t;
        t.name = "r" + std::to_string(round.number) + "-t" + std::to_string(thread) + "-" +
                 std::to_string(created++);
        t.create_sent = true;
        t.sent_minor = 0;
        objects.push_back(t);
        const auto reply = client.send("POST", k_demo_items, loopback_updater(t.name).dump());
        if (reply.status != 201) {
          round.error("POST " + t.name + ": " + std::to_string(reply.status) + " " + reply.body);
          return;
        }
        const json o = json::parse(reply.body);
        Tracked& stored = objects.back();
        stored.create_acked = true;
        stored.uid = o["metadata"]["uid"];
        stored.resource_version = o["metadata"]["resourceVersion"];
        stored.acked_generation = o["metadata"]["generation"];
        stored.acked_minor = loopback_minor(o["spec"]);
        round.version(stored.resource_version);
        ++round.acked;
        continue;
      }
      Tracked& t = objects[live[rng() % live.size()]];
      const long long minor = t.acked_minor + 1;
      t.sent_minor = std::max(t.sent_minor, minor);
      const auto reply = client.send("PUT", item(t.name),
                                     loopback_updater(t.name, minor, t.resource_version).dump());
      if (reply.status == 409) {
        // Someone else (the service's status writer) moved the version: re-read and go on.
        const auto fresh = client.send("GET", item(t.name));
        if (fresh.status != 200) {
          round.error("GET " + t.name + " after 409: " + std::to_string(fresh.status));
          return;
        }
        const json o = json::parse(fresh.body);
        t.resource_version = o["metadata"]["resourceVersion"];
        if (loopback_minor(o["spec"]) != t.acked_minor) {
          round.error("409 on " + t.name + " but its spec changed: " + fresh.body);
          return;
        }
        continue;
      }
      if (reply.status != 200) {
        round.error("PUT " + t.name + ": " + std::to_string(reply.status) + " " + reply.body);
        return;
      }
      const json o = json::parse(reply.body);
      t.resource_version = o["metadata"]["resourceVersion"];
      t.acked_generation = o["metadata"]["generation"];
      t.acked_minor = loopback_minor(o["spec"]);
      if (t.acked_minor != minor) {
        round.error("PUT " + t.name + " answered another spec: " + reply.body);
        return;
      }
      round.version(t.resource_version);
      ++round.acked;
    } catch (const std::exception& e) {
      if (!round.killed) {
        round.error(std::string("request failed while the server was alive: ") + e.what());
      }
      return; // the server is gone: this thread's round is over
    }
  }
}

// Writes sent whose reply never came (the kill caught them in flight), and how many of them
// the restarted server has.
struct InFlight {
  int sent = 0;
  int applied = 0;
};

// After a restart: every acknowledged write is there; adopts what is stored as the new state.
// Returns the highest numeric resourceVersion seen.
std::uint64_t verify(std::uint16_t port, std::vector<std::vector<Tracked>>& all,
                     InFlight& in_flight) {
  Client client(port);
  std::uint64_t highest = 0;
  std::map<std::string, bool> exists;
  for (auto& objects : all) {
    std::vector<Tracked> kept;
    for (Tracked& t : objects) {
      const auto got = client.send("GET", item(t.name));
      const bool unanswered = !t.create_acked || t.sent_minor > t.acked_minor;
      in_flight.sent += unanswered ? 1 : 0;
      if (got.status == 404) {
        EXPECT_FALSE(t.create_acked) << t.name << ": an acknowledged create was lost";
        continue; // a create whose reply never came, not committed: forget it
      }
      EXPECT_EQ(got.status, 200) << t.name << ": " << got.body;
      if (got.status != 200) {
        continue;
      }
      const json o = json::parse(got.body);
      const long long minor = loopback_minor(o["spec"]);
      const std::int64_t generation = o["metadata"]["generation"];
      if (t.create_acked) {
        EXPECT_EQ(o["metadata"]["uid"], t.uid) << t.name;
        EXPECT_GE(minor, t.acked_minor) << t.name << ": an acknowledged update was lost";
        EXPECT_GE(generation, t.acked_generation) << t.name;
      }
      EXPECT_LE(minor, t.sent_minor) << t.name << ": a spec that was never sent";
      EXPECT_EQ(generation, minor + 1) << t.name << ": generation and spec disagree: " << got.body;
      if (unanswered && (!t.create_acked || minor > t.acked_minor)) {
        ++in_flight.applied;
      }
      t.create_acked = true;
      t.uid = o["metadata"]["uid"];
      t.resource_version = o["metadata"]["resourceVersion"];
      t.acked_minor = t.sent_minor = minor;
      t.acked_generation = generation;
      if (auto n = as_number(t.resource_version)) {
        highest = std::max(highest, *n);
      }
      exists[t.name] = true;
      kept.push_back(t);
    }
    objects = std::move(kept);
  }
  // The list agrees with the reads, page by page.
  std::size_t listed = 0;
  std::string token;
  do {
    const auto page = client.send("GET", k_demo_items + "?limit=50" +
                                             (token.empty() ? "" : "&continue=" + token));
    EXPECT_EQ(page.status, 200) << page.body;
    if (page.status != 200) {
      break;
    }
    const json list = json::parse(page.body);
    for (const json& o : list["items"]) {
      EXPECT_TRUE(exists.contains(o["metadata"]["name"].get<std::string>()))
          << "listed but never created: " << o["metadata"]["name"];
      ++listed;
    }
    token = list["metadata"].value("continue", "");
  } while (!token.empty());
  EXPECT_EQ(listed, exists.size());
  return highest;
}

TEST(ServeCrashTest, AcknowledgedWritesSurviveKill9) {
  test_support::TempDir dir;
  const std::string data = dir.path() + "/data";
  std::vector<std::vector<Tracked>> objects(k_threads);
  std::uint64_t highest_before = 0;
  int total_acked = 0;
  InFlight in_flight;
  for (int r = 1; r <= k_rounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    Service service(data, dir.path());
    ASSERT_NE(service.port(), 0) << service.log();
    if (r > 1) {
      highest_before = std::max(highest_before, verify(service.port(), objects, in_flight));
      ASSERT_FALSE(HasFailure()) << service.log();
    }
    Round round;
    round.number = r;
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back(writer, service.port(), t, std::ref(round), std::ref(objects[t]));
    }
    // Kill at a different point each round, while every thread is mid-stream.
    const int target = 150 * r;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (round.acked < target && std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(round.mutex);
        if (!round.errors.empty()) {
          break;
        }
      }
      std::this_thread::sleep_for(1ms);
    }
    round.killed = true;
    const int status = service.stop(SIGKILL);
    for (auto& t : threads) {
      t.join();
    }
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "serve ended before the kill: " << status << "\n"
        << service.log();
    for (const std::string& e : round.errors) {
      ADD_FAILURE() << e;
    }
    ASSERT_GE(round.acked, target) << "too few acknowledged writes before the deadline";
    total_acked += round.acked;
    if (highest_before > 0 && round.min_version != UINT64_MAX) {
      EXPECT_GT(round.min_version, highest_before)
          << "a resourceVersion given out again after a restart";
    }
  }
  Service last(data, dir.path());
  ASSERT_NE(last.port(), 0) << last.log();
  verify(last.port(), objects, in_flight);
  std::size_t count = 0;
  for (const auto& o : objects) {
    count += o.size();
  }
  EXPECT_GT(count, static_cast<std::size_t>(k_threads * 3));
  std::printf("crash test: %d acknowledged writes over %d kills, %zu objects; %d writes in "
              "flight at a kill, %d of them applied\n",
              total_acked, k_rounds, count, in_flight.sent, in_flight.applied);
}

} // namespace
