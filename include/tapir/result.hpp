// Result<T, E>: a value or an error, with the part of std::expected's API tapir uses
// (has_value, value, error, *, ->), so it can become std::expected under C++23.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "tapir/assert.hpp"
#include "tapir/errno.hpp"

namespace tapir {

template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E = Errno>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT(google-explicit-constructor)
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}                  // NOLINT
  Result(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT
  // An error value converts implicitly, so `return Errno::Inval;` reads naturally.
  Result(E e) requires(!std::is_same_v<T, E>) : v_(std::in_place_index<1>, e) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    TAPIR_ASSERT(has_value(), "Result::value() on an error");
    return std::get<0>(v_);
  }
  const T& value() const& {
    TAPIR_ASSERT(has_value(), "Result::value() on an error");
    return std::get<0>(v_);
  }
  T&& value() && {
    TAPIR_ASSERT(has_value(), "Result::value() on an error");
    return std::get<0>(std::move(v_));
  }
  const E& error() const {
    TAPIR_ASSERT(!has_value(), "Result::error() on a value");
    return std::get<1>(v_);
  }
  T value_or(T alt) const { return has_value() ? std::get<0>(v_) : alt; }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace tapir
