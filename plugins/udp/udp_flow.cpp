#include "plugins/udp/udp_flow.hpp"

#include <boost/asio/post.hpp>

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <array>
#include <atomic>

namespace warren::udp {

namespace asio = boost::asio;

namespace {

/// The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP header bytes,
/// RFC 768 / RFC 791); IPv6 without jumbograms allows 65,527, and a larger
/// one is truncated and dropped below.
constexpr std::size_t max_udp_payload = 65527;

bool is_refusal(const sdk::error_code& ec) { return ec == asio::error::connection_refused; }

bool would_block(const sdk::error_code& ec) { return ec == asio::error::would_block || ec == asio::error::try_again; }

/// Past net.core.rmem_max where the process may (CAP_NET_ADMIN), else up to it.
void ask_receive_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/// Flows alive; a counter, not a list: the warning needs only how many.
std::atomic<std::uint64_t> flows_alive{0};

}  // namespace

std::uint64_t UdpFlow::open_count() { return flows_alive.load(std::memory_order_relaxed); }

UdpFlow::UdpFlow(asio::ip::udp::socket socket, std::optional<Prefix> prefix)
    : state_(std::make_shared<State>(std::move(socket))), prefix_(std::move(prefix)) {
  sdk::error_code ignored;
  state_->socket.non_blocking(true, ignored);  // send() must never wait
  if (state_->socket.is_open()) ask_receive_buffer(state_->socket.native_handle(), flow_receive_buffer_bytes);
  flows_alive.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t UdpFlow::receive_drops() const {
  if (!state_->socket.is_open()) return 0;
  std::array<std::uint32_t, SK_MEMINFO_VARS> meminfo{};
  socklen_t len = sizeof(meminfo);
  if (::getsockopt(state_->socket.native_handle(), SOL_SOCKET, SO_MEMINFO, meminfo.data(), &len) != 0 ||
      len <= SK_MEMINFO_DROPS * sizeof(std::uint32_t))
    return 0;
  return meminfo[SK_MEMINFO_DROPS];
}

int UdpFlow::receive_buffer() const {
  int bytes = 0;
  socklen_t len = sizeof(bytes);
  if (!state_->socket.is_open() ||
      ::getsockopt(state_->socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &bytes, &len) != 0)
    return 0;
  return bytes;
}

UdpFlow::~UdpFlow() {
  sdk::error_code ignored;
  state_->socket.close(ignored);
  flows_alive.fetch_sub(1, std::memory_order_relaxed);
}

bool UdpFlow::send(std::span<const std::byte> payload) {
  sdk::error_code ec;
  if (prefix_ && (prefix_->every || !prefix_sent_)) {
    // One sendmsg with two pieces: header and payload leave as one datagram.
    std::array<asio::const_buffer, 2> pieces{asio::buffer(prefix_->header.data(), prefix_->header.size()),
                                             asio::buffer(payload.data(), payload.size())};
    state_->socket.send(pieces, 0, ec);
    if (!ec) prefix_sent_ = true;  // with "first", a datagram that failed leaves the header to the next one
  } else {
    state_->socket.send(asio::buffer(payload.data(), payload.size()), 0, ec);
  }
  if (!ec) return true;
  if (is_refusal(ec)) {
    // The send took the ICMP error the kernel kept for this socket; a pending
    // receive would never see it, so wake it to report the refusal.
    state_->refused = true;
    state_->socket.cancel(ec);
  }
  return false;  // would_block (buffer full), message_size, refused: the caller counts the drop
}

void UdpFlow::async_receive_impl(sdk::DatagramHandler handler) {
  auto executor = state_->socket.get_executor();
  if (!state_->ready.empty()) {
    // Read on the last wake-up. Posted: never complete inside the call.
    asio::post(executor, [h = std::move(handler), d = std::move(state_->ready.front())]() mutable {
      std::move(h)(sdk::error_code(), std::move(d));
    });
    state_->ready.pop_front();
    return;
  }
  if (state_->refused) {
    asio::post(executor, [h = std::move(handler)]() mutable {
      std::move(h)(sdk::make_error_code(sdk::errc::backend_refused), sdk::Datagram{});
    });
    return;
  }
  receive_when_readable(state_, std::move(handler));
}

// A pending receive waits for readiness and holds no buffer: an idle flow
// costs its socket alone (a 64 KiB buffer per pending receive made 5,000
// flows 340 MB, trial finding). Datagrams are read into one buffer per
// thread and copied out at their own size: the first to the waiting
// receive, the rest of the batch into `ready` for the next receives.
void UdpFlow::receive_when_readable(std::shared_ptr<State> state, sdk::DatagramHandler handler) {
  auto& socket = state->socket;
  socket.async_wait(asio::socket_base::wait_read, [state = std::move(state),
                                                   h = std::move(handler)](sdk::error_code ec) mutable {
    if (!ec) {
      thread_local std::array<std::byte, max_udp_payload> scratch;
      std::optional<sdk::Datagram> first;
      for (int read = 0; read < flow_receive_batch; ++read) {
        sdk::error_code read_error;
        const std::size_t n = state->socket.receive(asio::buffer(scratch), 0, read_error);
        if (read_error) {
          // A refusal after datagrams were read: they go first, the next receive reports it.
          if (is_refusal(read_error)) state->refused = true;
          if (!first && !would_block(read_error)) ec = read_error;
          break;
        }
        sdk::Datagram d(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
        if (!first)
          first = std::move(d);
        else
          state->ready.push_back(std::move(d));
      }
      if (first) return std::move(h)(sdk::error_code(), std::move(*first));
      if (!ec) return receive_when_readable(std::move(state), std::move(h));  // woken for nothing
    }
    if (ec == asio::error::operation_aborted && state->refused && state->socket.is_open())
      ec = sdk::make_error_code(sdk::errc::backend_refused);
    else if (is_refusal(ec)) {
      state->refused = true;
      ec = sdk::make_error_code(sdk::errc::backend_refused);
    }
    std::move(h)(ec, sdk::Datagram{});
  });
}

}  // namespace warren::udp
