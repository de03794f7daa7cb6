// Shared pieces of the device layer: the setup error every device throws, and the frame-size
// bound that turns DeviceCaps::mtu (an IP datagram size) into an Ethernet frame size.
#pragma once

#include <cstddef>
#include <stdexcept>

#include "wire/ethernet.hpp"

namespace tapir::phy {

// Thrown only while setting a device up (opening the TAP, a pcap file). The message says
// what failed and what to do about it; app/main.cpp prints it and exits.
struct DeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The longest frame a device carries for a given MTU: the Ethernet header plus one datagram
// (the TAP driver strips the FCS, so it is not counted).
constexpr std::size_t max_frame_len(std::size_t mtu) {
  return mtu + wire::EthernetView::kHeaderLen;
}

}  // namespace tapir::phy
