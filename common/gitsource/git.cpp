#include "common/gitsource/git.hpp"

#include <git2.h>

#include "common/gitsource/stream.hpp"
#include "common/util/strings.hpp"

namespace common::gitsource::detail {

void GitFree::operator()(git_repository* p) const noexcept {
  git_repository_free(p);
}
void GitFree::operator()(git_remote* p) const noexcept {
  git_remote_free(p);
}
void GitFree::operator()(git_object* p) const noexcept {
  git_object_free(p);
}
void GitFree::operator()(git_commit* p) const noexcept {
  git_commit_free(p);
}
void GitFree::operator()(git_tree* p) const noexcept {
  git_tree_free(p);
}
void GitFree::operator()(git_tree_entry* p) const noexcept {
  git_tree_entry_free(p);
}
void GitFree::operator()(git_blob* p) const noexcept {
  git_blob_free(p);
}
void GitFree::operator()(git_reference* p) const noexcept {
  git_reference_free(p);
}
void GitFree::operator()(git_odb* p) const noexcept {
  git_odb_free(p);
}

Libgit2::Libgit2() : m_rc(git_libgit2_init()) {
  if (m_rc >= 0) {
    install_deadline_stream(); // libgit2's sockets have no timeouts of their own
  }
}

Libgit2::~Libgit2() {
  if (m_rc >= 0) {
    git_libgit2_shutdown();
  }
}

GitFailure last_failure(int code) {
  GitFailure f;
  f.code = code;
  if (const git_error* e = git_error_last(); e != nullptr) {
    f.klass = e->klass;
    f.message = e->message != nullptr ? e->message : "";
  }
  if (f.message.empty()) {
    f.message = "libgit2 error " + std::to_string(code);
  }
  git_error_clear();
  return f;
}

namespace {

bool has(std::string_view text, std::string_view needle) {
  return util::to_lower(text).find(needle) != std::string::npos;
}

// "unexpected http status code: 404" (libgit2 1.5's wording) -> 404, else 0.
int http_status(std::string_view message) {
  auto pos = message.find("status code: ");
  if (pos == std::string_view::npos) {
    return 0;
  }
  int status = 0;
  for (char c : message.substr(pos + 13)) {
    if (c < '0' || c > '9') {
      break;
    }
    status = status * 10 + (c - '0');
  }
  return status;
}

} // namespace

util::ErrorKind classify(const GitFailure& f) {
  using K = util::ErrorKind;
  if (f.code == GIT_EAUTH || f.code == GIT_ECERTIFICATE) {
    return K::auth;
  }
  if (f.code == GIT_ENOTFOUND) {
    return K::not_found;
  }
  const std::string& m = f.message;
  switch (f.klass) {
  case GIT_ERROR_HTTP:
  case GIT_ERROR_NET: {
    int status = http_status(m);
    if (status == 401 || status == 403 || status == 407 || has(m, "authentication") ||
        has(m, "access denied")) {
      return K::auth;
    }
    // a redirect libgit2 refuses (to another host with a bearer token, https to http, a loop):
    // retrying cannot help, the URL must change
    if (has(m, "redirect")) {
      return K::invalid_input;
    }
    if (status == 404 || has(m, "no such repository") || has(m, "repository not found") ||
        has(m, "not found") || has(m, "does not appear to be a git repository")) {
      return K::not_found;
    }
    return K::transient;
  }
  case GIT_ERROR_OS:
    return K::transient;
  case GIT_ERROR_SSL:
    return has(m, "certificate") ? K::auth : K::transient;
  case GIT_ERROR_SSH:
    // the server's own words about a missing repository come through as ssh errors
    if (has(m, "not found") || has(m, "no such repository") ||
        has(m, "does not appear to be a git repository") || has(m, "does not exist")) {
      return K::not_found;
    }
    // a session that does not start is a network problem; the rest is about keys and users
    if (has(m, "failed to start ssh session") || has(m, "timeout") || has(m, "socket") ||
        has(m, "connection")) {
      return K::transient;
    }
    return K::auth;
  default:
    return K::internal;
  }
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) {
      continue;
    }
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) {
      text.replace(pos, s.size(), "***");
    }
  }
  return text;
}

util::Error to_error(const GitFailure& failure, std::string_view what, std::string_view url,
                     const std::vector<std::string>& secrets) {
  std::string message = std::string(what) + " " + std::string(url) + ": " + failure.message;
  return util::Error{classify(failure), redact(std::move(message), secrets)};
}

} // namespace common::gitsource::detail
