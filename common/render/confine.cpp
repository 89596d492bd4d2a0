#include "common/render/confine.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "common/util/strings.hpp"

namespace common::render {

namespace fs = std::filesystem;
using util::ErrorKind;

namespace {

bool has_dot_dot(const fs::path& p) {
  return std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
}

} // namespace

bool is_within(std::string_view root, std::string_view path) noexcept {
  if (root == "/") {
    return path.starts_with('/');
  }
  return path == root ||
         (path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/');
}

util::Result<std::string> repository_root(const std::string& app_dir,
                                          std::string_view source_path) {
  std::error_code ec;
  const fs::path app = fs::canonical(app_dir, ec);
  if (ec || !fs::is_directory(app, ec)) {
    return util::fail(ErrorKind::not_found, app_dir + ": no such directory");
  }
  const fs::path rel = fs::path(source_path).lexically_normal();
  if (source_path.empty() || rel == "." || rel == "./") {
    return app.string();
  }
  if (rel.is_absolute() || has_dot_dot(fs::path(source_path))) {
    return util::fail(ErrorKind::invalid_input,
                      "ARGOCD_APP_SOURCE_PATH " + util::quote(source_path) +
                          " must be a relative path inside the repository");
  }
  // Strip the source path's components from the end of the app directory, one by one.
  fs::path root = app;
  std::vector<fs::path> parts(rel.begin(), rel.end());
  while (!parts.empty() && parts.back().empty()) {
    parts.pop_back(); // a trailing '/'
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (*it == ".") {
      continue;
    }
    if (root.filename() != *it) {
      return util::fail(ErrorKind::invalid_input, "the application directory " + app.string() +
                                                      " does not end with ARGOCD_APP_SOURCE_PATH " +
                                                      util::quote(source_path));
    }
    root = root.parent_path();
  }
  return root.string();
}

util::Result<std::string> resolve_inside(const std::string& root, const std::string& base,
                                         std::string_view path, std::string_view what) {
  if (path.empty()) {
    return util::fail(ErrorKind::invalid_input, std::string(what) + ": an empty path");
  }
  const fs::path given(path);
  const fs::path joined =
      given.is_absolute() ? fs::path(root) / given.relative_path() : fs::path(base) / given;
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(joined, ec);
  if (ec) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + " " + util::quote(path) + ": " + ec.message());
  }
  if (!is_within(root, real.string())) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + " " + util::quote(path) +
                          " resolves outside the application's repository; only files of the "
                          "repository may be named");
  }
  if (!fs::exists(real, ec)) {
    return util::fail(ErrorKind::not_found,
                      std::string(what) + " " + util::quote(path) + ": no such file");
  }
  return real.string();
}

util::Result<void> check_symlinks(const std::string& root, std::size_t max_entries) {
  std::error_code ec;
  std::vector<fs::path> links;
  std::size_t seen = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) {
    return util::fail(ErrorKind::not_found, root + ": cannot list: " + ec.message());
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return util::fail(ErrorKind::invalid_input, root + ": cannot list: " + ec.message());
    }
    if (++seen > max_entries) {
      return util::fail(ErrorKind::too_large, root + ": more than " + std::to_string(max_entries) +
                                                  " files and directories");
    }
    const fs::directory_entry& e = *it;
    if (e.is_symlink(ec)) {
      links.push_back(e.path());
      continue; // never followed by the walk (recursive_directory_iterator does not by default)
    }
    if (e.is_directory(ec) && e.path().filename() == ".git") {
      it.disable_recursion_pending();
    }
  }
  std::sort(links.begin(), links.end());
  for (const fs::path& link : links) {
    // Where it leads, following every link on the way; a dangling link is judged by the path
    // it names, made absolute against its directory.
    fs::path target = fs::read_symlink(link, ec);
    if (ec) {
      continue;
    }
    if (target.is_relative()) {
      target = link.parent_path() / target;
    }
    const fs::path real = fs::weakly_canonical(target, ec);
    if (ec || !is_within(root, real.string())) {
      return util::fail(ErrorKind::invalid_input,
                        "the repository holds a symlink that leaves it: " +
                            link.lexically_relative(root).generic_string() +
                            " (refused: a render may read only the application's repository)");
    }
  }
  return {};
}

} // namespace common::render
