#include "tests/artifact/tar_builder.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include <archive.h>
#include <archive_entry.h>

namespace common::artifact::testing {
namespace {

// `width - 1` octal digits, zero-padded, then NUL (the field's last byte stays 0).
void put_octal(char* field, std::size_t width, unsigned long long value) {
  for (std::size_t i = width - 1; i-- > 0; value >>= 3) {
    field[i] = static_cast<char>('0' + (value & 7));
  }
}

la_ssize_t append(struct archive*, void* out, const void* buffer, std::size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

} // namespace

std::string make_tar(const std::vector<RawEntry>& entries) {
  std::string out;
  for (const RawEntry& e : entries) {
    char h[512] = {};
    std::string name = e.name;
    std::string prefix;
    if (name.size() > 100) {
      const std::size_t slash = name.rfind('/', name.size() - 1);
      if (slash == std::string::npos || slash > 155 || name.size() - slash - 1 > 100) {
        throw std::invalid_argument("name too long for ustar: " + name);
      }
      prefix = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
    std::memcpy(h, name.data(), name.size());
    put_octal(h + 100, 8, e.mode);
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, e.content.size());
    put_octal(h + 136, 12, 0);
    h[156] = e.type;
    std::memcpy(h + 157, e.link.data(), std::min<std::size_t>(e.link.size(), 100));
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 345, prefix.data(), prefix.size());
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) {
      sum += c;
    }
    put_octal(h + 148, 7, sum); // six digits, NUL, then the space already there
    h[154] = '\0';
    h[155] = ' ';
    out.append(h, sizeof h);
    out += e.content;
    out.append((512 - e.content.size() % 512) % 512, '\0');
  }
  out.append(1024, '\0');
  return out;
}

std::string gzip(const std::string& bytes) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_write_new(),
                                                              &archive_write_free);
  std::string out;
  archive_write_set_format_raw(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open2(a.get(), &out, nullptr, &append, nullptr, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a.get()));
  }
  std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> e(archive_entry_new(),
                                                                           &archive_entry_free);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
  archive_write_header(a.get(), e.get());
  archive_write_data(a.get(), bytes.data(), bytes.size());
  archive_write_close(a.get());
  return out;
}

} // namespace common::artifact::testing
