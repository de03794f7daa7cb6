// Names for LossAction, used in logs ("tcp ...: fast-retransmit") and test failures.
#include "tcp/congestion.hpp"

namespace tapir::tcp {

std::string_view to_string(LossAction a) {
  switch (a) {
    case LossAction::None:
      return "none";
    case LossAction::LimitedTransmit:
      return "limited-transmit";
    case LossAction::FastRetransmit:
      return "fast-retransmit";
    case LossAction::RetransmitFirstUnacked:
      return "retransmit-first-unacked";
  }
  return "?";
}

}  // namespace tapir::tcp
