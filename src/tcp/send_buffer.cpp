// SendBuffer (see send_buffer.hpp). The ring's head is always SND.UNA, so an absolute
// offset maps to a ring position by subtracting una_. Out-of-range arguments are caller
// bugs: they assert in Debug builds and are clamped or refused in Release builds, where
// TAPIR_ASSERT compiles away.
#include "tcp/send_buffer.hpp"

#include <algorithm>

#include "tapir/assert.hpp"

namespace tapir::tcp {

std::size_t SendBuffer::copy_out(std::uint64_t offset, MutBytes out) const {
  TAPIR_ASSERT(offset >= una_ && offset <= end(), "SendBuffer::copy_out outside [una, end]");
  if (offset < una_ || offset > end()) return 0;
  return ring_.copy_out(static_cast<std::size_t>(offset - una_), out);
}

ByteSlices SendBuffer::peek(std::uint64_t offset, std::size_t max) const {
  TAPIR_ASSERT(offset >= una_ && offset <= end(), "SendBuffer::peek outside [una, end]");
  if (offset < una_ || offset > end()) return {};
  return ring_.slices(static_cast<std::size_t>(offset - una_), max);
}

void SendBuffer::ack(std::uint64_t new_una) {
  TAPIR_ASSERT(new_una >= una_ && new_una <= end(), "SendBuffer::ack outside [una, end]");
  const std::uint64_t clamped = std::clamp(new_una, una_, end());
  ring_.pop(static_cast<std::size_t>(clamped - una_));
  una_ = clamped;
}

}  // namespace tapir::tcp
