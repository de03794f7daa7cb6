// The real clock, for the app only (src/app). Protocol code never sees it: it gets
// Instants passed in (STYLE.md §0.1).
#pragma once

#include "tapir/time.hpp"

namespace tapir {

class SteadyClock final : public Clock {
 public:
  SteadyClock();
  Instant now() const override;

 private:
  std::int64_t origin_ns_;
};

}  // namespace tapir
