#include "common/manifest/overrides.hpp"

#include <utility>

#include "common/image/reference.hpp"
#include "common/manifest/image_text.hpp"
#include "common/util/strings.hpp"

namespace common::manifest {
namespace {

using util::ErrorKind;

// The reference grammar's own checks give the reasons (lower case, tag characters, digest
// length); a dummy name or tag around the part under test lets parse_reference judge it alone.
util::Result<void> check_name(std::string_view name, std::string_view what) {
  auto ref = image::parse_reference(name);
  if (!ref) {
    return util::fail(ErrorKind::invalid_input, std::string(what) + ": " + ref.error().message);
  }
  if (!ref->tag.empty() || !ref->digest.empty()) {
    return util::fail(ErrorKind::invalid_input, std::string(what) + " " + util::quote(name) +
                                                    " must be a repository without tag or digest");
  }
  return {};
}

util::Result<void> check_tag(std::string_view tag, std::string_view what) {
  if (tag.empty()) {
    return util::fail(ErrorKind::invalid_input, std::string(what) + ": empty tag");
  }
  auto ref = image::parse_reference("x:" + std::string(tag));
  if (!ref || ref->tag != tag) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + ": invalid tag " + util::quote(tag));
  }
  return {};
}

util::Result<void> check_digest(std::string_view digest, std::string_view what) {
  auto ref = image::parse_reference("x@" + std::string(digest));
  if (digest.empty() || !ref || ref->digest != digest) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(what) + ": invalid digest " + util::quote(digest) +
                          (ref ? std::string() : " (" + ref.error().message + ")"));
  }
  return {};
}

std::unexpected<util::Error> bad_arg(std::string_view flag, std::string_view arg,
                                     const std::string& why) {
  return util::fail(ErrorKind::invalid_input,
                    std::string(flag) + " " + util::quote(arg) + ": " + why);
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

} // namespace

std::string SetterValue::full() const {
  return image::compose(name, tag, digest);
}

util::Result<std::vector<HelmPathSegment>> parse_helm_path(std::string_view path) {
  auto bad = [&](const std::string& why) -> std::unexpected<util::Error> {
    return util::fail(ErrorKind::invalid_input, "helm path " + util::quote(path) + ": " + why);
  };
  if (path.empty()) {
    return bad("empty path");
  }
  std::vector<HelmPathSegment> out;
  std::size_t i = 0;
  while (i < path.size()) {
    // A key runs to the next '.' or '['.
    std::size_t key_end = i;
    while (key_end < path.size() && path[key_end] != '.' && path[key_end] != '[') {
      ++key_end;
    }
    if (key_end == i) {
      return bad(path[i] == '[' ? "an index must follow a key" : "empty key");
    }
    out.emplace_back(std::string(path.substr(i, key_end - i)));
    i = key_end;
    while (i < path.size() && path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) {
        return bad("unclosed '['");
      }
      const std::string_view digits = path.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 9) {
        return bad("bad index " + util::quote(digits));
      }
      std::size_t index = 0;
      for (const char c : digits) {
        if (c < '0' || c > '9') {
          return bad("bad index " + util::quote(digits));
        }
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      out.emplace_back(index);
      i = close + 1;
    }
    if (i < path.size()) {
      if (path[i] != '.') {
        return bad("expected '.' or '[' at offset " + std::to_string(i));
      }
      ++i;
      if (i == path.size()) {
        return bad("empty key");
      }
    }
  }
  return out;
}

util::Result<void> validate(const ImageOverride& override) {
  const std::string what = "image override " + util::quote(override.repository);
  if (override.repository.empty()) {
    return util::fail(ErrorKind::invalid_input, "image override: empty repository");
  }
  if (auto ok = check_name(override.repository, what); !ok) {
    return ok;
  }
  if (override.new_name) {
    if (auto ok = check_name(*override.new_name, what + " new name"); !ok) {
      return ok;
    }
  }
  if (override.tag) {
    if (auto ok = check_tag(*override.tag, what); !ok) {
      return ok;
    }
  }
  if (override.digest) {
    if (auto ok = check_digest(*override.digest, what); !ok) {
      return ok;
    }
  }
  const std::string* const paths[] = {&override.helm.name, &override.helm.tag, &override.helm.spec};
  for (const std::string* path : paths) {
    if (path->empty()) {
      continue;
    }
    if (auto parsed = parse_helm_path(*path); !parsed) {
      return util::fail(ErrorKind::invalid_input, what + ": " + parsed.error().message);
    }
  }
  return {};
}

util::Result<ImageOverride> parse_image_arg(std::string_view arg) {
  constexpr std::string_view flag = "--image";
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return bad_arg(flag, arg, "expected REPO=NEWREF");
  }
  const std::string_view repo = arg.substr(0, eq);
  const std::string_view newref = arg.substr(eq + 1);
  if (repo.empty()) {
    return bad_arg(flag, arg, "empty REPO");
  }
  if (newref.empty()) {
    return bad_arg(flag, arg, "empty NEWREF (a reference, :TAG, @DIGEST or :TAG@DIGEST)");
  }
  ImageOverride out;
  out.repository = std::string(repo);
  if (newref.front() == ':' || newref.front() == '@') {
    const std::size_t at = newref.find('@');
    if (newref.front() == ':') {
      out.tag = std::string(newref.substr(1, at == std::string_view::npos ? at : at - 1));
    }
    if (at != std::string_view::npos) {
      out.digest = std::string(newref.substr(at + 1));
    }
  } else {
    auto ref = image::parse_reference(newref);
    if (!ref) {
      return bad_arg(flag, arg, ref.error().message);
    }
    const WrittenImage written = split_written(newref);
    out.new_name = std::string(written.name);
    if (!ref->tag.empty()) {
      out.tag = ref->tag;
    }
    if (!ref->digest.empty()) {
      out.digest = ref->digest;
    }
  }
  if (auto ok = validate(out); !ok) {
    return bad_arg(flag, arg, ok.error().message);
  }
  return out;
}

util::Result<SetterArg> parse_setter_arg(std::string_view arg) {
  constexpr std::string_view flag = "--setter";
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return bad_arg(flag, arg, "expected NS:NAME=IMAGE:TAG[@DIGEST]");
  }
  const std::string_view setter = arg.substr(0, eq);
  const std::string_view image_text = arg.substr(eq + 1);
  const std::size_t colon = setter.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == setter.size() ||
      setter.find(':', colon + 1) != std::string_view::npos) {
    return bad_arg(flag, arg, "the setter must be NS:NAME (one ':', both parts non-empty)");
  }
  for (const char c : setter) {
    if (is_space(c)) {
      return bad_arg(flag, arg, "white space in the setter name");
    }
  }
  if (image_text.empty()) {
    return bad_arg(flag, arg, "empty IMAGE:TAG");
  }
  auto ref = image::parse_reference(image_text);
  if (!ref) {
    return bad_arg(flag, arg, ref.error().message);
  }
  if (ref->tag.empty()) {
    return bad_arg(flag, arg, "the image needs a tag (IMAGE:TAG[@DIGEST])");
  }
  const WrittenImage written = split_written(image_text);
  SetterArg out;
  out.setter = std::string(setter);
  out.value.name = std::string(written.name);
  out.value.tag = ref->tag;
  out.value.digest = ref->digest;
  return out;
}

} // namespace common::manifest
