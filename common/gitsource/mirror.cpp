#include "common/gitsource/mirror.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

#include <git2.h>

#include "common/util/try.hpp"

namespace common::gitsource::detail {

namespace fs = std::filesystem;

util::Result<MirrorLock> MirrorLock::acquire(const std::string& path,
                                             std::chrono::steady_clock::time_point deadline,
                                             const std::string& display) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return util::fail(util::ErrorKind::internal,
                      "cannot open the mirror lock " + path + ": " + std::strerror(errno));
  }
  MirrorLock lock(fd);
  auto pause = std::chrono::milliseconds(5);
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      return lock;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return util::fail(util::ErrorKind::internal,
                        "cannot lock " + path + ": " + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() + pause >= deadline) {
      return util::fail(util::ErrorKind::transient,
                        "timed out waiting for another process fetching " + display);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

MirrorLock::MirrorLock(MirrorLock&& other) noexcept : m_fd(other.m_fd) {
  other.m_fd = -1;
}

MirrorLock::~MirrorLock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

namespace {

std::size_t pack_count(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (fs::directory_iterator it(fs::path(dir) / "objects" / "pack", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".pack") {
      ++n;
    }
  }
  return n;
}

util::Result<void> remove_dir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) {
    return util::fail(util::ErrorKind::internal,
                      "cannot remove the mirror " + dir + ": " + ec.message());
  }
  return {};
}

util::Result<GitPtr<git_repository>> create(const std::string& dir) {
  std::string tmp = dir + ".tmp";
  IU_TRY(remove_dir(tmp));
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
  git_repository* raw = nullptr;
  if (int rc = git_repository_init_ext(&raw, tmp.c_str(), &opts); rc < 0) {
    auto f = last_failure(rc);
    return util::fail(util::ErrorKind::internal,
                      "cannot create the mirror " + dir + ": " + f.message);
  }
  git_repository_free(raw);
  std::error_code ec;
  fs::rename(tmp, dir, ec);
  if (ec) {
    return util::fail(util::ErrorKind::internal,
                      "cannot create the mirror " + dir + ": " + ec.message());
  }
  if (int rc = git_repository_open_bare(&raw, dir.c_str()); rc < 0) {
    auto f = last_failure(rc);
    return util::fail(util::ErrorKind::internal,
                      "cannot open the new mirror " + dir + ": " + f.message);
  }
  return GitPtr<git_repository>(raw);
}

} // namespace

util::Result<GitPtr<git_repository>> open_mirror(const std::string& dir,
                                                 std::vector<std::string>& warnings) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return create(dir);
  }
  if (pack_count(dir) > k_max_packs) {
    IU_TRY(remove_dir(dir));
    return create(dir);
  }
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_bare(&raw, dir.c_str()); rc < 0) {
    auto f = last_failure(rc);
    warnings.push_back("the mirror did not open (" + f.message + ") and was created again");
    IU_TRY(remove_dir(dir));
    return create(dir);
  }
  return GitPtr<git_repository>(raw);
}

bool has_object(git_repository* repo, const std::string& hex) {
  git_oid oid;
  if (git_oid_fromstr(&oid, hex.c_str()) < 0) {
    git_error_clear();
    return false;
  }
  git_odb* raw = nullptr;
  if (git_repository_odb(&raw, repo) < 0) {
    git_error_clear();
    return false;
  }
  GitPtr<git_odb> odb(raw);
  return git_odb_exists(odb.get(), &oid) == 1;
}

util::Result<std::string> peel_to_commit(git_repository* repo, const std::string& hex,
                                         const std::string& what) {
  git_oid oid;
  git_object* raw = nullptr;
  if (git_oid_fromstr(&oid, hex.c_str()) < 0 ||
      git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY) < 0) {
    git_error_clear();
    return util::fail(util::ErrorKind::not_found, what + " not found");
  }
  GitPtr<git_object> object(raw);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) < 0) {
    git_error_clear();
    return util::fail(util::ErrorKind::not_found, what + " is not a commit");
  }
  GitPtr<git_object> commit(peeled);
  char out[GIT_OID_HEXSZ + 1];
  git_oid_tostr(out, sizeof out, git_object_id(commit.get()));
  return std::string(out);
}

util::Result<bool> is_ancestor(git_repository* repo, const std::string& ancestor,
                               const std::string& tip) {
  if (ancestor == tip) {
    return true;
  }
  git_oid a;
  git_oid t;
  if (git_oid_fromstr(&a, ancestor.c_str()) < 0 || git_oid_fromstr(&t, tip.c_str()) < 0) {
    git_error_clear();
    return util::fail(util::ErrorKind::internal, "bad commit id");
  }
  int rc = git_graph_descendant_of(repo, &t, &a);
  if (rc < 0) {
    auto f = last_failure(rc);
    return util::fail(util::ErrorKind::internal, "walking the history: " + f.message);
  }
  return rc == 1;
}

} // namespace common::gitsource::detail
