#pragma once
// A udp tunnel's public UDP port at the edge: one unconnected socket that
// every public client of the tunnel sends to, and that the edge answers
// from, so a client sees its replies come from the address it asked. It only
// moves datagrams: which client's datagrams form a flow, and where they go,
// is the tunnel's FlowTable (core/udp) and its shell.

#include <warren/sdk/datagram.hpp>

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace warren::core {

/// What the port did since it was made, for /metrics.
struct UdpPortCounters {
  std::uint64_t received = 0;        ///< datagrams from public clients
  std::uint64_t received_bytes = 0;  ///< their payload bytes
  std::uint64_t sent = 0;            ///< datagrams to public clients
  std::uint64_t sent_bytes = 0;
  std::uint64_t send_dropped = 0;     ///< send_to refused: socket buffer full, too large, or closed
  std::uint64_t receive_errors = 0;   ///< receives that failed and were retried (never stop the port)
};

class UdpPublicPort : public std::enable_shared_from_this<UdpPublicPort> {
 public:
  /// Called on the loop's thread for each datagram, with the client's
  /// address and port and the payload (owned by the callee from then on).
  using OnDatagram = std::function<void(const boost::asio::ip::udp::endpoint& client, sdk::Datagram payload)>;

  /// Binds at once; throws boost::system::system_error (e.g. address in use).
  /// Asks the kernel for an 8 MiB receive buffer (it caps it at
  /// net.core.rmem_max unless the process may force it, CAP_NET_ADMIN), so a
  /// burst waits there rather than being dropped.
  UdpPublicPort(boost::asio::any_io_executor executor, const boost::asio::ip::udp::endpoint& at,
                OnDatagram on_datagram);

  /// Starts receiving; the port keeps itself alive while it receives.
  void start();
  /// Stops receiving and closes the socket. Idempotent.
  void close();

  /// Sends one datagram to `client` without waiting. False, dropping it
  /// (counted in send_dropped), when the socket cannot take it now.
  bool send_to(const boost::asio::ip::udp::endpoint& client, std::span<const std::byte> payload);

  boost::asio::ip::udp::endpoint local_endpoint() const { return local_; }
  const UdpPortCounters& counters() const { return counters_; }
  /// Datagrams from public clients the kernel dropped at this socket since
  /// it opened, its receive buffer full (SO_MEMINFO's drops, the counter
  /// SO_RXQ_OVFL reports, read now); the last value read once closed.
  std::uint64_t socket_drops() const;
  /// The receive buffer the kernel granted (twice what it accepted of the
  /// request, for its bookkeeping).
  int receive_buffer() const;

 private:
  void receive();
  /// Hands over the datagram in buffer_, then reads what else is queued
  /// without waiting (at most a batch, so other work on the loop runs too).
  void deliver_and_drain(std::size_t size);

  /// The largest UDP payload (IPv6 without jumbograms: 65,535 - 8, RFC 8200);
  /// IPv4's is smaller (65,507).
  static constexpr std::size_t max_payload = 65527;

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint local_;
  boost::asio::ip::udp::endpoint from_;  ///< filled by the pending receive
  std::unique_ptr<std::array<std::byte, max_payload>> buffer_;
  OnDatagram on_datagram_;
  UdpPortCounters counters_;
  mutable std::uint64_t socket_drops_ = 0;  ///< the last count read, kept past close()
};

}  // namespace warren::core
