// Internal to common/render: the renderers behind render().
#pragma once

#include "common/render/render.hpp"

namespace common::render::detail {

// `root`: the canonical repository root.
util::Result<Rendered> render_plain(const std::string& app_dir, const std::string& root,
                                    const RenderOptions& options, process::Runner& runner);
util::Result<Rendered> render_kustomize(const std::string& app_dir, const RenderOptions& options,
                                        process::Runner& runner);
util::Result<Rendered> render_helm(const std::string& app_dir, const std::string& root,
                                   const RenderOptions& options, process::Runner& runner);

} // namespace common::render::detail
