#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/artifact/archive.hpp"
#include "common/artifact/storage.hpp"
#include "common/image/digest.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::artifact {
namespace {

using image::sha256_digest;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::read_text_file;
using test_support::TempDir;
using util::ErrorKind;

constexpr const char* k_kind = "externalartifact";

std::string hex_of(const std::string& bytes) {
  return sha256_digest(bytes).substr(7);
}

class StorageTest : public ::testing::Test {
protected:
  std::string root() const { return m_dir.path() + "/artifacts"; }
  std::string file(const std::string& rel) const { return root() + "/" + rel; }
  std::vector<std::string> object_files(const std::string& ns = "demo",
                                        const std::string& name = "web") const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e :
         fs::directory_iterator(root() + "/externalartifact/" + ns + "/" + name, ec)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir m_dir;
  util::FakeClock m_clock;
};

TEST_F(StorageTest, PutWritesTheFileUnderItsDigest) {
  Storage storage(root(), m_clock);
  auto stored = storage.put(k_kind, "demo", "web", "bytes-a");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->path, "externalartifact/demo/web/" + hex_of("bytes-a") + ".tar.gz");
  EXPECT_EQ(stored->digest, sha256_digest("bytes-a"));
  EXPECT_EQ(stored->size, 7u);
  EXPECT_TRUE(stored->changed);
  EXPECT_EQ(read_text_file(file(stored->path)), "bytes-a");
  struct stat st {};
  ASSERT_EQ(::stat(file(stored->path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(st.st_mtim.tv_sec, std::chrono::system_clock::to_time_t(m_clock.now()));
  EXPECT_EQ(object_files(), std::vector<std::string>{hex_of("bytes-a") + ".tar.gz"});
}

TEST_F(StorageTest, TheSameBytesChangeNothing) {
  Storage storage(root(), m_clock);
  const Stored first = storage.put(k_kind, "demo", "web", "bytes-a").value();
  struct stat before {};
  ASSERT_EQ(::stat(file(first.path).c_str(), &before), 0);
  m_clock.advance(10s);
  auto again = storage.put(k_kind, "demo", "web", "bytes-a");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->path, first.path);
  EXPECT_EQ(again->digest, first.digest);
  struct stat after {};
  ASSERT_EQ(::stat(file(first.path).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_F(StorageTest, NewContentBecomesCurrentAndOldContentCanComeBack) {
  Storage storage(root(), m_clock);
  const Stored a = storage.put(k_kind, "demo", "web", "bytes-a").value();
  const Stored b = storage.put(k_kind, "demo", "web", "bytes-b").value(); // same instant
  EXPECT_TRUE(b.changed);
  EXPECT_EQ(storage.current(k_kind, "demo", "web").value()->path, b.path);
  // Back to A: the retained file is current again, nothing rewritten.
  auto back = storage.put(k_kind, "demo", "web", "bytes-a");
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->changed);
  EXPECT_EQ(back->path, a.path);
  auto current = storage.current(k_kind, "demo", "web");
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->path, a.path);
  EXPECT_EQ((*current)->digest, a.digest);
  EXPECT_EQ((*current)->size, 7u);
  EXPECT_FALSE(storage.put(k_kind, "demo", "web", "bytes-a").value().changed);
  EXPECT_EQ(object_files().size(), 2u);
}

TEST_F(StorageTest, CurrentOfAnObjectWithoutFiles) {
  Storage storage(root(), m_clock);
  EXPECT_EQ(storage.current(k_kind, "demo", "web").value(), std::nullopt); // no root yet
  ASSERT_TRUE(storage.put(k_kind, "demo", "other", "x"));
  EXPECT_EQ(storage.current(k_kind, "demo", "web").value(), std::nullopt);
}

TEST_F(StorageTest, ADamagedFileIsWrittenAgain) {
  Storage storage(root(), m_clock);
  const Stored a = storage.put(k_kind, "demo", "web", "bytes-a").value();
  { std::ofstream(file(a.path), std::ios::binary | std::ios::trunc) << "bytes-X"; }
  auto again = storage.put(k_kind, "demo", "web", "bytes-a");
  ASSERT_TRUE(again);
  EXPECT_EQ(read_text_file(file(a.path)), "bytes-a");
}

// ---- retention
// ------------------------------------------------------------------------------------

struct RetentionCase {
  const char* label;
  Retention retention;
  // Puts of distinct contents, each after advancing the clock by the given seconds.
  std::vector<int> advance_before_put;
  int advance_before_gc;
  std::vector<int> kept; // indexes of the puts whose files survive gc
};

class RetentionTest : public StorageTest, public ::testing::WithParamInterface<RetentionCase> {};

TEST_P(RetentionTest, GcKeepsWhatTheRetentionSays) {
  const RetentionCase& c = GetParam();
  Storage storage(root(), m_clock, c.retention);
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < c.advance_before_put.size(); ++i) {
    m_clock.advance(std::chrono::seconds(c.advance_before_put[i]));
    paths.push_back(
        storage.put(k_kind, "demo", "web", "content-" + std::to_string(i)).value().path);
  }
  m_clock.advance(std::chrono::seconds(c.advance_before_gc));
  auto report = storage.gc();
  ASSERT_TRUE(report) << report.error().message;
  std::vector<std::string> expected_kept;
  std::vector<std::string> expected_removed;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const bool kept = std::find(c.kept.begin(), c.kept.end(), static_cast<int>(i)) != c.kept.end();
    (kept ? expected_kept : expected_removed).push_back(paths[i]);
  }
  std::sort(expected_removed.begin(), expected_removed.end());
  EXPECT_EQ(report->removed, expected_removed);
  for (const std::string& p : expected_kept) {
    EXPECT_TRUE(fs::exists(file(p))) << p;
  }
  for (const std::string& p : expected_removed) {
    EXPECT_FALSE(fs::exists(file(p))) << p;
  }
  // The newest put is current whatever was removed.
  EXPECT_EQ(storage.current(k_kind, "demo", "web").value()->path, paths.back());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RetentionTest,
    ::testing::Values(
        // Flux's defaults: 2 records, 1 minute.
        RetentionCase{"previous_kept_within_ttl", {}, {0, 10}, 30, {0, 1}},
        RetentionCase{"previous_removed_after_ttl", {}, {0, 10}, 61, {1}},
        RetentionCase{"ttl_counts_from_superseded", {}, {0, 3600}, 59, {0, 1}},
        RetentionCase{"only_two_records", {}, {0, 1, 1, 1}, 1, {2, 3}},
        RetentionCase{"current_never_removed", {}, {0}, 86400, {0}},
        RetentionCase{"five_records", {5, 60s}, {0, 1, 1, 1, 1, 1, 1}, 1, {2, 3, 4, 5, 6}},
        RetentionCase{"ttl_zero", {5, 0s}, {0, 1, 1}, 1, {2}},
        RetentionCase{"records_zero_means_one", {0, 3600s}, {0, 1}, 1, {1}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST_F(StorageTest, GcRemovesLeftoverTemporaryFilesAndSpansObjects) {
  Storage storage(root(), m_clock);
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "a"));
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "b"));
  ASSERT_TRUE(storage.put(k_kind, "other", "api", "c"));
  ASSERT_TRUE(storage.put(k_kind, "other", "api", "d"));
  const std::string leftover = "." + hex_of("e") + ".tar.gz.tmp";
  std::ofstream(root() + "/externalartifact/demo/web/" + leftover) << "partial";
  std::ofstream(root() + "/externalartifact/demo/web/README") << "not ours";
  m_clock.advance(120s);
  auto report = storage.gc();
  ASSERT_TRUE(report) << report.error().message;
  std::vector<std::string> removed = {"externalartifact/demo/web/" + hex_of("a") + ".tar.gz",
                                      "externalartifact/demo/web/" + leftover,
                                      "externalartifact/other/api/" + hex_of("c") + ".tar.gz"};
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(report->removed, removed);
  std::vector<std::string> left = {"README", hex_of("b") + ".tar.gz"};
  std::sort(left.begin(), left.end());
  EXPECT_EQ(object_files(), left);
  EXPECT_TRUE(Storage(root() + "-none", m_clock).gc().value().removed.empty());
}

// ---- names and open
// -------------------------------------------------------------------------------

TEST_F(StorageTest, BadNamesAreRefused) {
  Storage storage(root(), m_clock);
  const std::vector<std::vector<std::string>> bad = {{"ExternalArtifact", "demo", "web"},
                                                     {"external-artifact", "demo", "web"},
                                                     {"", "demo", "web"},
                                                     {k_kind, "..", "web"},
                                                     {k_kind, "demo", ".."},
                                                     {k_kind, "demo", "a/b"},
                                                     {k_kind, "Demo", "web"},
                                                     {k_kind, "demo", ""},
                                                     {k_kind, "demo", "-web"},
                                                     {k_kind, "demo", "a..b"},
                                                     {k_kind, std::string(64, 'n'), "web"},
                                                     {k_kind, "demo", std::string(254, 'w')}};
  for (const auto& b : bad) {
    auto stored = storage.put(b[0], b[1], b[2], "x");
    ASSERT_FALSE(stored) << b[0] << "/" << b[1] << "/" << b[2];
    EXPECT_EQ(stored.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_FALSE(fs::exists(root()));
  EXPECT_TRUE(storage.put(k_kind, "demo", "web.v2", "x"));
}

TEST_F(StorageTest, OpenReadsAStoredFile) {
  Storage storage(root(), m_clock);
  const Stored a = storage.put(k_kind, "demo", "web", "bytes-a").value();
  auto opened = storage.open(a.path);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->size(), 7u);
  EXPECT_EQ(opened->read_all().value(), "bytes-a");
  // Moving keeps one owner of the descriptor.
  ArtifactFile moved = std::move(*opened);
  EXPECT_GE(moved.fd(), 0);
}

TEST_F(StorageTest, OpenRefusesPathsOutsideTheLayout) {
  Storage storage(root(), m_clock);
  const Stored a = storage.put(k_kind, "demo", "web", "bytes-a").value();
  std::ofstream(m_dir.path() + "/secret") << "secret";
  const std::string hex = hex_of("bytes-a");
  for (const std::string& p :
       {std::string("../secret"), std::string("/etc/passwd"), root() + "/" + a.path,
        std::string("externalartifact/demo/web/../../../../secret"),
        std::string("externalartifact/demo/web/./") + hex + ".tar.gz",
        std::string("externalartifact/demo//web/") + hex + ".tar.gz",
        std::string("externalartifact\\demo\\web\\") + hex + ".tar.gz",
        std::string("externalartifact/demo/web"), std::string("externalartifact/demo/web/"),
        std::string("externalartifact/demo/web/." + hex + ".tar.gz.tmp"),
        std::string("externalartifact/demo/web/" + hex + ".tar.gz/x"),
        std::string("externalartifact/demo/web/" + hex.substr(1) + ".tar.gz"),
        std::string("x/externalartifact/demo/web/" + hex + ".tar.gz"), std::string("")}) {
    auto opened = storage.open(p);
    ASSERT_FALSE(opened) << p;
    EXPECT_EQ(opened.error().kind, ErrorKind::invalid_input) << p;
    EXPECT_NE(opened.error().message.find("refused"), std::string::npos) << opened.error().message;
  }
  const std::string missing = "externalartifact/demo/web/" + hex_of("other") + ".tar.gz";
  EXPECT_EQ(storage.open(missing).error().kind, ErrorKind::not_found);
  EXPECT_EQ(storage.open("externalartifact/demo/none/" + hex + ".tar.gz").error().kind,
            ErrorKind::not_found);
}

TEST_F(StorageTest, OpenRefusesSymlinks) {
  Storage storage(root(), m_clock);
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "bytes-a"));
  std::ofstream(m_dir.path() + "/secret") << "secret";
  const std::string hex = hex_of("secret");
  // A symlinked file, a symlinked object directory and a symlinked namespace directory.
  ASSERT_EQ(::symlink((m_dir.path() + "/secret").c_str(),
                      file("externalartifact/demo/web/" + hex + ".tar.gz").c_str()),
            0);
  fs::create_directories(m_dir.path() + "/elsewhere/web");
  fs::copy_file(m_dir.path() + "/secret", m_dir.path() + "/elsewhere/web/" + hex + ".tar.gz");
  ASSERT_EQ(::symlink((m_dir.path() + "/elsewhere/web").c_str(),
                      file("externalartifact/demo/linked").c_str()),
            0);
  ASSERT_EQ(::symlink((m_dir.path() + "/elsewhere").c_str(), file("externalartifact/evil").c_str()),
            0);
  for (const std::string& p : {"externalartifact/demo/web/" + hex + ".tar.gz",
                               "externalartifact/demo/linked/" + hex + ".tar.gz",
                               "externalartifact/evil/web/" + hex + ".tar.gz"}) {
    auto opened = storage.open(p);
    ASSERT_FALSE(opened) << p;
    EXPECT_EQ(opened.error().kind, ErrorKind::invalid_input) << p;
  }
  // A put into a symlinked object directory is refused as well.
  auto stored = storage.put(k_kind, "demo", "linked", "x");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().kind, ErrorKind::invalid_input);
}

TEST_F(StorageTest, OpenRefusesAFifo) {
  Storage storage(root(), m_clock);
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "bytes-a"));
  const std::string hex = hex_of("fifo");
  ASSERT_EQ(::mkfifo(file("externalartifact/demo/web/" + hex + ".tar.gz").c_str(), 0600), 0);
  auto opened = storage.open("externalartifact/demo/web/" + hex + ".tar.gz");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, ErrorKind::invalid_input);
}

TEST_F(StorageTest, RemoveObject) {
  Storage storage(root(), m_clock);
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "a"));
  ASSERT_TRUE(storage.put(k_kind, "demo", "web", "b"));
  ASSERT_TRUE(storage.put(k_kind, "demo", "api", "c"));
  ASSERT_TRUE(storage.remove_object(k_kind, "demo", "web"));
  EXPECT_FALSE(fs::exists(root() + "/externalartifact/demo/web"));
  EXPECT_TRUE(fs::exists(root() + "/externalartifact/demo/api"));
  EXPECT_TRUE(storage.remove_object(k_kind, "demo", "web")); // already gone: fine
  ASSERT_TRUE(storage.remove_object(k_kind, "demo", "api"));
  EXPECT_FALSE(fs::exists(root() + "/externalartifact")); // empty parents removed
  EXPECT_TRUE(fs::exists(root()));
  EXPECT_EQ(storage.remove_object(k_kind, "demo", "../x").error().kind, ErrorKind::invalid_input);
}

} // namespace
} // namespace common::artifact
