#include "common/util/dir.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace common::util {

namespace fs = std::filesystem;

namespace {

// Whether `inside` is `root` or below it; both canonical.
bool is_within(const fs::path& root, const fs::path& inside) {
  auto r = root.begin();
  auto i = inside.begin();
  for (; r != root.end(); ++r, ++i) {
    if (i == inside.end() || *r != *i) {
      return false;
    }
  }
  return true;
}

} // namespace

Result<std::vector<ListedFile>> list_files(const std::string& root, const ListOptions& options) {
  std::error_code ec;
  const auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) {
    return fail(ErrorKind::not_found, root + ": no such directory");
  }
  if (!fs::is_directory(status)) {
    return fail(ErrorKind::invalid_input, root + ": not a directory");
  }
  const fs::path canonical_root = fs::canonical(root, ec);
  if (ec) {
    return fail(ErrorKind::invalid_input, root + ": " + ec.message());
  }
  std::vector<ListedFile> out;
  const auto walk_error = [&](const std::error_code& e, const fs::path& where) {
    return fail(ErrorKind::invalid_input, where.string() + ": cannot list: " + e.message());
  };
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) {
    return walk_error(ec, root);
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      return walk_error(ec, it->path());
    }
    if (static_cast<std::size_t>(it.depth()) >= options.max_depth) {
      return fail(ErrorKind::too_large, it->path().string() + ": deeper than " +
                                            std::to_string(options.max_depth) + " directories");
    }
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    const bool link = entry.is_symlink(ec);
    if (!link && entry.is_directory(ec)) {
      if (options.skip_hidden_dirs && name.starts_with('.')) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (options.select && !options.select(name)) {
      continue;
    }
    ListedFile f;
    f.relative = entry.path().lexically_relative(root).generic_string();
    f.path = entry.path().string();
    if (link) {
      const fs::path target = fs::canonical(entry.path(), ec);
      if (ec) {
        f.skipped = "dangling symlink";
        ec.clear();
      } else if (fs::is_directory(target, ec)) {
        f.skipped = "symlink to a directory";
      } else if (!is_within(canonical_root, target)) {
        f.skipped = "symlink to a file outside the directory";
      }
    } else if (!entry.is_regular_file(ec)) {
      continue; // sockets, fifos, devices: not manifests
    }
    out.push_back(std::move(f));
    if (out.size() > options.max_files) {
      return fail(ErrorKind::too_large,
                  root + ": more than " + std::to_string(options.max_files) + " files");
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ListedFile& a, const ListedFile& b) { return a.relative < b.relative; });
  return out;
}

} // namespace common::util
