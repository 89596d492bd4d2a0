#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/metrics/registry.hpp"

namespace common::metrics {
namespace {

TEST(Registry, ExposesFamiliesInOrderAndSeriesSorted) {
  Registry registry;
  Counter& requests = registry.counter("app_requests_total", "Requests.", {"route", "code"});
  Gauge& queue = registry.gauge("app_queue", "Queued \\ work\nnow.");
  requests.inc({"b", "200"});
  requests.inc({"a", "404"}, 2);
  requests.inc({"b", "200"});
  queue.set({}, 3);
  queue.add({}, -1);
  EXPECT_EQ(registry.expose(), "# HELP app_requests_total Requests.\n"
                               "# TYPE app_requests_total counter\n"
                               "app_requests_total{route=\"a\",code=\"404\"} 2\n"
                               "app_requests_total{route=\"b\",code=\"200\"} 2\n"
                               "# HELP app_queue Queued \\\\ work\\nnow.\n"
                               "# TYPE app_queue gauge\n"
                               "app_queue 2\n");
}

TEST(Registry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  Histogram& h = registry.histogram("lat_seconds", "Latency.", {"route"}, {0.1, 1});
  h.observe({"r"}, 0.05);
  h.observe({"r"}, 0.5);
  h.observe({"r"}, 5);
  EXPECT_EQ(h.count({"r"}), 3u);
  EXPECT_EQ(registry.expose(), "# HELP lat_seconds Latency.\n"
                               "# TYPE lat_seconds histogram\n"
                               "lat_seconds_bucket{route=\"r\",le=\"0.1\"} 1\n"
                               "lat_seconds_bucket{route=\"r\",le=\"1\"} 2\n"
                               "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 3\n"
                               "lat_seconds_sum{route=\"r\"} 5.55\n"
                               "lat_seconds_count{route=\"r\"} 3\n");
}

TEST(Registry, LabelValuesAreEscaped) {
  Registry registry;
  registry.counter("c_total", "C.", {"v"}).inc({"a\"b\\c\nd"});
  EXPECT_NE(registry.expose().find("c_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos);
}

TEST(Registry, CountsFromManyThreads) {
  Registry registry;
  Counter& c = registry.counter("c_total", "C.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) {
        c.inc({"x"});
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value({"x"}), 40000);
}

} // namespace
} // namespace common::metrics
