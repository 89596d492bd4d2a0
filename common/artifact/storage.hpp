// Published artifacts on disk: the storage behind the service's artifact HTTP endpoint
// (DATA/artifacts), laid out as Flux's storage is (fluxcd/pkg artifact/storage ArtifactPath):
//   <root>/<kind>/<namespace>/<name>/<sha256 hex>.tar.gz
// The file name is the content's digest, so a path names immutable bytes and a consumer that
// read an old status still finds the old file while it is retained.
//
// Which file is an object's current artifact is kept in the files' mtimes: the newest one is
// current. A put sets the mtime of the file it makes current to the Clock's now (strictly after
// every other file of the object), so tests drive retention with a FakeClock. Nothing else may
// touch the files' times.
//
// Retention (defaults are source-controller's --artifact-retention-records=2 and
// --artifact-retention-ttl=1m): gc() keeps an object's current file always, and an older file
// only while it is among the `records` newest files AND it stopped being current (the mtime of
// the next newer file) at most `ttl` ago. Counting the ttl from when a file was superseded, not
// from when it was written, gives a consumer that just read the previous status the full ttl.
//
// Concurrency: one Storage per root directory. Its methods may be called from many threads
// (writes are serialised inside); open() does not block on writes (files are replaced by
// rename, never rewritten in place). Durability: a put that returned has the file and its
// directory entry synced.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::artifact {

struct Retention {
  std::size_t records = 2; // files kept per object, the current one included (at least 1)
  std::chrono::seconds ttl{60};
};

struct Stored {
  std::string path;   // relative to the root: "externalartifact/<ns>/<name>/<hex>.tar.gz"
  std::string digest; // "sha256:<hex>" of the bytes
  std::uint64_t size = 0;
  bool changed = false; // false when these bytes already were the object's current artifact
};

// A stored artifact opened for reading (the HTTP server streams it). Owns the descriptor.
class ArtifactFile {
public:
  ArtifactFile(int fd, std::uint64_t size) noexcept : m_fd(fd), m_size(size) {}
  ~ArtifactFile();
  ArtifactFile(ArtifactFile&& other) noexcept;
  ArtifactFile& operator=(ArtifactFile&& other) noexcept;
  ArtifactFile(const ArtifactFile&) = delete;
  ArtifactFile& operator=(const ArtifactFile&) = delete;

  int fd() const noexcept { return m_fd; }
  std::uint64_t size() const noexcept { return m_size; } // at open time; files never change
  // The whole content from the current offset (invalid_input on a read error).
  util::Result<std::string> read_all();

private:
  int m_fd = -1;
  std::uint64_t m_size = 0;
};

struct GcReport {
  std::vector<std::string> removed; // relative paths, sorted
};

class Storage {
public:
  // `root` is created on the first put; `clock` must outlive the Storage.
  Storage(std::string root, util::Clock& clock, Retention retention = {});
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const std::string& root() const noexcept { return m_root; }

  // Stores `bytes` as the current artifact of (kind, namespace, name), atomically (temporary
  // file beside it, fsync, rename, fsync of the directory). When the same bytes are already the
  // current artifact nothing changes (changed=false); when they are an older retained file,
  // that file becomes current again (changed=true), so content that flips back keeps one file.
  // A retained file whose content no longer matches its name is rewritten. Fails with
  // invalid_input on a kind that is not lower-case alphanumeric, a namespace that is not a DNS
  // label or a name that is not a DNS subdomain (which also rules out "..", '/' and ""), or on
  // an I/O error (naming the path and the system's reason); a symlink anywhere below the root
  // is refused the same way.
  util::Result<Stored> put(std::string_view kind, std::string_view namespace_,
                           std::string_view name, std::string_view bytes);

  // The current artifact of an object (changed=false), nullopt when it has none. The digest is
  // taken from the file name, not recomputed. Fails like put on bad names and I/O errors.
  util::Result<std::optional<Stored>> current(std::string_view kind, std::string_view namespace_,
                                              std::string_view name) const;

  // Opens "<kind>/<namespace>/<name>/<64 hex>.tar.gz" for reading. Anything else is refused
  // with invalid_input without touching the file system: absolute paths, "..", "." or empty
  // segments, backslashes, other names or depths (temporary files included); a symlink at any
  // component below the root, or a file that is not regular, is refused with invalid_input too.
  // not_found when the file does not exist (any more).
  util::Result<ArtifactFile> open(std::string_view relative_path) const;

  // Removes every file of an object (its ImageUpdater was deleted) and its directory, then the
  // namespace and kind directories if they are left empty. An object without files is fine.
  util::Result<void> remove_object(std::string_view kind, std::string_view namespace_,
                                   std::string_view name);

  // Applies the retention to every object under the root and removes temporary files left by
  // an interrupted put. Fails on I/O errors (what was removed before stays removed).
  util::Result<GcReport> gc();

private:
  std::string m_root;
  util::Clock& m_clock;
  Retention m_retention;
  mutable std::mutex m_mutex; // serialises put, remove_object and gc
};

// Kubernetes name rules as the storage applies them: a DNS label (namespace: [a-z0-9-], at most
// 63, alphanumeric at both ends) and a DNS subdomain (name: dot-separated DNS labels, at most
// 253).
bool is_dns_label(std::string_view s) noexcept;
bool is_dns_subdomain(std::string_view s) noexcept;

} // namespace common::artifact
