#include "common/plugin/specs.hpp"

#include <algorithm>
#include <filesystem>
#include <fnmatch.h>

#include "common/render/confine.hpp"
#include "common/spec/loader.hpp"
#include "common/util/file.hpp"

namespace common::plugin {

namespace fs = std::filesystem;

namespace {

bool is_glob(std::string_view name) {
  return name.find_first_of("*?[") != std::string_view::npos;
}

bool manifest_name(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

// Regular files directly in `dir` whose name passes `keep`, sorted.
util::Result<std::vector<std::string>> files_in(const fs::path& dir,
                                                const std::function<bool(std::string_view)>& keep) {
  std::error_code ec;
  std::vector<std::string> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && keep(name)) {
      out.push_back(it->path().string());
    }
  }
  if (ec) {
    return util::fail(util::ErrorKind::invalid_input,
                      dir.string() + ": cannot list: " + ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

bool may_hold_updater(std::string_view text) noexcept {
  return text.find("ImageUpdater") != std::string_view::npos;
}

util::Result<FoundSpecs> find_specs(const std::string& dir, const std::vector<std::string>& named,
                                    const std::string& root, std::string_view default_namespace) {
  std::vector<std::string> paths;
  if (named.empty()) {
    auto files = files_in(dir, manifest_name);
    if (!files) {
      return std::unexpected(files.error());
    }
    paths = std::move(*files);
  } else {
    for (const auto& n : named) {
      fs::path p = fs::path(n).is_absolute() ? fs::path(n) : fs::path(dir) / n;
      if (!root.empty()) {
        // The directory part must stay inside the repository; the files found are checked below.
        const fs::path given(n);
        const fs::path parent = given.has_parent_path() ? given.parent_path() : fs::path(".");
        auto inside = render::resolve_inside(root, dir, parent.string(), "specs");
        if (!inside) {
          return std::unexpected(inside.error());
        }
        p = fs::path(*inside) / given.filename();
      }
      const std::string pattern = p.filename().string();
      if (!is_glob(pattern)) {
        paths.push_back(p.string());
        continue;
      }
      auto files = files_in(p.parent_path(), [&](std::string_view name) {
        return ::fnmatch(pattern.c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
      });
      if (!files) {
        return std::unexpected(files.error());
      }
      if (files->empty()) {
        return util::fail(util::ErrorKind::not_found,
                          "specs: \"" + n + "\" matches no file in " + p.parent_path().string());
      }
      paths.insert(paths.end(), files->begin(), files->end());
    }
  }
  FoundSpecs out;
  for (const auto& path : paths) {
    if (!root.empty()) {
      std::error_code ec;
      if (const fs::path real = fs::weakly_canonical(path, ec);
          !ec && !render::is_within(root, real.string())) {
        return util::fail(util::ErrorKind::invalid_input,
                          "specs: " + path +
                              " resolves outside the application's repository; only files of "
                              "the repository may be named");
      }
    }
    auto text = util::read_file(path);
    if (!text) {
      return std::unexpected(text.error());
    }
    if (!may_hold_updater(*text)) {
      continue;
    }
    const std::string shown = fs::path(path).lexically_relative(dir).generic_string();
    auto loaded = spec::parse_stream(*text, shown.empty() || shown.starts_with("..") ? path : shown,
                                     {}, default_namespace);
    if (loaded.updaters.empty() && loaded.diagnostics.empty()) {
      continue;
    }
    out.files.push_back(shown);
    for (auto& u : loaded.updaters) {
      out.updaters.push_back(std::move(u));
    }
    for (auto& d : loaded.diagnostics) {
      out.diagnostics.push_back(std::move(d));
    }
  }
  return out;
}

} // namespace common::plugin
