// libFuzzer entry point for common/image: parse_reference, parse_image_spec and parse_platforms
// on arbitrary bytes. Beyond "no crash, no sanitizer report", it checks the invariants the rest
// of the code relies on: every accepted reference is well-formed and reads back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/image/platform.hpp"
#include "common/image/reference.hpp"

namespace {

using common::image::ImageSpec;
using common::image::Platform;
using common::image::Reference;

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_reference(const Reference& ref) {
  require(!ref.registry.empty());
  require(!ref.repository.empty());
  require(ref.name().size() <= 255);
  require(ref.tag.size() <= 128);
  // The canonical string reads back to the same reference.
  auto again = common::image::parse_reference(ref.to_string());
  require(again.has_value());
  require(*again == ref);
  // So does the familiar name, to the same repository.
  auto familiar = common::image::parse_reference(ref.familiar_name());
  require(familiar.has_value());
  require(familiar->name() == ref.name());
}

void check_image_spec(const ImageSpec& spec) {
  require(!spec.alias.empty());
  require(!spec.written.empty());
  require(spec.ref.tag.empty());
  check_reference(spec.ref);
  // The image part as written is a reference in its own right, and the same one.
  auto written = common::image::parse_reference(spec.written);
  require(written.has_value());
  require(*written == spec.ref);
  if (spec.ref.digest.empty()) {
    // Rebuilt without the alias, the entry splits the same way.
    std::string text = spec.written;
    if (!spec.constraint.empty()) {
      text += ':';
      text += spec.constraint;
    }
    auto again = common::image::parse_image_spec(text);
    require(again.has_value());
    require(again->ref == spec.ref);
    require(again->constraint == spec.constraint);
    require(again->written == spec.written);
  }
}

void check_platform(const Platform& p) {
  require(!p.os.empty() && !p.arch.empty());
  auto again = common::image::parse_platform(p.to_string());
  require(again.has_value());
  require(*again == p);
  require(common::image::matches(p, p));
  require(common::image::matches(Platform{p.os, p.arch, ""}, p));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ref = common::image::parse_reference(text)) {
    check_reference(*ref);
  }
  if (auto spec = common::image::parse_image_spec(text)) {
    check_image_spec(*spec);
  }
  if (auto platforms = common::image::parse_platforms(text)) {
    for (const Platform& p : *platforms) {
      check_platform(p);
    }
  }
  return 0;
}
