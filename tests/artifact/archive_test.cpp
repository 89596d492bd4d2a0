#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "common/artifact/archive.hpp"
#include "common/image/digest.hpp"

#include "tests/artifact/tar_builder.hpp"

namespace common::artifact {
namespace {

using image::sha256_digest;

using testing::make_tar;
using testing::make_targz;
using testing::RawEntry;
using util::ErrorKind;
using util::Tree;
using util::TreeFile;

Tree sorted(Tree t) {
  std::sort(t.begin(), t.end(),
            [](const TreeFile& a, const TreeFile& b) { return a.path < b.path; });
  return t;
}

// What a tar stream says about one entry, read back with libarchive.
struct Header {
  std::string name;
  unsigned type = 0;
  unsigned perm = 0;
  std::int64_t uid = -1, gid = -1, mtime = -1, size = -1;
  std::string uname, gname;
  bool atime = false, ctime = false;
};

std::vector<Header> headers(const std::string& targz) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                              &archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), targz.data(), targz.size()), ARCHIVE_OK);
  std::vector<Header> out;
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    Header h;
    h.name = archive_entry_pathname(e);
    h.type = archive_entry_filetype(e);
    h.perm = archive_entry_perm(e);
    h.uid = archive_entry_uid(e);
    h.gid = archive_entry_gid(e);
    h.mtime = archive_entry_mtime(e);
    h.size = archive_entry_size(e);
    h.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
    h.gname = archive_entry_gname(e) ? archive_entry_gname(e) : "";
    h.atime = archive_entry_atime_is_set(e) != 0;
    h.ctime = archive_entry_ctime_is_set(e) != 0;
    out.push_back(h);
  }
  return out;
}

const Tree k_sample = {
    {"apps/web/deploy.yaml", "kind: Deployment\n", false},
    {"kustomization.yaml", "resources:\n- apps/web/deploy.yaml\n", false},
    {"apps/web/service.yaml", "kind: Service\n", false},
    {"bin/render.sh", "#!/bin/sh\necho hi\n", true},
    {"apps.txt", "a file named like a directory's prefix", false},
    {"apps/empty", "", false},
};

// ---- determinism
// ----------------------------------------------------------------------------------

struct DeterminismCase {
  const char* label;
  Tree tree;
};

class Determinism : public ::testing::TestWithParam<DeterminismCase> {};

TEST_P(Determinism, EveryInputOrderGivesTheSameBytes) {
  const Tree& tree = GetParam().tree;
  auto first = pack(tree);
  ASSERT_TRUE(first) << first.error().message;
  Tree shuffled = tree;
  std::mt19937 rng(42);
  for (int round = 0; round < 8; ++round) {
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto again = pack(shuffled);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, *first) << "round " << round;
    EXPECT_EQ(sha256_digest(*again), sha256_digest(*first));
  }
  Tree reversed(tree.rbegin(), tree.rend());
  EXPECT_EQ(pack(reversed).value(), *first);
}

TEST_P(Determinism, RoundTripsThroughUnpack) {
  const Tree& tree = GetParam().tree;
  auto packed = pack(tree);
  ASSERT_TRUE(packed) << packed.error().message;
  auto back = unpack(*packed);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, sorted(tree));
}

INSTANTIATE_TEST_SUITE_P(
    Trees, Determinism,
    ::testing::Values(
        DeterminismCase{"empty", {}}, DeterminismCase{"one", {{"a.yaml", "x: 1\n", false}}},
        DeterminismCase{"sample", k_sample},
        DeterminismCase{
            "binary_and_large",
            {{"blob.bin", std::string("\0\1\2\xff", 4) + std::string(1 << 20, 'z'), false},
             {"z/last", "z", true}}},
        DeterminismCase{
            "long_and_utf8_names",
            {{std::string(120, 'd') + "/" + std::string(150, 'f') + ".yaml", "long", false},
             {std::string(300, 'p'), "longer than ustar can hold", false},
             {"caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.yaml", "utf-8", false}}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

// ---- what the bytes look like
// ---------------------------------------------------------------------

TEST(Pack, HeadersAreSanitisedAndSorted) {
  auto packed = pack(k_sample);
  ASSERT_TRUE(packed) << packed.error().message;
  const std::vector<Header> hs = headers(*packed);
  std::vector<std::string> names;
  for (const Header& h : hs) {
    names.push_back(h.name);
    EXPECT_EQ(h.uid, 0) << h.name;
    EXPECT_EQ(h.gid, 0) << h.name;
    EXPECT_EQ(h.mtime, 0) << h.name;
    EXPECT_EQ(h.uname, "") << h.name;
    EXPECT_EQ(h.gname, "") << h.name;
    EXPECT_FALSE(h.atime) << h.name;
    EXPECT_FALSE(h.ctime) << h.name;
  }
  // Directories before their content, everything in byte order of the path.
  EXPECT_EQ(names, (std::vector<std::string>{"apps/", "apps.txt", "apps/empty", "apps/web/",
                                             "apps/web/deploy.yaml", "apps/web/service.yaml",
                                             "bin/", "bin/render.sh", "kustomization.yaml"}));
  for (const Header& h : hs) {
    if (h.name.ends_with('/')) {
      EXPECT_EQ(h.type, static_cast<unsigned>(AE_IFDIR)) << h.name;
      EXPECT_EQ(h.perm, 0750u) << h.name;
    } else if (h.name == "bin/render.sh") {
      EXPECT_EQ(h.perm, 0700u);
    } else {
      EXPECT_EQ(h.type, static_cast<unsigned>(AE_IFREG)) << h.name;
      EXPECT_EQ(h.perm, 0600u) << h.name;
    }
  }
}

TEST(Pack, GzipHeaderHasNoTimeAndNoName) {
  auto packed = pack(k_sample);
  ASSERT_TRUE(packed);
  ASSERT_GT(packed->size(), 10u);
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>((*packed)[i]); };
  EXPECT_EQ(byte(0), 0x1f);
  EXPECT_EQ(byte(1), 0x8b);
  EXPECT_EQ(byte(2), 8); // deflate
  EXPECT_EQ(byte(3) & 0x08, 0) << "FNAME set";
  EXPECT_EQ(byte(4) | byte(5) | byte(6) | byte(7), 0) << "MTIME set";
}

TEST(Pack, NothingFollowsTheGzipStream) {
  // The stream ends with CRC32 and ISIZE: ISIZE (little endian, the last four bytes) is the
  // size of the tar, a multiple of 512. Zero padding after it would make ISIZE 0.
  auto packed = pack(k_sample);
  ASSERT_TRUE(packed);
  const std::size_t n = packed->size();
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>((*packed)[i]));
  };
  const std::uint32_t isize =
      byte(n - 4) | byte(n - 3) << 8 | byte(n - 2) << 16 | byte(n - 1) << 24;
  EXPECT_GT(isize, 0u);
  EXPECT_EQ(isize % 512, 0u);
}

TEST(Pack, DifferentContentOrModeGivesAnotherDigest) {
  const std::string base = pack({{"a", "1", false}}).value();
  EXPECT_NE(pack({{"a", "2", false}}).value(), base);
  EXPECT_NE(pack({{"a", "1", true}}).value(), base);
  EXPECT_NE(pack({{"b", "1", false}}).value(), base);
}

TEST(Digest, TarDigestIsTheDigestOfTheUncompressedTar) {
  const std::string tar = make_tar({{"a.yaml", '0', "hello\n"}});
  auto digest = tar_digest(testing::gzip(tar));
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, sha256_digest(tar));
  EXPECT_EQ(tar_digest(tar).error().kind, ErrorKind::invalid_input); // not gzip
  Limits small;
  small.max_total_bytes = 1000;
  EXPECT_EQ(tar_digest(testing::gzip(tar), small).error().kind, ErrorKind::too_large);
}

// ---- unsafe paths
// ---------------------------------------------------------------------------------

struct UnsafeCase {
  const char* label;
  std::string path;
};

const std::vector<UnsafeCase> k_unsafe = {
    {"empty", ""},
    {"absolute", "/etc/passwd"},
    {"parent", "../x"},
    {"parent_inside", "a/../../x"},
    {"parent_at_end", "a/.."},
    {"dot_segment", "a/./b"},
    {"backslash", "a\\b"},
    {"backslash_parent", "..\\x"},
    {"empty_segment", "a//b"},
    {"trailing_slash", "a/"},
    {"nul", std::string("a\0b", 3)},
};

class UnsafePath : public ::testing::TestWithParam<UnsafeCase> {};

TEST_P(UnsafePath, PackRejectsIt) {
  auto packed = pack({{"ok.yaml", "x", false}, {GetParam().path, "evil", false}});
  ASSERT_FALSE(packed);
  EXPECT_EQ(packed.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(packed.error().message.find("unsafe path"), std::string::npos)
      << packed.error().message;
}

TEST_P(UnsafePath, CheckPathRejectsIt) {
  EXPECT_FALSE(check_path(GetParam().path));
}

INSTANTIATE_TEST_SUITE_P(Paths, UnsafePath, ::testing::ValuesIn(k_unsafe),
                         [](const auto& param_info) {
                           return std::string(param_info.param.label);
                         });

TEST(Pack, RejectsDuplicatesAndFileDirectoryClashes) {
  auto dup = pack({{"a", "1", false}, {"a", "2", false}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);
  for (const Tree& t : {Tree{{"a", "1", false}, {"a/b", "2", false}},
                        Tree{{"a/b", "2", false}, {"a", "1", false}}}) {
    auto clash = pack(t);
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(clash.error().message.find("file and a directory"), std::string::npos)
        << clash.error().message;
  }
}

// ---- unpack: Flux's consumer rules
// ----------------------------------------------------------------

struct RefusedCase {
  const char* label;
  std::vector<RawEntry> entries;
  std::string says;
};

class UnpackRefuses : public ::testing::TestWithParam<RefusedCase> {};

TEST_P(UnpackRefuses, HandBuiltArchive) {
  auto result = unpack(make_targz(GetParam().entries));
  ASSERT_FALSE(result) << "accepted";
  EXPECT_EQ(result.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(result.error().message.find(GetParam().says), std::string::npos)
      << result.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Entries, UnpackRefuses,
    ::testing::Values(
        RefusedCase{"symlink", {{"ok", '0', "x"}, {"link", '2', "", "/etc/passwd"}}, "symlink"},
        RefusedCase{"symlink_inside", {{"a", '0', "x"}, {"b", '2', "", "a"}}, "symlink"},
        RefusedCase{"hard_link", {{"a", '0', "x"}, {"b", '1', "", "a"}}, "hard link"},
        RefusedCase{"fifo", {{"p", '6', ""}}, "FIFO"},
        RefusedCase{"char_device", {{"c", '3', ""}}, "character device"},
        RefusedCase{"dot_dot", {{"../evil", '0', "x"}}, "\"..\""},
        RefusedCase{"dot_dot_inside", {{"a/../../evil", '0', "x"}}, "\"..\""},
        RefusedCase{"dot_dot_directory", {{"../", '5', ""}}, "\"..\""},
        RefusedCase{"absolute", {{"/etc/cron.d/x", '0', "x"}}, "absolute"},
        RefusedCase{"backslash", {{"..\\evil", '0', "x"}}, "backslash"},
        RefusedCase{"empty_name", {{"", '0', "x"}}, "empty"},
        RefusedCase{"duplicate", {{"a", '0', "1"}, {"a", '0', "2"}}, "more than once"},
        RefusedCase{
            "file_then_directory", {{"a", '0', "1"}, {"a/b", '0', "2"}}, "file and a directory"},
        RefusedCase{
            "directory_then_file", {{"a/", '5', ""}, {"a", '0', "2"}}, "file and a directory"},
        RefusedCase{"file_then_directory_entry",
                    {{"a", '0', "1"}, {"a/", '5', ""}},
                    "file and a directory"}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

// One pax extended header record: "<length> key=value\n", the length counting itself.
std::string pax_record(const std::string& key, const std::string& value) {
  const std::string body = " " + key + "=" + value + "\n";
  std::size_t length = body.size() + 1;
  while (std::to_string(length).size() + body.size() != length) {
    ++length;
  }
  return std::to_string(length) + body;
}

TEST(Unpack, PaxAndGnuLongNamesAreCheckedLikeShortOnes) {
  // What Go's archive/tar (Flux) writes for a non-ASCII or long name: a pax "path" record.
  const std::string utf8 = "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.yaml";
  auto accepted = unpack(make_targz(
      {{"PaxHeaders/x", 'x', pax_record("path", utf8)}, {"ascii-fallback", '0', "utf-8"}}));
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_EQ(*accepted, (Tree{{utf8, "utf-8", false}}));
  // The record overrides the header's harmless name: it is the one checked.
  for (const std::string& evil : {std::string("../../etc/cron.d/x"), std::string("/etc/x")}) {
    auto pax = unpack(
        make_targz({{"PaxHeaders/x", 'x', pax_record("path", evil)}, {"harmless", '0', "x"}}));
    ASSERT_FALSE(pax) << evil;
    EXPECT_EQ(pax.error().kind, ErrorKind::invalid_input);
    auto gnu = unpack(
        make_targz({{"././@LongLink", 'L', evil + std::string(1, '\0')}, {"harmless", '0', "x"}}));
    ASSERT_FALSE(gnu) << evil;
    EXPECT_EQ(gnu.error().kind, ErrorKind::invalid_input);
  }
}

TEST(Unpack, AcceptsDotPrefixesAndTheRootEntry) {
  // What `tar czf x.tgz -C dir .` and Flux's own tar.Tar write.
  auto result = unpack(make_targz({{"./", '5', ""},
                                   {"./apps/", '5', ""},
                                   {"./apps/b.yaml", '0', "b", "", 0755},
                                   {"./a.yaml", '0', "a"}}));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(*result, (Tree{{"a.yaml", "a", false}, {"apps/b.yaml", "b", true}}));
}

TEST(Unpack, RequiresGzip) {
  auto plain = unpack(make_tar({{"a", '0', "x"}}));
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(plain.error().message.find("gzip"), std::string::npos);
  EXPECT_EQ(unpack("").error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(unpack("\x1f\x8bgarbage").error().kind, ErrorKind::invalid_input);
}

TEST(Unpack, RefusesTruncatedArchives) {
  const std::string full = pack(k_sample).value();
  for (std::size_t cut : {full.size() / 2, full.size() - 9}) {
    auto result = unpack(std::string_view(full).substr(0, cut));
    ASSERT_FALSE(result) << "cut at " << cut;
    EXPECT_EQ(result.error().kind, ErrorKind::invalid_input);
  }
}

TEST(Unpack, HonoursTheLimits) {
  const std::string packed = pack(k_sample).value();
  Limits files;
  files.max_files = 3;
  EXPECT_EQ(unpack(packed, files).error().kind, ErrorKind::too_large);
  Limits bytes;
  bytes.max_total_bytes = 40;
  EXPECT_EQ(unpack(packed, bytes).error().kind, ErrorKind::too_large);
  Limits depth;
  depth.max_depth = 2;
  EXPECT_EQ(unpack(packed, depth).error().kind, ErrorKind::too_large);
  Limits exact;
  exact.max_files = k_sample.size();
  exact.max_depth = 3;
  EXPECT_TRUE(unpack(packed, exact));
}

TEST(Unpack, ABombIsStoppedAtTheCap) {
  // 8 MiB of zeros compress to a few KiB; the cap stops the read, not the compressed size.
  const std::string bomb = make_targz({{"zeros", '0', std::string(8 << 20, '\0')}});
  EXPECT_LT(bomb.size(), 64u << 10);
  Limits limits;
  limits.max_total_bytes = 1 << 20;
  auto result = unpack(bomb, limits);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::too_large);
}

} // namespace
} // namespace common::artifact
