#pragma once
// One flow of the udp backend: a connected UDP socket to the service.
// Connected, so the kernel hands it only the service's datagrams and reports
// an ICMP port unreachable for it as ECONNREFUSED on its next receive or
// send (Linux udp(7)), which becomes errc::backend_refused.

#include <warren/sdk/datagram.hpp>

#include <boost/asio/ip/udp.hpp>

#include <memory>

namespace warren::udp {

class UdpFlow final : public sdk::DatagramFlow {
 public:
  /// Takes a socket already connected to the service.
  explicit UdpFlow(boost::asio::ip::udp::socket socket);
  /// Closes the socket; a pending receive completes with operation_aborted.
  ~UdpFlow() override;

  bool send(std::span<const std::byte> payload) override;

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override;

  /// Shared with a pending receive's completion, which may run after the
  /// flow is gone (it then reports operation_aborted).
  struct State {
    explicit State(boost::asio::ip::udp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::udp::socket socket;
    bool refused = false;  ///< a send saw ECONNREFUSED: the next receive fails with it
  };
  std::shared_ptr<State> state_;
};

}  // namespace warren::udp
