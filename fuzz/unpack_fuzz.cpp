// libFuzzer entry point for artifact::unpack (the Flux consumer rules): any bytes must give an
// error or a tree, never a crash or a hang; a tree must hold only safe paths, within the
// limits, and pack back into an archive that unpacks to the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/artifact/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  common::artifact::Limits limits;
  limits.max_files = 1000;
  limits.max_total_bytes = 4 << 20; // small: a bomb is stopped at the cap, not in memory
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto tree = common::artifact::unpack(input, limits);
  if (!tree) {
    return 0;
  }
  std::uint64_t total = 0;
  for (const auto& file : *tree) {
    if (!common::artifact::check_path(file.path)) {
      std::abort();
    }
    total += file.content.size();
  }
  if (tree->size() > limits.max_files || total > limits.max_total_bytes) {
    std::abort();
  }
  auto packed = common::artifact::pack(*tree);
  if (!packed) {
    std::abort();
  }
  auto back = common::artifact::unpack(*packed, limits);
  if (!back || *back != *tree) {
    std::abort();
  }
  return 0;
}
