// libFuzzer entry point for the ImageUpdater reader: any bytes must yield diagnostics, never a
// crash, a hang or unbounded memory. Also checks invariants every result must keep.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/spec/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = common::spec::parse_stream(text, "fuzz.yaml");
  for (const auto& d : result.diagnostics) {
    if (d.line < 0 || d.column < 0 || d.message.empty() || d.file != "fuzz.yaml") {
      std::abort();
    }
    (void)common::spec::format(d);
  }
  for (const auto& u : result.updaters) {
    for (const auto& image : u.images) {
      (void)common::spec::image_settings(u, image);
    }
  }
  return 0;
}
