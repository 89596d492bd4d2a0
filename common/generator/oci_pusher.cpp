#include "common/generator/oci_pusher.hpp"

#include "common/image/reference.hpp"

namespace common::generator {

util::Result<oci::PushResult> RegistryPusher::push(const std::string& reference,
                                                   std::string_view layer_targz,
                                                   const oci::Annotations& annotations) {
  auto parsed = image::parse_reference(reference);
  if (!parsed) {
    return util::fail(util::ErrorKind::invalid_input,
                      "OCI repository " + reference + ": " + parsed.error().message);
  }
  if (parsed->tag.empty()) {
    return util::fail(util::ErrorKind::invalid_input,
                      "OCI repository " + reference + " names no tag");
  }
  resolve::Target target;
  target.repository = *parsed;
  target.repository.tag.clear();
  target.repository.digest.clear();
  auto client = m_registries.client(target);
  if (!client) {
    return std::unexpected(client.error());
  }
  return oci::push_flux_artifact(**client, parsed->repository, parsed->tag, layer_targz,
                                 annotations);
}

} // namespace common::generator
