#include "core/edge/udp_public_port.hpp"

#include <boost/asio/ip/v6_only.hpp>

#include <linux/sock_diag.h>
#include <sys/socket.h>

namespace warren::core {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {
/// Datagrams read without waiting after one wake-up: enough to amortise the
/// wake-up over a burst, few enough that one busy port does not starve the loop.
constexpr int drain_batch = 64;
// 8 MiB: ~30 ms of the 60 KB x 60k/s flood, ~80 ms of 100k/s small ones,
// while the loop serves a wake-up of the tunnels' connections.
constexpr int receive_buffer_bytes = 8 * 1024 * 1024;

/// Past net.core.rmem_max where the process may (CAP_NET_ADMIN), else up to it.
void ask_receive_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}
}  // namespace

UdpPublicPort::UdpPublicPort(asio::any_io_executor executor, const udp::endpoint& at, OnDatagram on_datagram)
    : socket_(std::move(executor)),
      buffer_(std::make_unique<std::array<std::byte, max_payload>>()),
      on_datagram_(std::move(on_datagram)) {
  socket_.open(at.protocol());
  if (at.address().is_v6()) socket_.set_option(asio::ip::v6_only(false));  // "::" takes IPv4 clients too
  socket_.bind(at);
  local_ = socket_.local_endpoint();
  ask_receive_buffer(socket_.native_handle(), receive_buffer_bytes);  // best effort
  sdk::error_code ignored;
  socket_.non_blocking(true, ignored);
}

std::uint64_t UdpPublicPort::socket_drops() const {
  std::array<std::uint32_t, SK_MEMINFO_VARS> meminfo{};
  socklen_t len = sizeof(meminfo);
  if (socket_.is_open() &&
      ::getsockopt(const_cast<udp::socket&>(socket_).native_handle(), SOL_SOCKET, SO_MEMINFO, meminfo.data(),
                   &len) == 0 &&
      len > SK_MEMINFO_DROPS * sizeof(std::uint32_t))
    socket_drops_ = meminfo[SK_MEMINFO_DROPS];
  return socket_drops_;
}

int UdpPublicPort::receive_buffer() const {
  int bytes = 0;
  socklen_t len = sizeof(bytes);
  if (socket_.is_open())
    ::getsockopt(const_cast<udp::socket&>(socket_).native_handle(), SOL_SOCKET, SO_RCVBUF, &bytes, &len);
  return bytes;
}

void UdpPublicPort::start() { receive(); }

void UdpPublicPort::close() {
  socket_drops();  // kept: the count goes with the socket
  sdk::error_code ignored;
  socket_.close(ignored);
}

bool UdpPublicPort::send_to(const udp::endpoint& client, std::span<const std::byte> payload) {
  sdk::error_code ec;
  if (socket_.is_open()) socket_.send_to(asio::buffer(payload.data(), payload.size()), client, 0, ec);
  if (!socket_.is_open() || ec) {
    ++counters_.send_dropped;
    return false;
  }
  ++counters_.sent;
  counters_.sent_bytes += payload.size();
  return true;
}

void UdpPublicPort::receive() {
  if (!socket_.is_open()) return;
  socket_.async_receive_from(asio::buffer(*buffer_), from_,
                             [self = shared_from_this()](sdk::error_code ec, std::size_t size) {
                               if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
                               if (ec) {
                                 // An unconnected socket reports no ICMP errors; whatever this is
                                 // belongs to one datagram, never to the port.
                                 ++self->counters_.receive_errors;
                                 return self->receive();
                               }
                               self->deliver_and_drain(size);
                             });
}

void UdpPublicPort::deliver_and_drain(std::size_t size) {
  for (int read = 0;; ++read) {
    ++counters_.received;
    counters_.received_bytes += size;
    on_datagram_(from_, sdk::Datagram(buffer_->begin(), buffer_->begin() + static_cast<std::ptrdiff_t>(size)));
    // The callback may have closed the port.
    if (!socket_.is_open() || read + 1 == drain_batch) break;
    sdk::error_code ec;
    size = socket_.receive_from(asio::buffer(*buffer_), from_, 0, ec);
    if (ec) break;  // would_block: nothing more queued now
  }
  receive();
}

}  // namespace warren::core
