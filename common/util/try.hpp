// Propagating the error of a util::Result (std::expected) in one expression.
//
//   util::Result<Config> load(const std::string& path) {
//     std::string text = IU_TRY(util::read_file(path));            // the value, or return
//     IU_TRY(check(text));                                          // Result<void> works too
//     auto doc = IU_TRY(util::with_context(parse(text), path));     // error says "<path>: ..."
//     ...
//   }
//
// IU_TRY(expr) evaluates `expr` (a std::expected) once; on an error it returns
// std::unexpected(error) from the enclosing function (which must return a std::expected whose
// error type the error converts to), else it yields the value (moved out of a temporary,
// copied from an lvalue; nothing for void).
// It is a GCC/Clang statement expression (`__extension__` keeps -Wpedantic quiet), so it may
// not be used where `return` cannot (lambdas return from the lambda, as usual; not in
// constructors' initialiser lists, not in coroutines). To add context or a location on the way
// out, wrap the operand: util::with_context / util::with_location (common/util/error.hpp) keep
// the kind.
#pragma once

#include <expected>
#include <utility>

namespace common::util::detail {
// The value of an IU_TRY, through a function that is not [[nodiscard]]: libstdc++ marks
// std::expected's operator* so, and an IU_TRY whose value is not used (IU_TRY(step());) must
// not warn (clang's -Wunused-result).
template <class E>
decltype(auto) try_value(E&& e) {
  return *std::forward<E>(e);
}
} // namespace common::util::detail

#define IU_TRY_CONCAT_(a, b) a##b
#define IU_TRY_NAME_(n) IU_TRY_CONCAT_(iu_try_result_, n)
#define IU_TRY_IMPL_(name, ...)                                                                    \
  __extension__({                                                                                  \
    auto&& name = (__VA_ARGS__);                                                                   \
    if (!name.has_value()) {                                                                       \
      return std::unexpected(std::forward<decltype(name)>(name).error());                          \
    }                                                                                              \
    ::common::util::detail::try_value(std::forward<decltype(name)>(name));                         \
  })
#define IU_TRY(...) IU_TRY_IMPL_(IU_TRY_NAME_(__COUNTER__), __VA_ARGS__)
