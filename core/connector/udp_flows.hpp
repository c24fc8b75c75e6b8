#pragma once
// The connector's half of a UDP tunnel's flows: the thin Asio shell around
// one sans-io FlowTable (core/udp/flow_table.hpp, open_step) for the whole
// connector. The table decides; this carries out its actions:
//  - OpenFlow: Backend::async_open_flow on the backend current then (a lease,
//    so a reload's old backend lives while its flows do), then
//    handle_opened / handle_open_failed; an open flow gets a receive loop
//    whose datagrams go to handle_response;
//  - ForwardRequest: DatagramFlow::send;
//  - ForwardResponse: a response frame for the edge's flow id on the
//    channel of the leg the flow came through (its origin);
//  - CloseFlow: the DatagramFlow goes; a close frame tells the edge, unless
//    the edge ended the flow itself.
// Legs (core/connector/udp_leg.hpp) attach their channel under an origin,
// a number unique per leg connection, and hand every frame they read here.
//
// One thread, the loop's. Completions of backend operations hold a weak
// reference: a flow or the whole object may be gone when they run.
//
// Drops: from configure() on, a second timer reads the drop counts every
// drop_check_interval, and a reason that grew is logged as a warning with
// what to do (udp_flows_drop_log.hpp), at most once per reason per 10 s.

#include "core/datagram/datagram_channel.hpp"
#include "core/log/drop_warnings.hpp"
#include "core/udp/flow_table.hpp"

#include <warren/sdk/backend.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace warren::core {

/// Datagrams the shell dropped for reasons of its own (the table counts its
/// own in FlowCounters::dropped, by DropReason).
struct UdpShellDrops {
  std::uint64_t malformed = 0;    ///< a frame from the edge decode_flow_frame refused, or a response frame
  std::uint64_t no_leg = 0;       ///< a response for a leg that is gone, or a request from one
  std::uint64_t send_failed = 0;  ///< the leg's channel or the backend's flow refused it (full, too large)
  /// Flow frames from the edge that arrived on a leg's channel while its
  /// receive queue was full (ChannelCounters::dropped_on_receive).
  std::uint64_t receive_queue_full = 0;
  /// Lost inside a leg's transport (ChannelCounters::dropped_in_transport:
  /// QUIC's datagram queues, a failed udp stream's queued frames).
  std::uint64_t transport = 0;
  /// The service's answers the kernel dropped at a flow's socket, its
  /// receive buffer full (DatagramFlow::receive_drops).
  std::uint64_t socket_buffer = 0;
};

class UdpFlows : public std::enable_shared_from_this<UdpFlows> {
 public:
  /// The backend a new flow opens with: the one current then.
  using BackendSource = std::function<std::shared_ptr<sdk::Backend>()>;

  /// Make with std::make_shared (completions hold weak references).
  UdpFlows(boost::asio::io_context& io, BackendSource backend);
  ~UdpFlows();
  UdpFlows(const UdpFlows&) = delete;
  UdpFlows& operator=(const UdpFlows&) = delete;

  /// A leg of a udp tunnel registered; `edge_idle_timeout` is its
  /// Registered.flow_idle_timeout. The first call makes the table, whose
  /// flows end 5 s after the edge's would (35 s when the edge says 0), so
  /// the edge's close frame normally ends them; a later call with a longer
  /// one lengthens it (an edge restarted with a longer flow_idle_timeout),
  /// a shorter one changes nothing (another edge's legs may still use it).
  void configure(std::chrono::milliseconds edge_idle_timeout);
  /// True once configure() made the table (this connector carries a udp tunnel).
  bool carried() const { return table_.has_value(); }

  /// A number no other leg connection of this process has (FlowKey::origin).
  std::uint32_t new_origin() { return next_origin_++; }
  /// Frames for `origin`'s flows go on `channel` from now on; `listener` is
  /// the leg's Registered.public_address (StreamInfo::listener of its
  /// flows). `channel` must stay valid until detach(origin).
  void attach(std::uint32_t origin, datagram::DatagramChannel& channel, std::string listener);
  /// `origin`'s flows end with `reason` and its channel is forgotten.
  /// shutdown (the leg drains): close frames go out on the channel first.
  /// leg_lost (its connection ended): nothing is sent. Unknown origin: no-op.
  void detach(std::uint32_t origin, udp::CloseReason reason);

  /// One flow frame that arrived on `origin`'s channel. A malformed one, or
  /// one the edge never sends (a response), is dropped and counted
  /// (malformed); a request from an origin not attached (gone) too (no_leg).
  void handle_frame(std::uint32_t origin, std::span<const std::byte> bytes);

  /// Live flows (0 before configure).
  std::size_t active() const { return table_ ? table_->size() : 0; }
  /// The table's totals (zero before configure).
  const udp::FlowCounters& counters() const;
  /// The shell's drops, with the legs' channels' and the flows' sockets'
  /// read now (those of legs and flows gone, as they were when they went).
  UdpShellDrops drops() const;
  /// Logs the drops counted since the last lines (see above); the timer
  /// calls it. Nothing before configure.
  void log_drops(sdk::TimePoint now);
  /// The table, for tests; null before configure.
  const udp::FlowTable* table() const { return table_ ? &*table_ : nullptr; }

 private:
  /// An open (or opening) flow's backend side. `flow` is declared after
  /// `backend`: it goes first.
  struct Opened {
    std::shared_ptr<sdk::Backend> backend;
    sdk::DatagramFlowPtr flow;
  };
  struct Origin {
    datagram::DatagramChannel* channel = nullptr;
    std::string listener;
  };

  void pump();
  void execute(udp::FlowAction& action);
  void open(const udp::OpenFlow& open);
  void opened(udp::FlowId id, sdk::error_code ec, sdk::DatagramFlowPtr flow, std::shared_ptr<sdk::Backend> backend);
  void receive(udp::FlowId id);
  void closed(const udp::CloseFlow& close);
  /// Sends `frame` on attached `origin`'s channel, counting a refusal.
  void send_frame(std::uint32_t origin, const std::vector<std::byte>& frame);
  /// Lets `opened` go on a later turn of the loop: it may be the object
  /// whose completion is running. Its socket's drops are counted first.
  void release_later(Opened opened);
  /// Adds a leg channel's receive-side and transport drops to `to`.
  static void add_channel_drops(UdpShellDrops& to, const datagram::DatagramChannel& channel);
  void check_drops_later();

  boost::asio::io_context& io_;
  BackendSource backend_;
  std::optional<udp::FlowTable> table_;
  std::unordered_map<udp::FlowId, Opened> opened_;
  std::unordered_map<std::uint32_t, Origin> origins_;
  std::uint32_t next_origin_ = 1;
  UdpShellDrops drops_;  ///< the shell's own, and those of channels and flows gone
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer drop_timer_;
  std::optional<DropWarnings> drop_warnings_;     ///< made by configure()
  std::optional<DropWarnings> refusal_warnings_;  ///< flows the backend refused, said as drops are
};

}  // namespace warren::core
