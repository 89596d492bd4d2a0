#include <chrono>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/cache/key_lock.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::cache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class CacheKeyLock : public ::testing::Test {
protected:
  test_support::TempDir m_tmp;
  UniqueFd m_dir{::open(m_tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  util::FakeClock m_clock;
};

TEST_F(CacheKeyLock, ExcludesUntilReleased) {
  auto first = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  auto second = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->has_value());
  auto other_key = KeyLock::try_acquire(m_dir.get(), "other.lock", "other.lock");
  ASSERT_TRUE(other_key.has_value());
  EXPECT_TRUE(other_key->has_value());
  first->reset();
  auto third = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(third.has_value());
  EXPECT_TRUE(third->has_value());
}

TEST_F(CacheKeyLock, WaitIsBoundedByTheClock) {
  struct Case {
    milliseconds wait;
  };
  const Case cases[] = {{milliseconds(0)}, {milliseconds(5)}, {seconds(30)}};
  auto held = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(held && *held);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.wait.count());
    const auto start = m_clock.steady_now();
    auto waiter = KeyLock::acquire(m_dir.get(), "k.lock", "/cache/k.lock", m_clock, c.wait);
    ASSERT_FALSE(waiter.has_value());
    EXPECT_EQ(waiter.error().kind, util::ErrorKind::transient);
    EXPECT_NE(waiter.error().message.find("/cache/k.lock"), std::string::npos);
    EXPECT_EQ(m_clock.steady_now() - start, c.wait); // slept exactly up to the bound
  }
}

TEST_F(CacheKeyLock, AcquiresAFreeLockWithoutSleeping) {
  const auto start = m_clock.steady_now();
  auto lock = KeyLock::acquire(m_dir.get(), "k.lock", "k.lock", m_clock, seconds(30));
  ASSERT_TRUE(lock.has_value()) << lock.error().message;
  EXPECT_EQ(m_clock.steady_now(), start);
}

TEST_F(CacheKeyLock, MovesToTheNewFileWhenTheLockFileWasUnlinked) {
  auto held = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(held && *held);
  ASSERT_EQ(::unlinkat(m_dir.get(), "k.lock", 0), 0); // as prune() does, under the lock
  auto next = KeyLock::acquire(m_dir.get(), "k.lock", "k.lock", m_clock, seconds(1));
  ASSERT_TRUE(next.has_value()) << next.error().message;
}

TEST_F(CacheKeyLock, RecordsTheLastFailure) {
  auto lock = KeyLock::try_acquire(m_dir.get(), "k.lock", "k.lock");
  ASSERT_TRUE(lock && *lock);
  EXPECT_FALSE((*lock)->read_failure().has_value());
  const FailureRecord cases[] = {
      {m_clock.now(), {util::ErrorKind::transient, "GET https://r/v2/x/tags/list: timeout"}},
      {m_clock.now() + seconds(1), {util::ErrorKind::auth, "401\nwith a newline"}},
      {m_clock.now(), {util::ErrorKind::internal, ""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error.message);
    (*lock)->record_failure(c);
    auto back = (*lock)->read_failure();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->at, c.at);
    EXPECT_EQ(back->error.kind, c.error.kind);
    EXPECT_EQ(back->error.message, c.error.message);
  }
  (*lock)->clear_failure();
  EXPECT_FALSE((*lock)->read_failure().has_value());
}

} // namespace
} // namespace common::cache
