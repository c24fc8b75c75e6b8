#pragma once
// One flow of the udp backend: a connected UDP socket to the service.
// Connected, so the kernel hands it only the service's datagrams and reports
// an ICMP port unreachable for it as ECONNREFUSED on its next receive or
// send (Linux udp(7)), which becomes errc::backend_refused.
//
// Receives: a wake-up reads what the socket holds, up to a batch, and hands
// it out one receive at a time, so a burst costs one readiness wait, not one
// per datagram. The socket asks for a receive buffer of
// flow_receive_buffer_bytes; the kernel caps it at net.core.rmem_max (208
// KiB by default on many systems) unless the process may force it
// (CAP_NET_ADMIN). What the kernel still drops is receive_drops().

#include <warren/sdk/datagram.hpp>
#include <warren/sdk/proxy_protocol.hpp>

#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

namespace warren::udp {

/// A flow socket's receive buffer: 1 MiB (the kernel's default is 208 KiB).
/// A busy connector loop pauses a few milliseconds at a time while one
/// flow's service answers at full rate; 1 MiB holds ~10 ms of 1,200-byte
/// answers at 40,000/s. It bounds, it does not allocate: an idle flow costs
/// nothing more.
inline constexpr int flow_receive_buffer_bytes = 1 << 20;
/// Datagrams read per readiness wake-up.
inline constexpr int flow_receive_batch = 16;

class UdpFlow final : public sdk::DatagramFlow {
 public:
  /// What goes before the payload of datagrams to the service.
  struct Prefix {
    sdk::proxy_protocol::HeaderBytes header;  ///< a PROXY v2 header, written in the same datagram
    bool every = true;                        ///< before every datagram, or only the first one sent
  };

  /// Takes a socket already connected to the service; with a `prefix`, the
  /// datagrams it sends start with that header (receives are untouched: a
  /// service answers without one). Sets the socket's receive buffer.
  explicit UdpFlow(boost::asio::ip::udp::socket socket, std::optional<Prefix> prefix = std::nullopt);
  /// Closes the socket; a pending receive completes with operation_aborted.
  ~UdpFlow() override;
  UdpFlow(const UdpFlow&) = delete;  // open_count() counts objects
  UdpFlow& operator=(const UdpFlow&) = delete;

  bool send(std::span<const std::byte> payload) override;
  /// The kernel's count of datagrams the socket dropped (SO_MEMINFO's
  /// drops: the counter SO_RXQ_OVFL reports, readable at any time, so drops
  /// after the flow's last datagram count too).
  std::uint64_t receive_drops() const override;
  /// The receive buffer the kernel granted (it doubles what was asked, for
  /// its bookkeeping), for tests and logs.
  int receive_buffer() const;
  /// Flows of this plugin alive now, in every backend object (a reload's
  /// old one too): each holds a descriptor. For the open-failure warning.
  static std::uint64_t open_count();

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override;

  /// Shared with a pending receive's completion, which may run after the
  /// flow is gone (it then reports operation_aborted).
  struct State {
    explicit State(boost::asio::ip::udp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::udp::socket socket;
    std::deque<sdk::Datagram> ready;  ///< read on the last wake-up, not handed out yet
    bool refused = false;  ///< a send or read saw ECONNREFUSED: the next receive fails with it
  };
  /// Waits until the socket is readable, then reads up to a batch.
  static void receive_when_readable(std::shared_ptr<State> state, sdk::DatagramHandler handler);

  std::shared_ptr<State> state_;
  std::optional<Prefix> prefix_;
  bool prefix_sent_ = false;  ///< for Prefix::every = false: the first datagram went out with it
};

}  // namespace warren::udp
