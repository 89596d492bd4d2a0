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

# Layering enforced by include paths. Nothing sees the source root: a target sees "PREFIX/..."
# only through a staging directory holding one symbolic link, PREFIX -> DIR, so a module's
# include path is its own folder plus its declared dependencies' (propagated by the PUBLIC links
# iu_module makes), and an #include of an undeclared module fails to compile.
#   iu_stage_dir(PREFIX OUT): the staging directory for PREFIX ("common/util" -> build/include/common_util)
#   iu_expose(TARGET SCOPE PREFIX DIR): TARGET (SCOPE PRIVATE/PUBLIC/INTERFACE) sees PREFIX/... in DIR
function(iu_stage_dir prefix out)
  string(MAKE_C_IDENTIFIER "${prefix}" key)
  set(${out} ${PROJECT_BINARY_DIR}/include/${key} PARENT_SCOPE)
endfunction()

function(iu_expose target scope prefix dir)
  iu_stage_dir(${prefix} stage)
  get_filename_component(parent ${stage}/${prefix} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT IS_SYMLINK ${stage}/${prefix})
    file(CREATE_LINK ${dir} ${stage}/${prefix} SYMBOLIC)
  endif()
  target_include_directories(${target} ${scope} ${stage})
endfunction()
