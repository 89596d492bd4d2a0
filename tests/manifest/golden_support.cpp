#include "golden_support.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

namespace common::manifest::testing {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
  }
}

std::vector<std::string> list_files(const fs::path& root) {
  std::vector<std::string> out;
  if (!fs::is_directory(root)) {
    return out;
  }
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    std::error_code ec;
    if (entry.is_regular_file(ec)) { // false for a dangling symlink, as Flux's reader skips it
      out.push_back(fs::relative(entry.path(), root).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

util::Result<Overrides> parse_overrides_file(const std::string& text) {
  Overrides out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::string where = "overrides line " + std::to_string(line_no) + ": ";
    std::istringstream words(line);
    std::string directive;
    std::string value;
    words >> directive >> value;
    if (directive == "--image") {
      auto o = parse_image_arg(value);
      if (!o) {
        return util::fail(util::ErrorKind::invalid_input, where + o.error().message);
      }
      out.images.push_back(std::move(*o));
    } else if (directive == "--setter") {
      auto s = parse_setter_arg(value);
      if (!s) {
        return util::fail(util::ErrorKind::invalid_input, where + s.error().message);
      }
      out.setters[s->setter] = s->value;
    } else if (directive == "--helm") {
      auto it = std::find_if(out.images.begin(), out.images.end(),
                             [&](const ImageOverride& o) { return o.repository == value; });
      if (it == out.images.end()) {
        return util::fail(util::ErrorKind::invalid_input, where + "no --image for " + value);
      }
      std::string setting;
      while (words >> setting) {
        const auto eq = setting.find('=');
        const std::string key = setting.substr(0, eq);
        const std::string path = eq == std::string::npos ? "" : setting.substr(eq + 1);
        if (key == "name") {
          it->helm.name = path;
        } else if (key == "tag") {
          it->helm.tag = path;
        } else if (key == "spec") {
          it->helm.spec = path;
        } else {
          return util::fail(util::ErrorKind::invalid_input, where + "bad helm setting " + setting);
        }
      }
    } else {
      return util::fail(util::ErrorKind::invalid_input, where + "unknown directive " + directive);
    }
  }
  return out;
}

} // namespace common::manifest::testing
