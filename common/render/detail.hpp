// Internal to common/render: the renderers behind render().
#pragma once

#include "common/render/render.hpp"

namespace common::render::detail {

util::Result<Rendered> render_plain(const std::string& app_dir, const RenderOptions& options);
util::Result<Rendered> render_kustomize(const std::string& app_dir, const RenderOptions& options,
                                        process::Runner& runner);
util::Result<Rendered> render_helm(const std::string& app_dir, const RenderOptions& options,
                                   process::Runner& runner);

} // namespace common::render::detail
