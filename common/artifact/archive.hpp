// Flux artifacts as bytes: a util::Tree packed into a reproducible tar.gz (the tarball layout of
// Flux's artifact contract, reference §2.4), and a tar.gz read back under the rules Flux's
// consumers apply (fluxcd/pkg tar/untar.go), for tests and for checking what we publish.
//
// pack() output is a pure function of the SET of files: GNU tar format (long names as
// ././@LongLink records, names stored as their raw bytes), entries sorted by path (byte order),
// every parent directory emitted once as a directory entry before its content, uid/gid 0, empty
// uname/gname, mtime 0 and no atime/ctime, no symlinks, a gzip header without timestamp or file
// name, compression level 6. Byte-identical output is promised for one build of this code
// (another zlib version may compress differently: the digest is a content key within one
// deployment, not across upgrades of zlib).
//
// Modes are Flux's (source-controller's Storage.Archive): 0750 directories, 0600 files, 0700
// executables. Consumers (kustomize-controller) extract into a private directory, so nothing
// wants group or other access, and an artifact of ours then carries the same modes as the
// GitRepository artifacts a cluster already serves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::artifact {

inline constexpr unsigned k_dir_mode = 0750;
inline constexpr unsigned k_file_mode = 0600;
inline constexpr unsigned k_exec_mode = 0700;

// Bounds on what is read (unpack, tar_digest, read_directory). The defaults are Flux's: 100 MiB
// of file content (fluxcd/pkg tar's default cap).
struct Limits {
  std::size_t max_files = 100'000;                          // regular files; more is too_large
  std::uint64_t max_total_bytes = std::uint64_t{100} << 20; // content, uncompressed
  std::size_t max_depth = 64;                               // path segments of one entry
  std::size_t max_path = 4096;                              // bytes of one path
};

// The path rule of a TreeFile and of every tar entry we accept: non-empty, relative (no leading
// '/'), '/'-separated without empty, "." or ".." segments and without a trailing '/', no '\'
// and no NUL byte, at most `max_path` bytes. Fails with invalid_input quoting the path and
// saying which rule it breaks.
util::Result<void> check_path(std::string_view path, std::size_t max_path = Limits{}.max_path);

// The reproducible tar.gz of `files` (see above). Input order does not matter. Fails with
// invalid_input on a path failing check_path, on two files with the same path and on a path that
// is both a file and a directory ("a" and "a/b"); internal if libarchive fails.
util::Result<std::string> pack(const util::Tree& files);

// The files of a tar.gz, sorted by path, as a Flux consumer would extract them. Directory entries
// are checked and dropped (a Tree holds files only); a leading "./" and the root entry "." are
// accepted (tar -C dir . writes them). Fails with invalid_input when the input is not gzip, the
// tar is malformed, a name breaks check_path (empty, absolute, '\', ".."), an entry is a
// symlink, a hard link or another special file, or a path repeats or is both a file and a
// directory; too_large past `limits`.
util::Result<util::Tree> unpack(std::string_view targz, const Limits& limits = {});

// "sha256:<hex>" of the tar inside a tar.gz (what OCI calls the layer's diff_id). Fails with
// invalid_input when the input is not gzip or is corrupt, too_large past max_total_bytes (of
// uncompressed tar).
util::Result<std::string> tar_digest(std::string_view targz, const Limits& limits = {});

} // namespace common::artifact
