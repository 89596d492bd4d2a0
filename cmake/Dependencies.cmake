# Every third-party dependency comes from Debian's packages (scripts/install-deps.sh) and is
# found here, once. Modules link the imported targets they need, privately.
find_package(PkgConfig REQUIRED)

# Only the Poco libraries something links (Data, DataSQLite, JSON and Util never were: SQLite and
# nlohmann/json are used directly; NetSSL finds Util itself).
find_package(Poco REQUIRED COMPONENTS Foundation Net NetSSL Crypto)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
# Debian's compiled spdlog 1.10 (libspdlog.so) over the system fmt 9 (SPDLOG_FMT_EXTERNAL): its
# config finds fmt itself, and only common/log links it.
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(LibArchive REQUIRED)
find_package(SQLite3 REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# yaml-cpp 0.7's config names its target 'yaml-cpp' without a namespace.
if(TARGET yaml-cpp AND NOT TARGET dep::yaml)
  add_library(dep::yaml ALIAS yaml-cpp)
endif()
add_library(dep::re2 ALIAS PkgConfig::RE2)
add_library(dep::git2 ALIAS PkgConfig::LIBGIT2)
# Jsonnet (Debian's libjsonnet-dev: the C++ implementation's C API) for directory apps' .jsonnet.
find_path(JSONNET_INCLUDE_DIR libjsonnet.h REQUIRED)
find_library(JSONNET_LIBRARY jsonnet REQUIRED)
add_library(dep::jsonnet UNKNOWN IMPORTED)
set_target_properties(dep::jsonnet PROPERTIES IMPORTED_LOCATION ${JSONNET_LIBRARY}
                                             INTERFACE_INCLUDE_DIRECTORIES ${JSONNET_INCLUDE_DIR})

if(IU_TESTS)
  find_package(GTest REQUIRED)
endif()
if(IU_BENCH)
  find_package(benchmark REQUIRED)
endif()
