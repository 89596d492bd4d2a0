#include <array>
#include <dlfcn.h>
#include <string>
#include <unistd.h>

#include <climits>

#include "common/http/tls_module.hpp"
#include "common/http/tls_server.hpp"

namespace common::http::detail {
namespace {

// The directory of the running executable (not of argv[0] nor the working directory: the plugin
// is started by Argo CD with a working directory of its choosing).
std::string executable_dir() {
  std::array<char, PATH_MAX> buffer{};
  const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0) {
    return {};
  }
  std::string path(buffer.data(), static_cast<std::size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

} // namespace

util::Result<const TlsModule*> load_tls_module() {
  const std::string dir = executable_dir();
  if (dir.empty()) {
    return util::fail(util::ErrorKind::internal,
                      "cannot load TLS support: the executable's directory is unknown "
                      "(/proc/self/exe is not readable)");
  }
  std::string tried;
  for (const std::string& path :
       {dir + "/" + k_tls_module_file, dir + "/../lib/imageupdater/" + k_tls_module_file}) {
    // RTLD_NOW: a broken install fails here, with a reason, not at some later call.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* reason = ::dlerror();
      tried += "\n  " + path + ": " + (reason != nullptr ? reason : "not loadable");
      continue;
    }
    // Never dlclose()d: see tls_module.hpp.
    using Entry = const TlsModule* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, k_tls_entry)); // NOLINT: dlsym's API
    if (entry == nullptr) {
      tried += "\n  " + path + ": no entry point " + k_tls_entry + " (a mismatched version?)";
      continue;
    }
    return entry();
  }
  return util::fail(util::ErrorKind::internal,
                    std::string("cannot load TLS support (") + k_tls_module_file +
                        ", installed beside the executable); tried:" + tried);
}

util::Result<std::unique_ptr<detail::TlsServerContext>>
tls_server_context(const std::string& cert_file, const std::string& key_file) {
  auto module = detail::load_tls_module();
  if (!module) {
    return std::unexpected(module.error());
  }
  return (*module)->server_context(cert_file, key_file);
}

} // namespace common::http::detail

namespace common::http {

util::Result<std::unique_ptr<detail::TlsServerContext>>
tls_server_context(const std::string& cert_file, const std::string& key_file) {
  auto module = detail::load_tls_module();
  if (!module) {
    return std::unexpected(module.error());
  }
  return (*module)->server_context(cert_file, key_file);
}

} // namespace common::http
