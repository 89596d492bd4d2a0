#include "common/render/jsonnet.hpp"

#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <memory>

extern "C" {
#include <libjsonnet.h>
}
#include <nlohmann/json.hpp>

#include "common/render/confine.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"

namespace common::render {

namespace fs = std::filesystem;
using util::ErrorKind;

namespace {

// libjsonnet is loaded when a Jsonnet file is evaluated, not linked: only the `jsonnet-eval`
// child needs it, and linking it costs every start of the plugin (resolve, generate of a plain
// or Helm app) about 0.7 ms of relocations. Types come from its header; functions from dlsym.
constexpr const char* kLibrary = "libjsonnet.so.0";

struct LibraryCloser {
  void operator()(void* handle) const noexcept { dlclose(handle); }
};

struct Api {
  std::unique_ptr<void, LibraryCloser> library;
  decltype(&::jsonnet_make) make = nullptr;
  decltype(&::jsonnet_destroy) destroy = nullptr;
  decltype(&::jsonnet_realloc) realloc = nullptr;
  decltype(&::jsonnet_import_callback) import_callback = nullptr;
  decltype(&::jsonnet_ext_var) ext_var = nullptr;
  decltype(&::jsonnet_ext_code) ext_code = nullptr;
  decltype(&::jsonnet_tla_var) tla_var = nullptr;
  decltype(&::jsonnet_tla_code) tla_code = nullptr;
  decltype(&::jsonnet_evaluate_file) evaluate_file = nullptr;
};

template <class F>
bool bind(void* library, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(library, name));
  return out != nullptr;
}

util::Result<Api> load_api() {
  Api api;
  api.library.reset(dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL));
  if (!api.library) {
    const char* why = dlerror();
    return util::fail(ErrorKind::unsupported, std::string("Jsonnet is not available: ") +
                                                  (why != nullptr ? why : kLibrary) +
                                                  " (install Debian's libjsonnet0)");
  }
  void* lib = api.library.get();
  if (!bind(lib, "jsonnet_make", api.make) || !bind(lib, "jsonnet_destroy", api.destroy) ||
      !bind(lib, "jsonnet_realloc", api.realloc) ||
      !bind(lib, "jsonnet_import_callback", api.import_callback) ||
      !bind(lib, "jsonnet_ext_var", api.ext_var) || !bind(lib, "jsonnet_ext_code", api.ext_code) ||
      !bind(lib, "jsonnet_tla_var", api.tla_var) || !bind(lib, "jsonnet_tla_code", api.tla_code) ||
      !bind(lib, "jsonnet_evaluate_file", api.evaluate_file)) {
    return util::fail(ErrorKind::unsupported,
                      std::string(kLibrary) + " lacks a function of the Jsonnet C API");
  }
  return api;
}

struct ImportContext {
  const Api* api = nullptr;
  JsonnetVm* vm = nullptr;
  const JsonnetJob* job = nullptr;
};

// A copy of `text` in a buffer libjsonnet owns (it frees what callbacks return).
char* vm_string(const ImportContext& c, std::string_view text) {
  char* out = c.api->realloc(c.vm, nullptr, text.size() + 1);
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

// go-jsonnet's FileImporter order: the importing file's directory, then the library paths from
// last to first, then the application directory. Each candidate is confined to the repository.
char* import_callback(void* ctx, const char* base, const char* rel, char** found_here,
                      int* success) {
  const auto& c = *static_cast<ImportContext*>(ctx);
  const JsonnetJob& job = *c.job;
  *success = 0;
  const fs::path wanted(rel);
  std::vector<fs::path> candidates;
  if (wanted.is_absolute()) {
    candidates.push_back(wanted);
  } else {
    candidates.push_back(fs::path(base) / wanted);
    for (auto it = job.libs.rbegin(); it != job.libs.rend(); ++it) {
      candidates.push_back(fs::path(*it) / wanted);
    }
    candidates.push_back(fs::path(job.app_dir) / wanted);
  }
  for (const fs::path& candidate : candidates) {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(candidate, ec);
    if (ec || !fs::exists(real, ec)) {
      continue;
    }
    if (!is_within(job.root, real.string())) {
      return vm_string(c, "import " + util::quote(rel) +
                              " resolves outside the application's repository (refused)");
    }
    if (!fs::is_regular_file(real, ec)) {
      return vm_string(c, "import " + util::quote(rel) + ": not a regular file");
    }
    auto text = util::read_file(real.string(), job.max_import_bytes);
    if (!text) {
      return vm_string(c, "import " + util::quote(rel) + ": " + text.error().message);
    }
    *found_here = vm_string(c, real.string());
    *success = 1;
    return vm_string(c, *text);
  }
  return vm_string(c, "import " + util::quote(rel) +
                          ": no such file in the importing "
                          "directory, the libraries or the app");
}

// Argo CD's reading: one object, or an array of objects with null items skipped. Throws what
// nlohmann throws (a string that is not UTF-8 cannot be dumped); the caller catches it.
util::Result<std::string> documents_of(const nlohmann::json& doc, std::string_view file) {
  std::string out;

  const auto add = [&](const nlohmann::json& object) {
    out += "---\n";
    out += object.dump();
    out += '\n';
  };
  if (doc.is_object()) {
    add(doc);
    return out;
  }
  if (doc.is_array()) {
    for (const auto& item : doc) {
      if (item.is_null()) {
        continue;
      }
      if (!item.is_object()) {
        return util::fail(ErrorKind::invalid_input,
                          std::string(file) +
                              ": the Jsonnet output is an array holding a non-object (Argo CD "
                              "reads an object or an array of objects)");
      }
      add(item);
    }
    return out;
  }
  return util::fail(ErrorKind::invalid_input,
                    std::string(file) + ": the Jsonnet output is neither an object nor an array "
                                        "of objects");
}

} // namespace

std::string to_json(const JsonnetJob& job) {
  nlohmann::json j;
  j["file"] = job.file;
  j["root"] = job.root;
  j["app_dir"] = job.app_dir;
  j["libs"] = job.libs;
  j["ext_vars"] = job.ext_vars;
  j["ext_code"] = job.ext_code;
  j["tlas"] = job.tlas;
  j["tla_code"] = job.tla_code;
  j["max_import_bytes"] = job.max_import_bytes;
  return j.dump();
}

util::Result<JsonnetJob> job_from_json(std::string_view text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    JsonnetJob job;
    job.file = j.at("file").get<std::string>();
    job.root = j.at("root").get<std::string>();
    job.app_dir = j.at("app_dir").get<std::string>();
    job.libs = j.at("libs").get<std::vector<std::string>>();
    job.ext_vars = j.at("ext_vars").get<std::map<std::string, std::string>>();
    job.ext_code = j.at("ext_code").get<std::map<std::string, std::string>>();
    job.tlas = j.at("tlas").get<std::map<std::string, std::string>>();
    job.tla_code = j.at("tla_code").get<std::map<std::string, std::string>>();
    job.max_import_bytes = j.at("max_import_bytes").get<std::size_t>();
    return job;
  } catch (const nlohmann::json::exception& e) {
    return util::fail(ErrorKind::invalid_input, std::string("jsonnet job: ") + e.what());
  }
}

util::Result<std::string> evaluate_jsonnet(const JsonnetJob& job) {
  if (!is_within(job.root, job.file)) {
    return util::fail(ErrorKind::invalid_input,
                      job.file + " is outside the application's repository");
  }
  auto api = load_api();
  if (!api) {
    return std::unexpected(api.error());
  }
  const auto destroy = api->destroy;
  const auto deleter = [destroy](JsonnetVm* vm) { destroy(vm); };
  std::unique_ptr<JsonnetVm, decltype(deleter)> vm(api->make(), deleter);
  ImportContext ctx{&*api, vm.get(), &job};
  api->import_callback(vm.get(), import_callback, &ctx);
  for (const auto& [k, v] : job.ext_vars) {
    api->ext_var(vm.get(), k.c_str(), v.c_str());
  }
  for (const auto& [k, v] : job.ext_code) {
    api->ext_code(vm.get(), k.c_str(), v.c_str());
  }
  for (const auto& [k, v] : job.tlas) {
    api->tla_var(vm.get(), k.c_str(), v.c_str());
  }
  for (const auto& [k, v] : job.tla_code) {
    api->tla_code(vm.get(), k.c_str(), v.c_str());
  }
  int error = 0;
  char* out = api->evaluate_file(vm.get(), job.file.c_str(), &error);
  std::string text = out == nullptr ? std::string() : std::string(out);
  api->realloc(vm.get(), out, 0);
  if (error != 0) {
    return util::fail(ErrorKind::invalid_input, std::string(util::trim(text)));
  }
  return text;
}

util::Result<std::string> jsonnet_documents(std::string_view json, std::string_view file) {
  try {
    return documents_of(nlohmann::json::parse(json), file);
  } catch (const nlohmann::json::exception& e) {
    return util::fail(ErrorKind::invalid_input,
                      std::string(file) + ": the Jsonnet output is not JSON (" + e.what() + ")");
  }
}

} // namespace common::render
