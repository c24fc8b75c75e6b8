#pragma once
// Datagrams (ABI 1.4; DatagramFlow::receive_drops 1.5): what a UDP tunnel carries. A public UDP client's
// datagrams travel between edge and connector unreliably and unordered
// (QUIC DATAGRAM frames, RFC 9221; core carries them on a stream of its own
// over a transport without datagrams), and the connector hands each flow's
// datagrams to a DatagramFlow a datagram backend (udp) opened for it.
//
// The async contract of transport.hpp holds here too: completions are
// posted, never run inside the call that started them; one thread; at most
// one receive pending per object; destroying the object completes a pending
// receive with boost::asio::error::operation_aborted.

#include <warren/sdk/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/config.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace warren::sdk {

/// One datagram's payload, owned by whoever holds it.
using Datagram = std::vector<std::byte>;
using DatagramHandler = boost::asio::any_completion_handler<void(error_code, Datagram)>;

/// One flow to a datagram service, opened by Backend::async_open_flow for one
/// public client (address, port): the udp backend's connected UDP socket.
/// Owned by core; destroying it closes the socket.
class BOOST_SYMBOL_VISIBLE DatagramFlow {
 public:
  virtual ~DatagramFlow() = default;

  /// Sends one datagram to the service without waiting. Returns false,
  /// dropping it, when the socket cannot take it now (buffer full, larger
  /// than the service's path allows); the caller counts the drop. A flow the
  /// service refused (ICMP port unreachable) fails its pending or next
  /// receive with errc::backend_refused.
  virtual bool send(std::span<const std::byte> payload) = 0;

  /// Waits for the next datagram from the service. Errors: backend_refused
  /// (nothing listens there), operation_aborted (the flow was destroyed).
  template <typename Token>
  auto async_receive(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, Datagram)>(
        [this](auto handler) { async_receive_impl(std::move(handler)); }, token);
  }


 private:
  virtual void async_receive_impl(DatagramHandler handler) = 0;

 public:
  // Declared after every ABI 1.4 virtual, so their vtable slots stay where
  // a 1.4 plugin put them; a 1.4 plugin's flow has no receive_drops() slot.
  /// (ABI 1.5) Datagrams from the service that never reached this flow:
  /// dropped where the flow receives them since it opened, because its
  /// receive buffer was full (udp backend: the kernel's count for the
  /// socket). Cumulative; core reads it while the flow lives (/metrics) and
  /// once before destroying it, and counts the growth as `socket_buffer`
  /// drops. Cheap enough to call per scrape and flow. 0: none, or unknown.
  /// Core calls this only on flows of backend plugins of ABI >= 1.5; a 1.4
  /// plugin's flow has no such slot and counts 0 (core/plugin/backend_abi_gate).
  virtual std::uint64_t receive_drops() const { return 0; }
};

using DatagramFlowPtr = std::unique_ptr<DatagramFlow>;
using DatagramFlowHandler = boost::asio::any_completion_handler<void(error_code, DatagramFlowPtr)>;

}  // namespace warren::sdk
