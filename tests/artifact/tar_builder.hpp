// Hand-built tar archives for the unpack tests: raw ustar headers with any name, type and link
// (what a hostile or broken producer could send, which libarchive's writer would refuse to
// write), gzip-compressed or not.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace common::artifact::testing {

struct RawEntry {
  RawEntry(std::string name_in, char type_in = '0', std::string content_in = {},
           std::string link_in = {}, unsigned mode_in = 0644)
      : name(std::move(name_in)), type(type_in), content(std::move(content_in)),
        link(std::move(link_in)), mode(mode_in) {}

  std::string name;
  char type; // '0' file, '5' directory, '2' symlink, '1' hard link, '3' char, '6' FIFO
  std::string content;
  std::string link; // linkname for '1' and '2'
  unsigned mode;
};

// The tar stream (ustar headers, content padded to 512, two zero blocks at the end). Names
// longer than 100 bytes go into the prefix field at a '/' when they can.
std::string make_tar(const std::vector<RawEntry>& entries);

// `bytes` gzip-compressed (through libarchive's raw writer).
std::string gzip(const std::string& bytes);

inline std::string make_targz(const std::vector<RawEntry>& entries) {
  return gzip(make_tar(entries));
}

} // namespace common::artifact::testing
