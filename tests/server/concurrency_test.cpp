// Optimistic concurrency over real HTTP: in each round, 8 threads PUT one object with the same
// resourceVersion (read just before) and each a different spec, released together. At most one
// may win; every other reply must be 409 with a Kubernetes Status whose reason is "Conflict".
//
// The service may write status in the background, which bumps resourceVersion without touching
// spec or generation: a round may then have no winner. So besides "at most one 2xx per round",
// the generation must have grown by exactly the number of wins and the stored spec must be the
// winner's; and most rounds (not all) must have a winner.
#include <barrier>
#include <chrono>
#include <cstdint>
#include <memory>
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
using server_test::Reply;
using server_test::Service;

constexpr int k_writers = 8;
constexpr int k_rounds = 50;

TEST(ServeConcurrencyTest, ExactlyOneOfConcurrentWritersWins) {
  test_support::TempDir dir;
  Service service(dir.path() + "/data", dir.path());
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const std::string target = k_demo_items + "/shared";

  Client reader(port);
  const auto created = reader.send("POST", k_demo_items, loopback_updater("shared").dump());
  ASSERT_EQ(created.status, 201) << created.body;

  // One connection per writer, opened before the rounds so the PUTs leave together.
  std::vector<std::unique_ptr<Client>> clients;
  for (int w = 0; w < k_writers; ++w) {
    clients.push_back(std::make_unique<Client>(port));
    ASSERT_EQ(clients.back()->send("GET", target).status, 200);
  }

  int rounds_with_a_winner = 0;
  int total_conflicts = 0;
  for (int round = 1; round <= k_rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto before = reader.send("GET", target);
    ASSERT_EQ(before.status, 200) << before.body;
    const json old = json::parse(before.body);
    const std::string version = old["metadata"]["resourceVersion"];
    const std::int64_t generation = old["metadata"]["generation"];

    std::vector<Reply> replies(k_writers);
    std::vector<std::string> failures(k_writers);
    std::barrier start(k_writers);
    std::vector<std::thread> threads;
    for (int w = 0; w < k_writers; ++w) {
      threads.emplace_back([&, w] {
        // A spec of its own: round * 100 + writer identifies who won.
        const std::string body = loopback_updater("shared", round * 100 + w, version).dump();
        start.arrive_and_wait();
        try {
          replies[w] = clients[w]->send("PUT", target, body);
        } catch (const std::exception& e) {
          failures[w] = e.what();
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }

    int winner = -1;
    int wins = 0;
    for (int w = 0; w < k_writers; ++w) {
      ASSERT_TRUE(failures[w].empty()) << "writer " << w << ": " << failures[w];
      const Reply& r = replies[w];
      if (r.status >= 200 && r.status < 300) {
        EXPECT_EQ(r.status, 200) << r.body;
        ++wins;
        winner = w;
        continue;
      }
      ASSERT_EQ(r.status, 409) << "writer " << w << ": " << r.body;
      EXPECT_EQ(r.content_type, "application/json");
      const json status = json::parse(r.body);
      EXPECT_EQ(status["kind"], "Status") << r.body;
      EXPECT_EQ(status["apiVersion"], "v1") << r.body;
      EXPECT_EQ(status["status"], "Failure") << r.body;
      EXPECT_EQ(status["reason"], "Conflict") << r.body;
      EXPECT_EQ(status["code"], 409) << r.body;
      EXPECT_EQ(status["details"]["name"], "shared") << r.body;
      ++total_conflicts;
    }
    ASSERT_LE(wins, 1) << "several writers holding resourceVersion " << version << " won";

    const auto after = reader.send("GET", target);
    ASSERT_EQ(after.status, 200) << after.body;
    const json now = json::parse(after.body);
    EXPECT_EQ(now["metadata"]["generation"].get<std::int64_t>(), generation + wins)
        << "the generation moved by other than the number of winners";
    if (wins == 1) {
      ++rounds_with_a_winner;
      EXPECT_EQ(loopback_minor(now["spec"]), round * 100 + winner) << after.body;
      const json won = json::parse(replies[winner].body);
      EXPECT_EQ(won["spec"], now["spec"]);
      EXPECT_NE(won["metadata"]["resourceVersion"], version);
    } else {
      EXPECT_EQ(now["spec"], old["spec"]) << "no winner, yet the spec changed";
    }
  }
  // Only the service's own status writes can leave a round without a winner.
  EXPECT_GE(rounds_with_a_winner, k_rounds * 3 / 4);
  EXPECT_GE(total_conflicts, rounds_with_a_winner * (k_writers - 1));
  EXPECT_TRUE(service.running()) << service.log();
}

} // namespace
