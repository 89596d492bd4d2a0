#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
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
using std::chrono::minutes;
using std::chrono::seconds;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class CacheDisk : public ::testing::Test {
protected:
  test_support::TempDir m_tmp;
  util::FakeClock m_clock;
  std::string m_dir = m_tmp.path() + "/cache";
};

TEST_F(CacheDisk, RoundTripsByNamespaceAndKey) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.usable()) << cache.usable().error().message;
  struct Case {
    std::string ns;
    std::string key;
    std::string data;
  };
  const Case cases[] = {
      {"tags", "https://registry-1.docker.io/library/nginx", "[\"1.25\",\"1.26\"]"},
      {"blob", "https://registry-1.docker.io/library/nginx", "a blob, same key"},
      {"manifest", "sha256:abc", std::string("\0binary\n\xff", 9)},
      {"tags", "../../../etc/passwd", "no path injection"},
      {"tags", "empty data", ""},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(cache.put(c.ns, c.key, c.data).has_value()) << c.ns << " " << c.key;
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ns + " " + c.key);
    auto got = cache.get(c.ns, c.key);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->data, c.data);
    EXPECT_EQ((*got)->stored_at, m_clock.now());
    EXPECT_FALSE((*got)->stale);
    EXPECT_TRUE(fs::is_regular_file(cache.entry_path(c.ns, c.key)));
    EXPECT_EQ(mode_of(cache.entry_path(c.ns, c.key)), 0600u);
  }
  auto miss = cache.get("other", "https://registry-1.docker.io/library/nginx");
  ASSERT_TRUE(miss.has_value());
  EXPECT_FALSE(miss->has_value());
  EXPECT_FALSE(fs::exists(m_tmp.path() + "/etc"));
}

TEST_F(CacheDisk, PutReplacesAndStampsWithTheClock) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", "k", "old"));
  m_clock.advance(minutes(3));
  ASSERT_TRUE(cache.put("tags", "k", "new"));
  auto got = cache.get("tags", "k");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->data, "new");
  EXPECT_EQ((*got)->stored_at, m_clock.now());
}

TEST_F(CacheDisk, RejectsBadKeysAndOversizedData) {
  Options options;
  options.max_entry_size = 10;
  DiskCache cache(m_dir, m_clock, options);
  auto bad_ns = cache.put("a/b", "k", "x");
  ASSERT_FALSE(bad_ns);
  EXPECT_EQ(bad_ns.error().kind, util::ErrorKind::invalid_input);
  ASSERT_FALSE(cache.get("", "k"));
  EXPECT_EQ(cache.entry_path("", "k"), "");
  auto big = cache.put("tags", "k", std::string(11, 'x'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, util::ErrorKind::too_large);
  EXPECT_TRUE(cache.put("tags", "k", std::string(10, 'x')));

  // A file larger than the bound allows (written by a cache with a larger bound) is a miss,
  // not damage: it stays.
  DiskCache larger(m_dir, m_clock);
  ASSERT_TRUE(larger.put("tags", "big", std::string(100'000, 'x')));
  auto got = cache.get("tags", "big");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
  EXPECT_TRUE(fs::exists(cache.entry_path("tags", "big")));
}

TEST_F(CacheDisk, AForeignOrCollidingFileIsAMissAndStays) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", "a", "data of a"));
  // The entry of "a" under the name of "b": what a hash collision would look like.
  const std::string b_path = cache.entry_path("tags", "b");
  fs::create_directories(fs::path(b_path).parent_path());
  fs::copy_file(cache.entry_path("tags", "a"), b_path);
  auto got = cache.get("tags", "b");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
  EXPECT_TRUE(fs::exists(b_path));
}

TEST_F(CacheDisk, ACorruptOrTruncatedFileIsAMissAndIsRemoved) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", "k", "0123456789abcdef"));
  const std::string path = cache.entry_path("tags", "k");
  const std::string good = slurp(path);
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 0x20;
  const Case cases[] = {
      {"empty", ""},
      {"header cut", good.substr(0, 15)},
      {"half", good.substr(0, good.size() / 2)},
      {"last byte missing", good.substr(0, good.size() - 1)},
      {"extra byte", good + "!"},
      {"data flipped", flipped},
      {"garbage", "<html>502 Bad Gateway</html>"},
      {"nul bytes", std::string(4096, '\0')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    spit(path, c.bytes);
    auto got = cache.get("tags", "k");
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_FALSE(got->has_value());
    EXPECT_FALSE(fs::exists(path));
  }
}

TEST_F(CacheDisk, ASymlinkOrDirectoryAtTheEntryIsAMiss) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", "k", "data"));
  const std::string path = cache.entry_path("tags", "k");
  const std::string target = m_tmp.write("elsewhere", "secret");
  fs::remove(path);
  fs::create_symlink(target, path);
  auto got = cache.get("tags", "k");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(slurp(target), "secret");

  fs::remove(path);
  fs::create_directory(path);
  got = cache.get("tags", "k");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_FALSE(got->has_value());
}

TEST_F(CacheDisk, CreatesThePrivateDirectoryWithItsParents) {
  const std::string nested = m_tmp.path() + "/a/b/cache";
  DiskCache cache(nested + "/", m_clock);
  ASSERT_TRUE(cache.usable()) << cache.usable().error().message;
  EXPECT_EQ(cache.directory(), nested);
  EXPECT_EQ(mode_of(nested), 0700u);
  EXPECT_EQ(mode_of(m_tmp.path() + "/a"), 0700u);
  ASSERT_TRUE(cache.put("tags", "k", "v"));
  EXPECT_EQ(mode_of(fs::path(cache.entry_path("tags", "k")).parent_path().string()), 0700u);
}

TEST_F(CacheDisk, RefusesADirectoryOthersCanWrite) {
  struct Case {
    unsigned mode;
    bool usable;
  };
  const Case cases[] = {
      {0700, true}, {0755, true}, {0750, true}, {0777, false}, {0770, false}, {0702, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode);
    const std::string dir = m_tmp.path() + "/mode" + std::to_string(c.mode);
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(dir.c_str(), c.mode), 0);
    DiskCache cache(dir, m_clock);
    EXPECT_EQ(cache.usable().has_value(), c.usable);
    if (!c.usable) {
      EXPECT_EQ(cache.usable().error().kind, util::ErrorKind::invalid_input);
      EXPECT_NE(cache.usable().error().message.find(dir), std::string::npos);
      EXPECT_NE(cache.usable().error().message.find("writable by group or others"),
                std::string::npos)
          << cache.usable().error().message;
      // Nothing is read from or written to it.
      auto put = cache.put("tags", "k", "v");
      ASSERT_FALSE(put);
      EXPECT_EQ(put.error().kind, util::ErrorKind::invalid_input);
      EXPECT_FALSE(cache.get("tags", "k"));
      EXPECT_FALSE(fs::exists(dir + "/v1"));
    }
  }
}

TEST_F(CacheDisk, RefusesADirectoryOwnedByAnotherUser) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a directory to another user";
  }
  ASSERT_EQ(::mkdir(m_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(m_dir.c_str(), 65534, 65534), 0);
  DiskCache cache(m_dir, m_clock);
  ASSERT_FALSE(cache.usable());
  EXPECT_EQ(cache.usable().error().kind, util::ErrorKind::invalid_input);
  EXPECT_NE(cache.usable().error().message.find("owned by uid 65534"), std::string::npos)
      << cache.usable().error().message;
}

TEST_F(CacheDisk, ADirectoryThatCannotBeCreatedMakesTheCacheUnusable) {
  const std::string file = m_tmp.write("a-file", "x");
  DiskCache cache(file + "/cache", m_clock);
  ASSERT_FALSE(cache.usable());
  EXPECT_NE(cache.usable().error().message.find(file), std::string::npos);
  EXPECT_FALSE(cache.put("tags", "k", "v"));
  EXPECT_FALSE(cache.get("tags", "k"));
  EXPECT_FALSE(cache.prune(hours(1)));
}

// Run as an unprivileged user (root writes through 0500): in a child that drops to nobody when
// the test runs as root.
TEST_F(CacheDisk, AnUnwritableDirectoryMakesTheCacheUnusableButFetchStillWorks) {
  const bool root = ::geteuid() == 0;
  ASSERT_EQ(::mkdir(m_dir.c_str(), 0700), 0);
  if (root) {
    ASSERT_EQ(::chmod(m_tmp.path().c_str(), 0711), 0);
    ASSERT_EQ(::chown(m_dir.c_str(), 65534, 65534), 0);
  }
  ASSERT_EQ(::chmod(m_dir.c_str(), 0500), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(10);
    }
    DiskCache cache(m_dir, m_clock);
    if (cache.usable() ||
        cache.usable().error().message.find("cannot create v1") == std::string::npos) {
      ::_exit(11);
    }
    int calls = 0;
    auto got = cache.get_or_fetch("tags", "k", always_fresh(), [&]() -> util::Result<std::string> {
      ++calls;
      return std::string("tags");
    });
    if (!got || got->data != "tags" || calls != 1 ||
        got->warning.find("cache unusable") == std::string::npos) {
      ::_exit(12);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::chmod(m_dir.c_str(), 0700);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setuid, 11: usable(), 12: get_or_fetch";
}

// Readers racing a writer that alternates two large payloads see one of them whole, never a
// mix or a prefix.
TEST_F(CacheDisk, ReadersNeverSeeAPartialEntry) {
  util::SystemClock clock;
  DiskCache cache(m_dir, clock);
  const std::string a(100'000, 'a');
  const std::string b(250'000, 'b');
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto got = cache.get("tags", "k");
        if (!got || (*got && (*got)->data != a && (*got)->data != b)) {
          ++bad;
        }
        ++reads;
      }
    });
  }
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(cache.put("tags", "k", i % 2 == 0 ? a : b));
  }
  done = true;
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  // No temp file is left behind.
  for (const auto& e : fs::recursive_directory_iterator(m_dir)) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp.", 0), std::string::npos) << e.path();
  }
}

TEST_F(CacheDisk, PruneRemovesOldEntriesStrayTempFilesAndOrphanLocks) {
  DiskCache cache(m_dir, m_clock);
  ASSERT_TRUE(cache.put("tags", "old", "o"));
  m_clock.advance(hours(2));
  ASSERT_TRUE(cache.put("tags", "new", "n"));
  ASSERT_TRUE(cache.put("tags", "corrupt", "c"));
  spit(cache.entry_path("tags", "corrupt"), "junk");
  const std::string old_path = cache.entry_path("tags", "old");
  const std::string shard = fs::path(old_path).parent_path().string();

  // A temp file left by a writer that died long ago, one being written right now.
  auto set_mtime = [&](const std::string& path, std::chrono::system_clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    struct timespec times[2] = {{ns / 1'000'000'000, ns % 1'000'000'000},
                                {ns / 1'000'000'000, ns % 1'000'000'000}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  };
  const std::string stray = shard + "/.tmp.dead.1.2.3";
  const std::string live = shard + "/.tmp.live.1.2.3";
  spit(stray, "partial");
  spit(live, "partial");
  set_mtime(stray, m_clock.now() - minutes(11));
  set_mtime(live, m_clock.now() - seconds(1));
  // Lock files: one orphaned (its entry will be pruned), one held, one of a live entry.
  spit(old_path + ".lock", "");
  const std::string held_path = shard + "/" + std::string(64, 'f') + ".lock";
  spit(held_path, "");
  spit(cache.entry_path("tags", "new") + ".lock", "");
  UniqueFd root(::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto held = KeyLock::try_acquire(root.get(), fs::relative(held_path, m_dir).string(), "held");
  ASSERT_TRUE(held && *held);
  const std::string foreign = shard + "/README";
  spit(foreign, "not ours");

  auto stats = cache.prune(hours(1));
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->entries_removed, 2u); // old + corrupt
  EXPECT_EQ(stats->entries_kept, 1u);
  EXPECT_EQ(stats->temp_files_removed, 1u);
  EXPECT_EQ(stats->lock_files_removed, 1u);
  EXPECT_GT(stats->bytes_removed, 0u);
  EXPECT_FALSE(fs::exists(old_path));
  EXPECT_FALSE(fs::exists(old_path + ".lock"));
  EXPECT_FALSE(fs::exists(cache.entry_path("tags", "corrupt")));
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(held_path));
  EXPECT_TRUE(fs::exists(cache.entry_path("tags", "new") + ".lock"));
  EXPECT_TRUE(fs::exists(foreign));
  auto kept = cache.get("tags", "new");
  ASSERT_TRUE(kept && *kept);

  // max_age 0 empties the cache.
  stats = cache.prune(std::chrono::nanoseconds(0));
  ASSERT_TRUE(stats.has_value());
  m_clock.advance(seconds(1));
  stats = cache.prune(std::chrono::nanoseconds(0));
  ASSERT_TRUE(stats.has_value());
  kept = cache.get("tags", "new");
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(kept->has_value());
}

} // namespace
} // namespace common::cache
