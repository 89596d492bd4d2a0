// Internal to common::gitsource: RAII for libgit2's handles and the mapping of libgit2's errors
// to util::Error. git2.h stays in the .cpp files (the handle types are forward declared, as
// libgit2 itself declares them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

struct git_repository;
struct git_remote;
struct git_object;
struct git_commit;
struct git_tree;
struct git_tree_entry;
struct git_blob;
struct git_reference;
struct git_odb;

namespace common::gitsource::detail {

struct GitFree {
  void operator()(git_repository* p) const noexcept;
  void operator()(git_remote* p) const noexcept;
  void operator()(git_object* p) const noexcept;
  void operator()(git_commit* p) const noexcept;
  void operator()(git_tree* p) const noexcept;
  void operator()(git_tree_entry* p) const noexcept;
  void operator()(git_blob* p) const noexcept;
  void operator()(git_reference* p) const noexcept;
  void operator()(git_odb* p) const noexcept;
};

template <class T>
using GitPtr = std::unique_ptr<T, GitFree>;

// git_libgit2_init() on construction, git_libgit2_shutdown() on destruction (libgit2 counts).
class Libgit2 {
public:
  Libgit2();
  ~Libgit2();
  Libgit2(const Libgit2&) = delete;
  Libgit2& operator=(const Libgit2&) = delete;
  bool ok() const { return m_rc >= 0; }

private:
  int m_rc;
};

// What libgit2 reported: the return code and git_error_last()'s class and message.
struct GitFailure {
  int code = 0;
  int klass = 0;
  std::string message;
};

// The failure of the libgit2 call that just returned `code` (reads and clears the thread's
// last error).
GitFailure last_failure(int code);

// The ErrorKind of a libgit2 failure during a network operation: GIT_EAUTH, GIT_ECERTIFICATE,
// HTTP 401/403/407 and ssh failures other than these -> auth; GIT_ENOTFOUND, HTTP 404 and the
// servers' "no such repository" / "not found" (also over ssh) -> not_found; a refused redirect
// -> invalid_input (the URL must change); connection, socket, HTTP 5xx and
// other network errors -> transient; everything else (object database, local I/O) -> internal.
util::ErrorKind classify(const GitFailure& failure);

// "<what> <url>: <libgit2's message>" with the classify()'d kind, every secret of `secrets`
// (non-empty strings) replaced by "***".
util::Error to_error(const GitFailure& failure, std::string_view what, std::string_view url,
                     const std::vector<std::string>& secrets);

// `text` with every occurrence of each non-empty secret replaced by "***".
std::string redact(std::string text, const std::vector<std::string>& secrets);

} // namespace common::gitsource::detail
