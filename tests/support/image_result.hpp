// A resolved image as tests want it: updater "ns/u", the given repository (also as written in
// the spec), tag, strategy and alias, and a fixed digest ("sha256:" + 64 'd').
#pragma once

#include <string>
#include <utility>

#include "common/resolve/resolver.hpp"

namespace tests {

inline common::resolve::ImageResult image_result(std::string repo, std::string tag,
                                                 std::string strategy = "semver",
                                                 std::string alias = "a") {
  common::resolve::ImageResult r;
  r.updater = "ns/u";
  r.alias = std::move(alias);
  r.image = repo;
  r.repository = std::move(repo);
  r.strategy = std::move(strategy);
  r.tag = std::move(tag);
  r.digest = "sha256:" + std::string(64, 'd');
  return r;
}

} // namespace tests
