#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/cache/disk_cache.hpp"
#include "common/cache/key_lock.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::cache {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* k_key = "https://registry-1.docker.io/library/nginx";

// A fake fetch that counts its calls.
struct FakeSource {
  int calls = 0;
  util::Result<std::string> answer = std::string("v1");
  Fetch fetch() {
    return [this]() -> util::Result<std::string> {
      ++calls;
      return answer;
    };
  }
};

// A FakeClock that runs a hook the first time someone sleeps on it: the test's stand-in for
// "another process did something while we waited for the lock".
class HookClock final : public util::Clock {
public:
  std::chrono::system_clock::time_point now() const override { return m_inner.now(); }
  std::chrono::steady_clock::time_point steady_now() const override { return m_inner.steady_now(); }
  void sleep_for(std::chrono::nanoseconds d) override {
    m_inner.advance(d);
    if (on_first_sleep) {
      auto hook = std::move(on_first_sleep);
      on_first_sleep = nullptr;
      hook();
    }
  }
  void advance(std::chrono::nanoseconds d) { m_inner.advance(d); }
  std::function<void()> on_first_sleep;

private:
  util::FakeClock m_inner;
};

class CacheGetOrFetch : public ::testing::Test {
protected:
  test_support::TempDir m_tmp;
  util::FakeClock m_clock;
  std::string m_dir = m_tmp.path() + "/cache";
};

TEST_F(CacheGetOrFetch, FetchesOnAMissAndServesTheCacheAfter) {
  DiskCache cache(m_dir, m_clock);
  FakeSource source;
  auto first = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->data, "v1");
  EXPECT_TRUE(first->fetched);
  EXPECT_EQ(first->warning, "");
  source.answer = std::string("v2");
  m_clock.advance(hours(24 * 365));
  auto second = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->data, "v1");
  EXPECT_FALSE(second->fetched);
  EXPECT_EQ(source.calls, 1);
}

TEST_F(CacheGetOrFetch, RefetchesOnceTheTtlHasPassed) {
  struct Case {
    std::chrono::seconds age;
    bool refetch;
  };
  const Case cases[] = {
      {seconds(0), false},   {seconds(299), false}, {seconds(300), true},
      {seconds(3600), true}, {seconds(-1), true}, // stored "in the future": clock went back
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.age.count());
    DiskCache cache(m_dir, m_clock);
    ASSERT_TRUE(cache.put("tags", k_key, "cached"));
    m_clock.advance(c.age);
    FakeSource source;
    source.answer = std::string("fresh");
    auto got = cache.get_or_fetch("tags", k_key, younger_than(m_clock, minutes(5)), source.fetch());
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, c.refetch ? "fresh" : "cached");
    EXPECT_EQ(source.calls, c.refetch ? 1 : 0);
    if (c.refetch) {
      auto stored = cache.get("tags", k_key);
      ASSERT_TRUE(stored && *stored);
      EXPECT_EQ((*stored)->data, "fresh");
      EXPECT_EQ((*stored)->stored_at, m_clock.now());
    }
  }
}

TEST_F(CacheGetOrFetch, ServesTheStaleEntryWhenTheFetchFails) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", k_key, "cached"));
  const auto stored_at = m_clock.now();
  m_clock.advance(minutes(5));
  FakeSource source;
  source.answer = util::fail(util::ErrorKind::transient, "GET https://registry: 503");
  auto got = cache.get_or_fetch("tags", k_key, younger_than(m_clock, minutes(1)), source.fetch());
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->data, "cached");
  EXPECT_EQ(got->stored_at, stored_at);
  EXPECT_TRUE(got->stale);
  EXPECT_FALSE(got->fetched);
  ASSERT_TRUE(got->fetch_error.has_value());
  EXPECT_EQ(got->fetch_error->kind, util::ErrorKind::transient);
  EXPECT_EQ(got->warning,
            "fetch failed (GET https://registry: 503); serving the entry cached 5m ago");
  // The stale entry is kept for next time.
  auto again = cache.get("tags", k_key);
  ASSERT_TRUE(again && *again);
}

TEST_F(CacheGetOrFetch, ReturnsTheFetchErrorWhenNothingIsCached) {
  DiskCache cache(m_dir, m_clock);
  FakeSource source;
  source.answer = util::fail(util::ErrorKind::auth, "401 from registry");
  auto got = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, util::ErrorKind::auth);
  EXPECT_EQ(got.error().message, "401 from registry");
}

TEST_F(CacheGetOrFetch, FallsBackToFetchingWhenTheCacheIsUnusable) {
  struct Case {
    const char* name;
    std::function<std::string()> make_dir;
    const char* warning;
  };
  const Case cases[] = {
      {"cannot be created", [&] { return m_tmp.write("file", "x") + "/cache"; },
       "cache unusable: "},
      {"writable by others",
       [&] {
         std::string d = m_tmp.path() + "/open";
         ::mkdir(d.c_str(), 0700);
         ::chmod(d.c_str(), 0777);
         return d;
       },
       "cache unusable: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    DiskCache cache(c.make_dir(), m_clock);
    ASSERT_FALSE(cache.usable());
    FakeSource source;
    auto got = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, "v1");
    EXPECT_TRUE(got->fetched);
    EXPECT_EQ(got->warning.rfind(c.warning, 0), 0u) << got->warning;
    EXPECT_NE(got->warning.find("fetched without the cache"), std::string::npos);
    source.answer = util::fail(util::ErrorKind::transient, "down");
    auto failed = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().message, "down");
    EXPECT_EQ(source.calls, 2);
  }
}

TEST_F(CacheGetOrFetch, ReturnsDataTooLargeToCacheWithAWarning) {
  Options options;
  options.max_entry_size = 4;
  DiskCache cache(m_dir, m_clock, options);
  FakeSource source;
  source.answer = std::string("too long");
  auto got = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data, "too long");
  EXPECT_EQ(got->warning.rfind("not cached: ", 0), 0u) << got->warning;
}

TEST_F(CacheGetOrFetch, StopsWaitingForAStuckHolderAndFetchesItself) {
  Options options;
  options.lock_wait = seconds(30);
  DiskCache cache(m_dir, m_clock, options);
  ASSERT_TRUE(cache.put("tags", "other", "x")); // creates the shard directories
  const std::string lock_path = cache.entry_path("tags", k_key) + ".lock";
  fs::create_directories(fs::path(lock_path).parent_path());
  UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto stuck = KeyLock::try_acquire(root.get(), lock_path.substr(1), "stuck");
  ASSERT_TRUE(stuck && *stuck);

  const auto start = m_clock.steady_now();
  FakeSource source;
  auto got = cache.get_or_fetch("tags", k_key, always_fresh(), source.fetch());
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->data, "v1");
  EXPECT_EQ(source.calls, 1);
  EXPECT_EQ(m_clock.steady_now() - start, seconds(30));
  EXPECT_NE(got->warning.find("still held by another process after 30.0s"), std::string::npos)
      << got->warning;
  auto stored = cache.get("tags", k_key);
  ASSERT_TRUE(stored && *stored);
}

// While we wait, the holder stores a fresh answer: we take it, even with a TTL of zero.
TEST_F(CacheGetOrFetch, TakesTheAnswerOfTheProcessItWaitedFor) {
  HookClock clock;
  DiskCache cache(m_dir, clock);
  DiskCache other(m_dir, clock);
  ASSERT_TRUE(cache.put("tags", k_key, "stale"));
  clock.advance(hours(1));
  UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const std::string lock_path = (cache.entry_path("tags", k_key) + ".lock").substr(1);
  auto holder = KeyLock::try_acquire(root.get(), lock_path, "holder");
  ASSERT_TRUE(holder && *holder);
  clock.on_first_sleep = [&] {
    ASSERT_TRUE(other.put("tags", k_key, "from the other process"));
    holder->reset();
  };
  FakeSource source;
  auto got = cache.get_or_fetch("tags", k_key, younger_than(clock, std::chrono::nanoseconds(0)),
                                source.fetch());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data, "from the other process");
  EXPECT_FALSE(got->fetched);
  EXPECT_EQ(source.calls, 0);
}

// While we wait, the holder's fetch fails: we share its failure instead of repeating it.
TEST_F(CacheGetOrFetch, SharesTheFailureOfTheProcessItWaitedFor) {
  struct Case {
    bool stale_entry;
  };
  for (const Case c : {Case{true}, Case{false}}) {
    SCOPED_TRACE(c.stale_entry);
    test_support::TempDir tmp;
    HookClock clock;
    DiskCache cache(tmp.path(), clock);
    if (c.stale_entry) {
      ASSERT_TRUE(cache.put("tags", k_key, "stale"));
    } else {
      ASSERT_TRUE(cache.put("tags", "other", "creates v1"));
    }
    clock.advance(hours(1));
    UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const std::string lock_path = (cache.entry_path("tags", k_key) + ".lock").substr(1);
    fs::create_directories(fs::path("/" + lock_path).parent_path());
    auto holder = KeyLock::try_acquire(root.get(), lock_path, "holder");
    ASSERT_TRUE(holder && *holder);
    clock.on_first_sleep = [&] {
      (*holder)->record_failure({clock.now(), {util::ErrorKind::transient, "registry down"}});
      holder->reset();
    };
    FakeSource source;
    auto got = cache.get_or_fetch("tags", k_key, younger_than(clock, minutes(1)), source.fetch());
    EXPECT_EQ(source.calls, 0);
    if (c.stale_entry) {
      ASSERT_TRUE(got.has_value());
      EXPECT_TRUE(got->stale);
      EXPECT_EQ(got->data, "stale");
      EXPECT_EQ(got->fetch_error->message, "registry down");
    } else {
      ASSERT_FALSE(got.has_value());
      EXPECT_EQ(got.error().kind, util::ErrorKind::transient);
      EXPECT_EQ(got.error().message, "registry down");
    }
    // A failure older than our wait is not shared: the next caller tries again.
    clock.advance(seconds(1));
    source.answer = std::string("back");
    got = cache.get_or_fetch("tags", k_key, younger_than(clock, minutes(1)), source.fetch());
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, "back");
    EXPECT_EQ(source.calls, 1);
  }
}

TEST_F(CacheGetOrFetch, ThreadsMissingTogetherFetchOnce) {
  util::SystemClock clock;
  DiskCache cache(m_dir, clock);
  std::atomic<int> calls{0};
  Fetch fetch = [&]() -> util::Result<std::string> {
    ++calls;
    std::this_thread::sleep_for(milliseconds(100));
    return std::string("tags");
  };
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto got = cache.get_or_fetch("tags", k_key, younger_than(clock, minutes(5)), fetch);
      results[i] = got ? got->data : "error: " + got.error().message;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(calls.load(), 1);
  for (const auto& r : results) {
    EXPECT_EQ(r, "tags");
  }
}

// The real thing: 8 processes miss the same key at the same moment; one fetches, seven wait
// and read its answer.
TEST_F(CacheGetOrFetch, ProcessesMissingTogetherFetchOnce) {
  const std::string counter = m_tmp.path() + "/fetches";
  constexpr int k_children = 8;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < k_children; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      [[maybe_unused]] ssize_t n = ::read(go[0], &c, 1); // EOF: the parent says go
      util::SystemClock clock;
      Options options;
      options.lock_wait = seconds(10);
      DiskCache cache(m_dir, clock, options);
      Fetch fetch = [&]() -> util::Result<std::string> {
        std::this_thread::sleep_for(milliseconds(200));
        const std::string line = std::to_string(::getpid()) + "\n";
        int fd = ::open(counter.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        [[maybe_unused]] ssize_t w = ::write(fd, line.data(), line.size());
        ::close(fd);
        return "tags fetched by " + std::to_string(::getpid());
      };
      auto got = cache.get_or_fetch("tags", k_key, younger_than(clock, minutes(5)), fetch);
      std::ofstream(m_tmp.path() + "/out." + std::to_string(i))
          << (got ? got->data : "error: " + got.error().message);
      ::_exit(got && got->warning.empty() ? 0 : 1);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid;
  }
  std::ifstream in(counter);
  std::vector<std::string> fetchers;
  for (std::string line; std::getline(in, line);) {
    fetchers.push_back(line);
  }
  ASSERT_EQ(fetchers.size(), 1u);
  std::set<std::string> answers;
  for (int i = 0; i < k_children; ++i) {
    std::ifstream out(m_tmp.path() + "/out." + std::to_string(i));
    answers.insert(std::string(std::istreambuf_iterator<char>(out), {}));
  }
  EXPECT_EQ(answers, std::set<std::string>{"tags fetched by " + fetchers[0]});
}

} // namespace
} // namespace common::cache
