#include <string>
#include <string_view>

#include "common/kube/api.hpp"

namespace common::kube {

std::string path_of(const Resource& resource, std::string_view namespace_, std::string_view name,
                    std::string_view subresource) {
  std::string path = resource.group.empty() ? "/api/" : "/apis/" + resource.group + "/";
  path += resource.version;
  if (resource.namespaced && !namespace_.empty()) {
    path += "/namespaces/";
    path += namespace_;
  }
  path += '/';
  path += resource.plural;
  if (!name.empty()) {
    path += '/';
    path += name;
    if (!subresource.empty()) {
      path += '/';
      path += subresource;
    }
  }
  return path;
}

} // namespace common::kube
