// libFuzzer entry point for manifest injection: any bytes must give an error or an output,
// never a crash or a hang; and an output must be a fixed point (rewriting it again changes
// nothing) and the same in stream mode as in file mode.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/manifest/rewrite.hpp"

namespace {

const common::manifest::Rewriter& rewriter() {
  // Built once: libFuzzer calls the entry point millions of times. Never changed after.
  static const auto made = [] {
    common::manifest::Overrides o;
    o.images.push_back({"docker.io/library/nginx", std::nullopt, "1.27.0", std::nullopt, {}, ""});
    o.images.push_back({"ghcr.io/acme/app",
                        "registry.example/app",
                        "2.0",
                        std::nullopt,
                        {"image.repository", "image.tag", ""},
                        ""});
    o.images.push_back(
        {"redis", std::nullopt, std::nullopt, "sha256:" + std::string(64, 'a'), {}, ""});
    o.setters["ns:p"] = {"index.repo.fake/updated", "v1.0.1", ""};
    o.setters["ns:d"] = {"image", "v1.0.0", "sha256:" + std::string(64, 'b')};
    auto r = common::manifest::Rewriter::create(std::move(o));
    if (!r) {
      std::abort();
    }
    return std::move(*r);
  }();
  return made;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& rw = rewriter();
  auto file = rw.rewrite(text, "fuzz.yaml");
  std::string streamed;
  auto stream = rw.rewrite_stream(text, "fuzz.yaml", [&](std::string_view p) { streamed += p; });
  if (file.has_value() != stream.has_value()) {
    std::abort();
  }
  if (!file) {
    if (file.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  if (streamed != file->output || *stream != file->changes) {
    std::abort();
  }
  if (!file->changed() && file->output != text) {
    std::abort();
  }
  auto again = rw.rewrite(file->output, "fuzz.yaml");
  if (!again || again->changed() || again->output != file->output) {
    std::abort();
  }
  return 0;
}
