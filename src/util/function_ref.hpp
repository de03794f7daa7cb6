// FunctionRef: a non-owning reference to a callable, for "fill this buffer" callbacks on
// the transmit path. Unlike std::function it never allocates; the callable must outlive
// the call it is passed to (it always does: callbacks here are used before returning).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace tapir {

template <class Sig>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
           std::is_invocable_r_v<R, F&, Args...>)
      // The requires clause above keeps copies on the copy constructor; clang-tidy 14
      // does not read requires clauses.
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload)
      FunctionRef(F&& f)  // NOLINT(google-explicit-constructor)
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace tapir
