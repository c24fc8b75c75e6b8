#pragma once
// One UDP socket shared by many QUIC connections. Incoming datagrams are
// routed by destination connection ID; a listener's acceptor gets those for
// no known connection. Outgoing packets of equal size leave in one
// UDP_SEGMENT (GSO) send where the kernel allows it.

#include "accept_budget.hpp"
#include "connection_id.hpp"

#include <warren/sdk/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/udp.hpp>

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace warren::quic {

using boost::asio::ip::udp;

/// What the endpoint delivers datagrams to: one QUIC connection.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  /// One datagram routed here. Replies wait for end_of_batch.
  virtual void on_datagram(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) = 0;
  /// The endpoint has read all it will for now: write what is due.
  virtual void end_of_batch() = 0;
  /// The kernel reported an ICMP error (port, host or network unreachable)
  /// for a datagram sent to this sink's peer (see add_peer).
  virtual void on_unreachable(ngtcp2_tstamp now) { (void)now; }

 private:
  friend class UdpEndpoint;
  bool in_batch_ = false;
};

class UdpEndpoint : public std::enable_shared_from_this<UdpEndpoint> {
 public:
  /// Makes a connection for a datagram no connection claims, or returns null
  /// to drop it.
  using Acceptor =
      std::function<std::shared_ptr<PacketSink>(const udp::endpoint& from, const std::uint8_t* data, std::size_t len)>;

  /// Room for one GSO send: the kernel takes at most 64 KiB per call.
  static constexpr std::size_t tx_capacity = 65000;
  static constexpr std::size_t max_segments = 64;

  /// Binds a socket; null with `ec` set (errc::port_in_use when taken).
  static std::shared_ptr<UdpEndpoint> open(const boost::asio::any_io_executor& executor, const udp::endpoint& bind,
                                           sdk::error_code& ec);
  ~UdpEndpoint();

  /// Starts reading. Call once, after the endpoint is owned by a shared_ptr.
  void start();
  /// Asks for a kernel receive buffer of `bytes`, beyond net.core.rmem_max
  /// where the process may (CAP_NET_ADMIN); the size it got.
  int enlarge_receive_buffer(int bytes);

  void add_route(const ngtcp2_cid& cid, std::weak_ptr<PacketSink> sink);
  /// Removes the route for `cid` if it still leads to `owner`.
  void remove_route(const ngtcp2_cid& cid, const PacketSink* owner);
  void set_acceptor(Acceptor acceptor) { acceptor_ = std::move(acceptor); }
  /// ICMP errors for datagrams sent to `peer` go to `sink` (on_unreachable).
  void add_peer(const udp::endpoint& peer, std::weak_ptr<PacketSink> sink);
  /// Removes `owner`'s registration for `peer`.
  void remove_peer(const udp::endpoint& peer, const PacketSink* owner);
  /// A datagram that no connection ID routes and that ends in `token` (a
  /// stateless reset token the peer gave `sink` for a connection ID it
  /// uses, RFC 9000 §10.3.1) goes to `sink`, which lets ngtcp2 judge it.
  void add_reset_token(const std::uint8_t* token, std::weak_ptr<PacketSink> sink);
  /// Removes `owner`'s registration of `token`.
  void remove_reset_token(const std::uint8_t* token, const PacketSink* owner);
  /// ICMP errors read from the socket's error queue, and how many of them
  /// named a peer some connection had registered.
  std::uint64_t icmp_errors() const { return icmp_errors_; }
  std::uint64_t icmp_errors_routed() const { return icmp_errors_routed_; }

  boost::asio::any_io_executor get_executor() const { return executor_; }
  udp::endpoint local_endpoint() const { return local_; }
  /// The local address in the form ngtcp2 paths use.
  ngtcp2_addr local_addr() {
    return {reinterpret_cast<ngtcp2_sockaddr*>(local_.data()), static_cast<ngtcp2_socklen>(local_.size())};
  }

  /// Scratch space for building packets before `send`; shared, because
  /// everything runs on one thread and a flush completes before the next.
  std::uint8_t* tx_buffer() { return tx_buffer_.data(); }
  /// Sends `len` bytes as datagrams of `segment` bytes (the last may be shorter).
  /// Returns 0, or the errno of a send the kernel refused for a reason other
  /// than a full buffer (EPERM/EACCES: a local firewall drops UDP to `to`).
  /// Such a datagram is lost; QUIC loss recovery resends it.
  int send(const udp::endpoint& to, const std::uint8_t* data, std::size_t len, std::size_t segment);

  /// Datagrams for no known connection dropped unread because the acceptor
  /// had used its share of the loop's time (AcceptBudget: a flood of Initials).
  std::uint64_t unrouted_shed() const { return unrouted_shed_; }

 private:
  UdpEndpoint(const boost::asio::any_io_executor& executor);
  void wait_readable();
  void drain();
  /// One recvmmsg into rx_slots_: how many slots were filled, each a
  /// datagram or with GRO a train of `segment`-byte datagrams; -1 with errno
  /// set on failure.
  int receive();
  /// Reads the socket's error queue (IP_RECVERR): each ICMP unreachable
  /// report goes to the connections registered for its destination.
  void drain_errors(ngtcp2_tstamp now);
  /// Delivers a datagram to the connection its DCID names; false if none does.
  bool route(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now);
  /// Delivers a datagram no connection ID routes to the connection whose
  /// stateless reset token it ends in; false if none.
  bool route_reset(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now);
  /// Offers a datagram no connection claimed to the acceptor.
  void accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now);
  void deliver(std::shared_ptr<PacketSink> sink, const udp::endpoint& from, const std::uint8_t* data, std::size_t len,
               ngtcp2_tstamp now);
  /// One GSO send; false if this path has no GSO (then send datagram by
  /// datagram). `error` as for send().
  bool send_segmented(const udp::endpoint& to, const std::uint8_t* data, std::size_t len, std::size_t segment,
                      int& error);

  boost::asio::any_io_executor executor_;
  udp::socket socket_;
  udp::endpoint local_;
  struct Route {
    std::weak_ptr<PacketSink> sink;
    const PacketSink* owner;  ///< identifies the sink even after it expired
  };
  std::unordered_map<CidKey, Route, CidKeyHash> routes_;
  std::map<udp::endpoint, std::vector<Route>> peers_;
  using ResetToken = std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN>;
  struct ResetTokenHash {
    std::size_t operator()(const ResetToken& t) const noexcept {
      return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(t.data()), t.size()));
    }
  };
  std::unordered_map<ResetToken, Route, ResetTokenHash> reset_tokens_;
  std::uint64_t icmp_errors_ = 0;
  std::uint64_t icmp_errors_routed_ = 0;
  Acceptor acceptor_;
  std::vector<std::shared_ptr<PacketSink>> batch_;
  static constexpr std::size_t rx_slots = 8;
  struct RxSlot {
    std::array<std::uint8_t, 65536> data;
    udp::endpoint from;
    std::size_t length = 0;
    std::size_t segment = 0;
  };
  std::vector<RxSlot> rx_slots_;
  struct Unrouted {
    const udp::endpoint* from;
    const std::uint8_t* data;  ///< into rx_slots_, valid until the next receive()
    std::size_t len;
  };
  std::vector<Unrouted> unrouted_;
  std::uint64_t unrouted_shed_ = 0;
  AcceptBudget accept_budget_;
  std::array<std::uint8_t, 65536> tx_buffer_;
  bool gso_ = true;
};

/// Gathers packets written by one connection flush into as few sends as
/// possible: a run of equal-size packets (the last may be shorter) is one
/// GSO datagram train.
class PacketBatch {
 public:
  PacketBatch(UdpEndpoint& endpoint, const udp::endpoint& to, std::size_t max_packet)
      : endpoint_(endpoint), to_(to), max_packet_(max_packet), buffer_(endpoint.tx_buffer()) {}
  ~PacketBatch() { flush(); }
  PacketBatch(const PacketBatch&) = delete;
  PacketBatch& operator=(const PacketBatch&) = delete;

  /// Where to write the next packet; at least max_packet bytes are free.
  std::uint8_t* slot() {
    if (length_ + max_packet_ > UdpEndpoint::tx_capacity) flush();
    return buffer_ + length_;
  }
  /// A packet of `n` bytes was written at slot().
  void commit(std::size_t n);
  void flush();
  std::uint64_t bytes() const { return bytes_; }
  /// The first error a send of this batch returned (see UdpEndpoint::send); 0 if none.
  int send_error() const { return send_error_; }

 private:
  UdpEndpoint& endpoint_;
  udp::endpoint to_;
  std::size_t max_packet_;
  std::uint8_t* buffer_;
  std::size_t length_ = 0;
  std::size_t segment_ = 0;
  std::size_t count_ = 0;
  std::uint64_t bytes_ = 0;
  int send_error_ = 0;
};

}  // namespace warren::quic
