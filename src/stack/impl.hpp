// The inside of a Stack: the layers it owns, in the order they are built (bottom up).
#pragma once

#include "ip/ipv4_layer.hpp"
#include "link/ethernet_layer.hpp"
#include "socket/impl.hpp"
#include "tapir/random.hpp"
#include "tapir/stack.hpp"
#include "tcp/tcp_layer.hpp"
#include "udp/udp_layer.hpp"

namespace tapir {

struct Stack::Impl {
  Impl(phy::Device& dev, const StackConfig& cfg);

  phy::Device& device;
  StackConfig config;
  Stats stats;
  SeededRng rng;
  link::EthernetLayer link;
  ip::Ipv4Layer ip;
  udp::UdpLayer udp;
  tcp::TcpLayer tcp;
  Instant now;  // the time of the latest poll: socket calls between polls happen "now"
  Sockets sockets;
  bool announced = false;
};

}  // namespace tapir
