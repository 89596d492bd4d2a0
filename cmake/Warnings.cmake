# Project-wide compile settings as INTERFACE targets, linked PRIVATE by project code only
# (never by third-party code), as ccache does.
add_library(iu_warnings INTERFACE)
target_compile_options(iu_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Debian's Poco/spdlog headers trip clang-only warnings; they are not ours.
  target_compile_options(iu_warnings INTERFACE -Wno-unused-command-line-argument)
endif()

add_library(iu_settings INTERFACE)
target_include_directories(iu_settings INTERFACE ${PROJECT_SOURCE_DIR})
target_link_libraries(iu_settings INTERFACE iu_warnings)
if(IU_SANITIZE)
  target_compile_options(iu_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                               -fno-sanitize-recover=all)
  target_link_options(iu_settings INTERFACE -fsanitize=address,undefined)
endif()
if(IU_FUZZ)
  target_compile_options(iu_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined)
  target_link_options(iu_settings INTERFACE -fsanitize=address,undefined)
endif()
