// TAPIR_ASSERT guards internal invariants only, never packet contents (STYLE.md §8).
// It is active in Debug and sanitizer builds (TAPIR_ENABLE_ASSERTS) and compiles away
// otherwise, so a release build never aborts on it.
#pragma once

namespace tapir::detail {
[[noreturn]] void assert_fail(const char* expr, const char* msg, const char* file, int line);
}

#if defined(TAPIR_ENABLE_ASSERTS)
#define TAPIR_ASSERT(cond, msg)                                                  \
  do {                                                                           \
    if (!(cond)) ::tapir::detail::assert_fail(#cond, (msg), __FILE__, __LINE__); \
  } while (0)
#else
#define TAPIR_ASSERT(cond, msg) \
  do {                          \
  } while (0)
#endif
