// The native DatagramChannel: a connection's own datagrams (QUIC DATAGRAM
// frames, RFC 9221). The transport holds the bounded queues and counts
// their drops (ConnectionStats::datagrams_*); the channel adds its own
// counts, reports the transport's as dropped_in_transport (the one native
// channel of its connection carries all of them), and a close() that
// leaves the connection open.

#include "core/datagram/datagram_channel.hpp"

#include <warren/sdk/completion.hpp>

#include <boost/asio/error.hpp>

#include <utility>

namespace warren::core::datagram {
namespace {

class NativeChannelState : public std::enable_shared_from_this<NativeChannelState> {
 public:
  explicit NativeChannelState(sdk::Connection& connection)
      : connection_(connection), executor_(connection.get_executor()) {}

  std::size_t max_datagram_size() const { return closed_ ? 0 : connection_.max_datagram_size(); }

  bool send(std::span<const std::byte> payload) {
    if (closed_) {
      ++counters_.dropped_on_send;
      return false;
    }
    if (!connection_.send_datagram(payload)) {
      // The connection counts this refusal too (datagrams_dropped).
      ++counters_.dropped_on_send;
      ++refused_by_connection_;
      return false;
    }
    ++counters_.sent;
    return true;
  }

  void receive(sdk::DatagramHandler handler) {
    if (closed_)
      return sdk::complete_later(executor_, std::move(handler), boost::asio::error::operation_aborted, sdk::Datagram());
    if (handler_)
      return sdk::complete_later(executor_, std::move(handler), boost::asio::error::in_progress, sdk::Datagram());
    sdk::store_handler(handler_, std::move(handler));
    if (receiving_) return;  // the connection's receive from before is still pending
    receiving_ = true;
    // The connection's one pending receive; its completion is already posted.
    connection_.async_receive_datagram([self = shared_from_this()](sdk::error_code ec, sdk::Datagram datagram) {
      self->on_received(ec, std::move(datagram));
    });
  }

  void close() {
    if (closed_) return;
    counters_.dropped_in_transport = transport_drops();  // the connection may go before this state does
    closed_ = true;
    sdk::complete_if_pending(executor_, handler_, boost::asio::error::operation_aborted, sdk::Datagram());
  }

  ChannelCounters counters() const {
    ChannelCounters out = counters_;
    if (!closed_) out.dropped_in_transport = transport_drops();
    return out;
  }

 private:
  /// The connection's datagram drops that are not send()'s refusals.
  std::uint64_t transport_drops() const {
    std::uint64_t all = connection_.stats().datagrams_dropped;
    return all > refused_by_connection_ ? all - refused_by_connection_ : 0;
  }

  void on_received(sdk::error_code ec, sdk::Datagram datagram) {
    receiving_ = false;
    if (!ec) ++counters_.received;
    if (closed_) {
      if (!ec) ++counters_.dropped_on_receive;
      return;
    }
    sdk::complete_if_pending(executor_, handler_, ec, std::move(datagram));
  }

  sdk::Connection& connection_;
  boost::asio::any_io_executor executor_;
  ChannelCounters counters_;
  std::uint64_t refused_by_connection_ = 0;  ///< send_datagram() said no: in datagrams_dropped too
  sdk::DatagramHandler handler_;
  bool receiving_ = false;
  bool closed_ = false;
};

class NativeChannel final : public DatagramChannel {
 public:
  explicit NativeChannel(std::shared_ptr<NativeChannelState> state) : state_(std::move(state)) {}
  ~NativeChannel() override { state_->close(); }
  NativeChannel(const NativeChannel&) = delete;
  NativeChannel& operator=(const NativeChannel&) = delete;

  std::size_t max_datagram_size() const override { return state_->max_datagram_size(); }
  bool send(std::span<const std::byte> payload) override { return state_->send(payload); }
  void close() override { state_->close(); }
  ChannelCounters counters() const override { return state_->counters(); }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override { state_->receive(std::move(handler)); }

  std::shared_ptr<NativeChannelState> state_;
};

}  // namespace

DatagramChannelPtr make_native_channel(sdk::Connection& connection) {
  return std::make_unique<NativeChannel>(std::make_shared<NativeChannelState>(connection));
}

}  // namespace warren::core::datagram
