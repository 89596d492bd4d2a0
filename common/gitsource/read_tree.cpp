#include <algorithm>
#include <vector>

#include <git2.h>

#include "common/gitsource/mirror.hpp"
#include "common/util/strings.hpp"

namespace common::gitsource::detail {

namespace {

// Deeper trees are refused rather than walked: no real repository nests this far.
constexpr std::size_t k_max_depth = 256;

bool unsafe_name(std::string_view name) {
  return name.empty() || name == "." || name == ".." || util::iequals(name, ".git") ||
         name.find('/') != std::string_view::npos;
}

std::string join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
}

struct Pending {
  GitPtr<git_tree> tree;
  std::string prefix; // relative to the requested path
  std::size_t depth = 0;
};

} // namespace

void Warnings::add(std::string line) {
  if (m_out.size() < k_max_warnings) {
    m_out.push_back(std::move(line));
  } else {
    ++m_dropped;
  }
}

void Warnings::finish() {
  if (m_dropped > 0) {
    m_out.push_back("... and " + std::to_string(m_dropped) + " more warnings");
    m_dropped = 0;
  }
}

util::Result<util::Tree> read_tree(git_repository* repo, const std::string& commit_hex,
                                   const std::string& path, const TreeLimits& limits,
                                   const std::string& display, Warnings& warnings) {
  auto where = [&] { return " at " + commit_hex + " of " + display; };
  git_oid oid;
  git_commit* commit_raw = nullptr;
  if (git_oid_fromstr(&oid, commit_hex.c_str()) < 0 ||
      git_commit_lookup(&commit_raw, repo, &oid) < 0) {
    auto f = last_failure(-1);
    return util::fail(util::ErrorKind::internal, "reading commit" + where() + ": " + f.message);
  }
  GitPtr<git_commit> commit(commit_raw);
  git_tree* root_raw = nullptr;
  if (int rc = git_commit_tree(&root_raw, commit.get()); rc < 0) {
    auto f = last_failure(rc);
    return util::fail(util::ErrorKind::internal, "reading the tree" + where() + ": " + f.message);
  }
  GitPtr<git_tree> root(root_raw);
  if (!path.empty()) {
    git_tree_entry* entry_raw = nullptr;
    int rc = git_tree_entry_bypath(&entry_raw, root.get(), path.c_str());
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      return util::fail(util::ErrorKind::not_found,
                        "path " + util::quote(path) + " not found" + where());
    }
    if (rc < 0) {
      auto f = last_failure(rc);
      return util::fail(util::ErrorKind::internal,
                        "reading path " + util::quote(path) + where() + ": " + f.message);
    }
    GitPtr<git_tree_entry> entry(entry_raw);
    if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
      return util::fail(util::ErrorKind::not_found,
                        "path " + util::quote(path) + " is not a directory" + where());
    }
    git_tree* sub = nullptr;
    if (int rc2 = git_tree_lookup(&sub, repo, git_tree_entry_id(entry.get())); rc2 < 0) {
      auto f = last_failure(rc2);
      return util::fail(util::ErrorKind::internal,
                        "reading path " + util::quote(path) + where() + ": " + f.message);
    }
    root.reset(sub);
  }

  git_odb* odb_raw = nullptr;
  if (int rc = git_repository_odb(&odb_raw, repo); rc < 0) {
    auto f = last_failure(rc);
    return util::fail(util::ErrorKind::internal,
                      "opening the object database of the mirror of " + display + ": " + f.message);
  }
  GitPtr<git_odb> odb(odb_raw);

  util::Tree files;
  std::size_t entries = 0;
  std::size_t bytes = 0;
  auto too_large = [&](const std::string& what) {
    return util::fail(util::ErrorKind::too_large, "the files under " +
                                                      util::quote(path.empty() ? "/" : path) +
                                                      where() + " exceed " + what);
  };
  std::vector<Pending> stack;
  stack.push_back(Pending{std::move(root), "", 0});
  while (!stack.empty()) {
    Pending dir = std::move(stack.back());
    stack.pop_back();
    std::size_t count = git_tree_entrycount(dir.tree.get());
    for (std::size_t i = 0; i < count; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(dir.tree.get(), i);
      std::string_view name = git_tree_entry_name(e);
      std::string rel = join(dir.prefix, name);
      git_filemode_t mode = git_tree_entry_filemode(e);
      if (unsafe_name(name)) {
        warnings.add("skipped " + util::quote(rel) + ": a name unsafe on disk");
        continue;
      }
      if (mode == GIT_FILEMODE_TREE) {
        if (dir.depth + 1 > k_max_depth) {
          return too_large("a depth of " + std::to_string(k_max_depth) + " directories");
        }
        git_tree* sub = nullptr;
        if (int rc = git_tree_lookup(&sub, repo, git_tree_entry_id(e)); rc < 0) {
          auto f = last_failure(rc);
          return util::fail(util::ErrorKind::internal,
                            "reading " + util::quote(rel) + where() + ": " + f.message);
        }
        stack.push_back(Pending{GitPtr<git_tree>(sub), std::move(rel), dir.depth + 1});
        continue;
      }
      if (++entries > limits.max_files) {
        return too_large("max_files (" + std::to_string(limits.max_files) + ")");
      }
      if (mode == GIT_FILEMODE_LINK) {
        warnings.add("skipped symlink " + util::quote(rel));
        continue;
      }
      if (mode == GIT_FILEMODE_COMMIT) {
        warnings.add("skipped submodule " + util::quote(rel));
        continue;
      }
      // (git_tree_entry_filemode already reads the legacy 100664 as 100644)
      if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
        warnings.add("skipped " + util::quote(rel) + ": unknown file mode " +
                     std::to_string(static_cast<int>(mode)));
        continue;
      }
      // the size from the object header first, so an oversized blob is never loaded
      size_t size = 0;
      git_object_t type = GIT_OBJECT_INVALID;
      if (int rc = git_odb_read_header(&size, &type, odb.get(), git_tree_entry_id(e)); rc < 0) {
        auto f = last_failure(rc);
        return util::fail(util::ErrorKind::internal,
                          "reading " + util::quote(rel) + where() + ": " + f.message);
      }
      if (size > limits.max_bytes || bytes + size > limits.max_bytes) {
        return too_large("max_bytes (" + std::to_string(limits.max_bytes) + ")");
      }
      bytes += size;
      git_blob* blob_raw = nullptr;
      if (int rc = git_blob_lookup(&blob_raw, repo, git_tree_entry_id(e)); rc < 0) {
        auto f = last_failure(rc);
        return util::fail(util::ErrorKind::internal,
                          "reading " + util::quote(rel) + where() + ": " + f.message);
      }
      GitPtr<git_blob> blob(blob_raw);
      const auto* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
      auto len = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
      files.push_back(util::TreeFile{std::move(rel), std::string(data, data + len),
                                     mode == GIT_FILEMODE_BLOB_EXECUTABLE});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const util::TreeFile& a, const util::TreeFile& b) { return a.path < b.path; });
  return files;
}

} // namespace common::gitsource::detail
