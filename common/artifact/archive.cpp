#include "common/artifact/archive.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <archive.h>
#include <archive_entry.h>

#include "common/util/sha256.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::artifact {
namespace {

using util::ErrorKind;

struct ReadDeleter {
  void operator()(struct archive* a) const noexcept { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const noexcept { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const noexcept { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<struct archive, WriteDeleter>;
using Entry = std::unique_ptr<struct archive_entry, EntryDeleter>;

std::string archive_error(struct archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

bool is_gzip(std::string_view bytes) noexcept {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// ---- pack -------------------------------------------------------------------------------------

la_ssize_t append_output(struct archive*, void* out, const void* buffer, std::size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

struct PackEntry {
  bool directory = false;
  const util::TreeFile* file = nullptr;
};

util::Result<void> write_entry(struct archive* a, const std::string& path, const PackEntry& what) {
  Entry entry(archive_entry_new());
  if (!entry) {
    return util::fail(ErrorKind::internal, "pack: out of memory");
  }
  // The path's bytes as they are (UTF-8 in practice): the GNU format stores names raw, so no
  // locale conversion can fail or change them.
  archive_entry_copy_pathname(entry.get(), path.c_str());
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  archive_entry_set_mtime(entry.get(), 0, 0);
  if (what.directory) {
    archive_entry_set_filetype(entry.get(), AE_IFDIR);
    archive_entry_set_perm(entry.get(), k_dir_mode);
    archive_entry_set_size(entry.get(), 0);
  } else {
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), what.file->executable ? k_exec_mode : k_file_mode);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(what.file->content.size()));
  }
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
    return util::fail(ErrorKind::internal, "pack: " + util::quote(path) +
                                               ": cannot write the header: " + archive_error(a));
  }
  if (!what.directory) {
    const std::string& content = what.file->content;
    for (std::size_t done = 0; done < content.size();) {
      const la_ssize_t n = archive_write_data(a, content.data() + done, content.size() - done);
      if (n <= 0) {
        return util::fail(ErrorKind::internal,
                          "pack: " + util::quote(path) + ": cannot write: " + archive_error(a));
      }
      done += static_cast<std::size_t>(n);
    }
  }
  return {};
}

// ---- unpack -----------------------------------------------------------------------------------

// A tar entry name as we accept it: "./" prefixes and a directory's trailing '/' removed. The
// root ("." or "./") becomes "".
std::string normalised_name(std::string_view name, bool directory) {
  while (name.starts_with("./")) {
    name.remove_prefix(2);
  }
  if (name == ".") {
    name = {};
  }
  if (directory && name.ends_with('/')) {
    name.remove_suffix(1);
  }
  return std::string(name);
}

const char* entry_name(struct archive_entry* entry) {
  // The UTF-8 form when the archive declares one (pax "path"), else the raw bytes.
  if (const char* utf8 = archive_entry_pathname_utf8(entry)) {
    return utf8;
  }
  return archive_entry_pathname(entry);
}

const char* type_name(unsigned type) {
  switch (type) {
  case AE_IFLNK:
    return "a symlink";
  case AE_IFCHR:
    return "a character device";
  case AE_IFBLK:
    return "a block device";
  case AE_IFIFO:
    return "a FIFO";
  case AE_IFSOCK:
    return "a socket";
  default:
    return "a special file";
  }
}

// Opens a gzip'd tar (or, with `raw`, the decompressed stream as one entry) from memory.
util::Result<ReadArchive> open_gzip(std::string_view targz, bool raw, const char* what) {
  if (!is_gzip(targz)) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + ": not gzip-compressed (no gzip magic bytes)");
  }
  ReadArchive a(archive_read_new());
  if (!a) {
    return util::fail(ErrorKind::internal, std::string(what) + ": out of memory");
  }
  archive_read_support_filter_gzip(a.get());
  if (raw) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_tar(a.get());
  }
  if (archive_read_open_memory(a.get(), targz.data(), targz.size()) != ARCHIVE_OK) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + ": cannot read: " + archive_error(a.get()));
  }
  return a;
}

} // namespace

util::Result<void> check_path(std::string_view path, std::size_t max_path) {
  const auto bad = [&](const char* why) {
    return util::fail(ErrorKind::invalid_input, "unsafe path " + util::quote(path) + ": " + why);
  };
  if (path.empty()) {
    return bad("empty");
  }
  if (path.size() > max_path) {
    return bad(("longer than " + std::to_string(max_path) + " bytes").c_str());
  }
  if (path.front() == '/') {
    return bad("absolute");
  }
  if (path.find('\\') != std::string_view::npos) {
    return bad("contains a backslash");
  }
  if (path.find('\0') != std::string_view::npos) {
    return bad("contains a NUL byte");
  }
  for (std::size_t pos = 0; pos <= path.size();) {
    const std::size_t end = std::min(path.find('/', pos), path.size());
    const std::string_view segment = path.substr(pos, end - pos);
    if (segment.empty()) {
      return bad(end == path.size() ? "ends with '/'" : "has an empty segment (\"//\")");
    }
    if (segment == "..") {
      return bad("has a \"..\" segment");
    }
    if (segment == ".") {
      return bad("has a \".\" segment");
    }
    pos = end + 1;
  }
  return {};
}

util::Result<std::string> pack(const util::Tree& files) {
  // Every entry by path: files, then the directories above them. A std::map sorts by bytes,
  // so a directory ("a") precedes its content ("a/b") and the input order is irrelevant.
  std::map<std::string, PackEntry> entries;
  for (const util::TreeFile& file : files) {
    if (auto ok = check_path(file.path); !ok) {
      return std::unexpected(util::Error{ok.error().kind, "pack: " + ok.error().message});
    }
    auto [it, inserted] = entries.try_emplace(file.path, PackEntry{false, &file});
    if (!inserted) {
      return util::fail(
          ErrorKind::invalid_input,
          "pack: " + util::quote(file.path) +
              (it->second.directory ? " is a file and a directory" : " appears twice"));
    }
  }
  for (const util::TreeFile& file : files) {
    for (std::size_t slash = file.path.find('/'); slash != std::string::npos;
         slash = file.path.find('/', slash + 1)) {
      auto [it, inserted] = entries.try_emplace(file.path.substr(0, slash), PackEntry{true});
      if (!inserted && !it->second.directory) {
        return util::fail(ErrorKind::invalid_input,
                          "pack: " + util::quote(it->first) + " is a file and a directory");
      }
    }
  }

  WriteArchive a(archive_write_new());
  if (!a) {
    return util::fail(ErrorKind::internal, "pack: out of memory");
  }
  const auto setup_failed = [&](const char* step) {
    return util::fail(ErrorKind::internal,
                      std::string("pack: ") + step + ": " + archive_error(a.get()));
  };
  // GNU tar: names of any length (././@LongLink records) as raw bytes, read by every consumer
  // (Go's archive/tar in Flux, GNU tar, libarchive). pax would need the process locale to
  // write a non-ASCII name (libarchive converts it to UTF-8 from the locale, and fails in the
  // "C" locale) or mark every entry hdrcharset=BINARY. Then gzip without the time and the file
  // name, at a fixed level, and no padding after the gzip stream (a trailing block of zeros is
  // not gzip, and strict readers say so).
  if (archive_write_set_format_gnutar(a.get()) != ARCHIVE_OK) {
    return setup_failed("tar format");
  }
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) {
    return setup_failed("gzip filter");
  }
  if (archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
      archive_write_set_filter_option(a.get(), "gzip", "compression-level", "6") != ARCHIVE_OK) {
    return setup_failed("gzip options");
  }
  if (archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
    return setup_failed("blocking");
  }
  std::string out;
  if (archive_write_open2(a.get(), &out, nullptr, &append_output, nullptr, nullptr) != ARCHIVE_OK) {
    return setup_failed("open");
  }
  for (const auto& [path, what] : entries) {
    IU_TRY(write_entry(a.get(), path, what));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return setup_failed("close");
  }
  return out;
}

util::Result<util::Tree> unpack(std::string_view targz, const Limits& limits) {
  auto opened = open_gzip(targz, false, "unpack");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  struct archive* a = opened->get();
  std::map<std::string, util::TreeFile> files;
  std::set<std::string> directories;
  std::uint64_t total = 0;
  bool checked_filter = false;
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    struct archive_entry* entry = nullptr;
    const int status = archive_read_next_header(a, &entry);
    if (status == ARCHIVE_EOF) {
      break;
    }
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      return util::fail(ErrorKind::invalid_input, "unpack: malformed tar: " + archive_error(a));
    }
    if (!checked_filter) {
      // The magic bytes said gzip; libarchive must agree (and no other filter may hide inside).
      if (archive_filter_count(a) != 2 || archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
        return util::fail(ErrorKind::invalid_input, "unpack: not a gzip-compressed tar");
      }
      checked_filter = true;
    }
    const char* raw_name = entry_name(entry);
    const std::string raw = raw_name != nullptr ? raw_name : "";
    const unsigned type = archive_entry_filetype(entry);
    const bool directory = type == AE_IFDIR;
    if (raw.empty()) {
      return util::fail(ErrorKind::invalid_input, "unpack: an entry has an empty name");
    }
    if (archive_entry_hardlink(entry) != nullptr) {
      return util::fail(ErrorKind::invalid_input,
                        "unpack: " + util::quote(raw) + " is a hard link, which is not allowed");
    }
    if (type != AE_IFREG && !directory) {
      return util::fail(ErrorKind::invalid_input, "unpack: " + util::quote(raw) + " is " +
                                                      type_name(type) + ", which is not allowed");
    }
    const std::string path = normalised_name(raw, directory);
    if (path.empty() && directory) {
      continue; // the root, "." or "./"
    }
    if (auto ok = check_path(path, limits.max_path); !ok) {
      return util::fail(ok.error().kind, "unpack: " + ok.error().message);
    }
    if (static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) >= limits.max_depth) {
      return util::fail(ErrorKind::too_large, "unpack: " + util::quote(path) + " is deeper than " +
                                                  std::to_string(limits.max_depth) + " levels");
    }
    if (files.contains(path) && !directory) {
      return util::fail(ErrorKind::invalid_input,
                        "unpack: " + util::quote(path) + " appears more than once");
    }
    if (files.contains(path) || (!directory && directories.contains(path))) {
      return util::fail(ErrorKind::invalid_input,
                        "unpack: " + util::quote(path) + " is a file and a directory");
    }
    // Every parent of an entry is a directory: it must not be a file too.
    for (std::size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const std::string parent = path.substr(0, slash);
      if (files.contains(parent)) {
        return util::fail(ErrorKind::invalid_input,
                          "unpack: " + util::quote(parent) + " is a file and a directory");
      }
      directories.insert(parent);
    }
    if (directory) {
      directories.insert(path);
      continue;
    }
    if (files.size() >= limits.max_files) {
      return util::fail(ErrorKind::too_large,
                        "unpack: more than " + std::to_string(limits.max_files) + " files");
    }
    util::TreeFile file;
    file.path = path;
    file.executable = (archive_entry_perm(entry) & 0111) != 0;
    if (archive_entry_size_is_set(entry) != 0) {
      const auto size =
          static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(entry)));
      if (size > limits.max_total_bytes - total) {
        return util::fail(ErrorKind::too_large, "unpack: the files are larger than " +
                                                    std::to_string(limits.max_total_bytes) +
                                                    " bytes (at " + util::quote(path) + ")");
      }
      file.content.reserve(static_cast<std::size_t>(size));
    }
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n == 0) {
        break;
      }
      if (n < 0) {
        return util::fail(ErrorKind::invalid_input,
                          "unpack: " + util::quote(path) + ": " + archive_error(a));
      }
      if (static_cast<std::uint64_t>(n) > limits.max_total_bytes - total) {
        return util::fail(ErrorKind::too_large, "unpack: the files are larger than " +
                                                    std::to_string(limits.max_total_bytes) +
                                                    " bytes (at " + util::quote(path) + ")");
      }
      total += static_cast<std::uint64_t>(n);
      file.content.append(buffer.data(), static_cast<std::size_t>(n));
    }
    files.emplace(path, std::move(file));
  }
  for (const std::string& d : directories) {
    if (files.contains(d)) {
      return util::fail(ErrorKind::invalid_input,
                        "unpack: " + util::quote(d) + " is a file and a directory");
    }
  }
  util::Tree out;
  out.reserve(files.size());
  for (auto& [path, file] : files) {
    out.push_back(std::move(file));
  }
  return out;
}

util::Result<std::string> tar_digest(std::string_view targz, const Limits& limits) {
  auto opened = open_gzip(targz, true, "tar digest");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  struct archive* a = opened->get();
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(a, &entry) != ARCHIVE_OK) {
    return util::fail(ErrorKind::invalid_input, "tar digest: " + archive_error(a));
  }
  util::Sha256 engine;
  std::uint64_t total = 0;
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n == 0) {
      break;
    }
    if (n < 0) {
      return util::fail(ErrorKind::invalid_input, "tar digest: " + archive_error(a));
    }
    total += static_cast<std::uint64_t>(n);
    if (total > limits.max_total_bytes) {
      return util::fail(ErrorKind::too_large, "tar digest: the tar is larger than " +
                                                  std::to_string(limits.max_total_bytes) +
                                                  " bytes");
    }
    engine.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  return "sha256:" + engine.hex();
}

} // namespace common::artifact
