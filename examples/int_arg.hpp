// A number from the command line for the example programs: the whole text must be a
// decimal integer in [lo, hi]; otherwise the program says which flag is wrong and exits 2.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>

inline int int_arg(const char* prog, const char* flag, const char* text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "%s: %s wants a whole number from %ld to %ld, got '%s'\n", prog, flag, lo,
                 hi, text);
    std::exit(2);
  }
  return static_cast<int>(v);
}
