// The real OciPusher: through the registries the service resolves images with (registries.conf
// endpoints, TLS settings, credentials), so a push goes where a pull of the same name would.
#pragma once

#include "common/generator/reconciler.hpp"
#include "common/resolve/wiring.hpp"

namespace common::generator {

class RegistryPusher final : public OciPusher {
public:
  explicit RegistryPusher(resolve::RegistryWiring& registries) : m_registries(registries) {}
  // `reference` is "host/repository:tag"; invalid_input when it does not parse or has no tag.
  util::Result<oci::PushResult> push(const std::string& reference, std::string_view layer_targz,
                                     const oci::Annotations& annotations) override;

private:
  resolve::RegistryWiring& m_registries;
};

} // namespace common::generator
