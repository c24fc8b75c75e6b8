#include "udp_endpoint.hpp"

#include "clock.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace warren::quic {
namespace {

// Reads (each up to rx_slots datagrams or GRO trains) per wake-up before
// replies go out; bounds latency for the connections waiting behind a busy one.
constexpr int max_reads_per_batch = 8;


// Big kernel buffers keep a burst at full window from being dropped on a
// busy host; the kernel caps these at net.core.[rw]mem_max.
constexpr int socket_buffer_bytes = 4 << 20;

std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

UdpEndpoint::UdpEndpoint(const boost::asio::any_io_executor& executor)
    : executor_(executor), socket_(executor), rx_slots_(rx_slots) {}

UdpEndpoint::~UdpEndpoint() {
  sdk::error_code ignored;
  socket_.close(ignored);
}

std::shared_ptr<UdpEndpoint> UdpEndpoint::open(const boost::asio::any_io_executor& executor, const udp::endpoint& bind,
                                               sdk::error_code& ec) {
  std::shared_ptr<UdpEndpoint> endpoint(new UdpEndpoint(executor));
  auto& socket = endpoint->socket_;
  socket.open(bind.protocol(), ec);
  if (ec) return nullptr;
  if (bind.address().is_v6()) socket.set_option(boost::asio::ip::v6_only(false), ec);
  sdk::error_code ignored;
  socket.set_option(boost::asio::socket_base::receive_buffer_size(socket_buffer_bytes), ignored);
  socket.set_option(boost::asio::socket_base::send_buffer_size(socket_buffer_bytes), ignored);
  socket.bind(bind, ec);
  if (ec) {
    if (ec == boost::asio::error::address_in_use) ec = sdk::make_error_code(sdk::errc::port_in_use);
    return nullptr;
  }
  socket.non_blocking(true, ec);
  if (ec) return nullptr;
  // GRO: the kernel may hand us a train of same-size datagrams in one read
  // (see receive()). Optional; without it each datagram is one read.
  int on = 1;
  ::setsockopt(socket.native_handle(), SOL_UDP, UDP_GRO, &on, sizeof(on));
  // ICMP errors for what we send (a dead peer's host answers "port
  // unreachable") are queued with the destination they concern, instead of
  // being dropped as they are for an unconnected socket (ip(7), ipv6(7)).
  ::setsockopt(socket.native_handle(), SOL_IP, IP_RECVERR, &on, sizeof(on));
  if (bind.address().is_v6()) ::setsockopt(socket.native_handle(), SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
  endpoint->local_ = socket.local_endpoint(ec);
  if (ec) return nullptr;
  return endpoint;
}

void UdpEndpoint::start() { wait_readable(); }

int UdpEndpoint::enlarge_receive_buffer(int bytes) {
  int fd = socket_.native_handle();
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  int got = 0;
  socklen_t len = sizeof(got);
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
  return got;
}

void UdpEndpoint::wait_readable() {
  // Waiting for readability instead of an async receive means no read is
  // ever in flight into a buffer that could be freed under it.
  socket_.async_wait(udp::socket::wait_read, [weak = weak_from_this()](const sdk::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->drain();
  });
}

void UdpEndpoint::drain() {
  auto keep_alive = shared_from_this();
  ngtcp2_tstamp now = now_ns();
  for (int i = 0; i < max_reads_per_batch; ++i) {
    int n = receive();
    if (n < 0) {
      if (errno == EBADF) return;
      bool empty = errno == EAGAIN || errno == EWOULDBLOCK;
      // A pending ICMP error is returned by a read (ECONNREFUSED …), or only
      // wakes us (EPOLLERR) with nothing to read: then the queue holds it.
      if (!empty || i == 0) drain_errors(now);
      if (empty) break;
      continue;
    }
    // Established connections first: what no connection claims waits until
    // the rest of this read is delivered, and only so many per wake-up.
    unrouted_.clear();
    for (int m = 0; m < n; ++m) {
      const RxSlot& slot = rx_slots_[static_cast<std::size_t>(m)];
      std::size_t len = slot.length;
      std::size_t segment = slot.segment;
      if (segment == 0 || segment > len) segment = len;
      for (std::size_t offset = 0; offset < len; offset += segment) {
        const std::uint8_t* data = slot.data.data() + offset;
        std::size_t size = std::min(segment, len - offset);
        if (!route(slot.from, data, size, now)) unrouted_.push_back({&slot.from, data, size});
      }
    }
    // Charged in CPU time: on a busy host the wall clock would also count
    // the time the scheduler gave to other processes. Read once per read
    // (at most rx_slots datagrams), not per datagram: the thread's CPU clock
    // is a system call, which cost as much as dropping an Initial.
    bool charging = false;
    std::chrono::nanoseconds cpu_before{};
    for (const auto& datagram : unrouted_) {
      if (!reset_tokens_.empty() && route_reset(*datagram.from, datagram.data, datagram.len, now)) continue;
      if (!acceptor_) continue;  // a dialing endpoint: nobody to offer them to
      if (!accept_budget_.allows(std::chrono::nanoseconds(now))) {
        ++unrouted_shed_;
        continue;
      }
      if (!charging) {
        charging = true;
        cpu_before = thread_cpu_time();
      }
      accept(*datagram.from, datagram.data, datagram.len, now);
    }
    if (charging) accept_budget_.charge(thread_cpu_time() - cpu_before);
    // Fewer than asked for: the socket was empty when the kernel answered.
    // Anything arriving since is a new readiness edge for wait_readable(),
    // so no read is spent learning EAGAIN.
    if (static_cast<std::size_t>(n) < rx_slots) break;
  }
  auto batch = std::move(batch_);
  batch_.clear();
  for (auto& sink : batch) {
    sink->in_batch_ = false;
    sink->end_of_batch();
  }
  if (socket_.is_open()) wait_readable();
}

int UdpEndpoint::receive() {
  struct Control {
    alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int))];
  };
  std::array<mmsghdr, rx_slots> msgs{};
  std::array<iovec, rx_slots> iovs{};
  std::array<Control, rx_slots> controls{};
  for (std::size_t i = 0; i < rx_slots; ++i) {
    RxSlot& slot = rx_slots_[i];
    iovs[i] = {slot.data.data(), slot.data.size()};
    msghdr& msg = msgs[i].msg_hdr;
    msg.msg_name = slot.from.data();
    msg.msg_namelen = static_cast<socklen_t>(slot.from.capacity());
    msg.msg_iov = &iovs[i];
    msg.msg_iovlen = 1;
    msg.msg_control = controls[i].bytes;
    msg.msg_controllen = sizeof(controls[i].bytes);
  }
  int n;
  do {
    n = ::recvmmsg(socket_.native_handle(), msgs.data(), static_cast<unsigned>(rx_slots), 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (int m = 0; m < n; ++m) {
    RxSlot& slot = rx_slots_[static_cast<std::size_t>(m)];
    msghdr& msg = msgs[static_cast<std::size_t>(m)].msg_hdr;
    slot.from.resize(msg.msg_namelen);
    slot.length = msgs[static_cast<std::size_t>(m)].msg_len;
    slot.segment = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(cm), sizeof(size));
        slot.segment = static_cast<std::size_t>(size);
      }
    }
  }
  return n;
}

void UdpEndpoint::drain_errors(ngtcp2_tstamp now) {
  // Bounded: a flood of forged ICMP costs at most this many reads per wake-up.
  for (int i = 0; i < 64; ++i) {
    udp::endpoint dest;
    alignas(cmsghdr) char control[512];
    std::uint8_t payload[64];  // the start of the datagram that failed; unused
    iovec iov{payload, sizeof(payload)};
    msghdr msg{};
    msg.msg_name = dest.data();
    msg.msg_namelen = static_cast<socklen_t>(dest.capacity());
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (::recvmsg(socket_.native_handle(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;  // empty (EAGAIN)
    dest.resize(msg.msg_namelen);
    bool unreachable = false;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      bool v4 = cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR;
      bool v6 = cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err err;
      std::memcpy(&err, CMSG_DATA(cm), sizeof(err));
      bool icmp = err.ee_origin == SO_EE_ORIGIN_ICMP || err.ee_origin == SO_EE_ORIGIN_ICMP6;
      unreachable = icmp && (err.ee_errno == ECONNREFUSED || err.ee_errno == EHOSTUNREACH ||
                             err.ee_errno == ENETUNREACH || err.ee_errno == EACCES);
    }
    if (!unreachable) continue;
    ++icmp_errors_;
    auto it = peers_.find(dest);
    if (it == peers_.end()) continue;
    ++icmp_errors_routed_;
    auto sinks = it->second;  // a sink may remove itself while told
    for (auto& peer : sinks)
      if (auto sink = peer.sink.lock()) sink->on_unreachable(now);
  }
}

void UdpEndpoint::add_peer(const udp::endpoint& peer, std::weak_ptr<PacketSink> sink) {
  const PacketSink* owner = sink.lock().get();
  peers_[peer].push_back(Route{std::move(sink), owner});
}

void UdpEndpoint::remove_peer(const udp::endpoint& peer, const PacketSink* owner) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  std::erase_if(it->second, [owner](const Route& r) { return r.owner == owner; });
  if (it->second.empty()) peers_.erase(it);
}

bool UdpEndpoint::route(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) {
  ngtcp2_version_cid vc;
  if (ngtcp2_pkt_decode_version_cid(&vc, data, len, cid_length) != 0) return true;  // not QUIC v1: dropped
  // ngtcp2 passes a version-0 long header with a DCID of up to 255 bytes: no
  // connection has such an ID, and it would overflow CidKey (found by fuzz_quic_datagrams).
  if (vc.dcidlen > NGTCP2_MAX_CIDLEN) return true;
  std::shared_ptr<PacketSink> sink;
  if (auto it = routes_.find(CidKey(vc.dcid, vc.dcidlen)); it != routes_.end()) sink = it->second.sink.lock();
  if (!sink) return false;
  deliver(std::move(sink), from, data, len, now);
  return true;
}

bool UdpEndpoint::route_reset(const udp::endpoint& from, const std::uint8_t* data, std::size_t len,
                              ngtcp2_tstamp now) {
  // A reset looks like a short-header packet of at least 21 bytes (§10.3).
  constexpr std::size_t min_reset = NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN;
  if (len < min_reset || (data[0] & 0x80) != 0) return false;
  ResetToken token;
  std::memcpy(token.data(), data + len - token.size(), token.size());
  auto it = reset_tokens_.find(token);
  if (it == reset_tokens_.end()) return false;
  auto sink = it->second.sink.lock();
  if (!sink) return false;
  deliver(std::move(sink), from, data, len, now);
  return true;
}

void UdpEndpoint::add_reset_token(const std::uint8_t* token, std::weak_ptr<PacketSink> sink) {
  ResetToken key;
  std::memcpy(key.data(), token, key.size());
  const PacketSink* owner = sink.lock().get();
  reset_tokens_[key] = Route{std::move(sink), owner};
}

void UdpEndpoint::remove_reset_token(const std::uint8_t* token, const PacketSink* owner) {
  ResetToken key;
  std::memcpy(key.data(), token, key.size());
  auto it = reset_tokens_.find(key);
  if (it != reset_tokens_.end() && it->second.owner == owner) reset_tokens_.erase(it);
}

void UdpEndpoint::accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) {
  // An earlier datagram of this read may have started the connection this
  // one belongs to (a client's Initial spread over two datagrams).
  if (route(from, data, len, now)) return;
  if (auto sink = acceptor_(from, data, len)) deliver(std::move(sink), from, data, len, now);
}

void UdpEndpoint::deliver(std::shared_ptr<PacketSink> sink, const udp::endpoint& from, const std::uint8_t* data,
                          std::size_t len, ngtcp2_tstamp now) {
  sink->on_datagram(from, data, len, now);
  if (!sink->in_batch_) {
    sink->in_batch_ = true;
    batch_.push_back(std::move(sink));
  }
}

void UdpEndpoint::add_route(const ngtcp2_cid& cid, std::weak_ptr<PacketSink> sink) {
  const PacketSink* owner = sink.lock().get();
  routes_[CidKey(cid)] = Route{std::move(sink), owner};
}

void UdpEndpoint::remove_route(const ngtcp2_cid& cid, const PacketSink* owner) {
  auto it = routes_.find(CidKey(cid));
  if (it != routes_.end() && it->second.owner == owner) routes_.erase(it);
}

namespace {

// A send that failed only because the socket buffer was full: the datagram
// is dropped and loss recovery resends it, as on a congested link.
bool buffer_full(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS; }

}  // namespace

int UdpEndpoint::send(const udp::endpoint& to, const std::uint8_t* data, std::size_t len, std::size_t segment) {
  int error = 0;
  if (len > segment && gso_ && send_segmented(to, data, len, segment, error)) return error;
  for (std::size_t offset = 0; offset < len; offset += segment) {
    sdk::error_code ec;
    socket_.send_to(boost::asio::buffer(data + offset, std::min(segment, len - offset)), to, 0, ec);
    if (ec && !error && ec.category() == boost::system::system_category() && !buffer_full(ec.value()))
      error = ec.value();
  }
  return error;
}

bool UdpEndpoint::send_segmented(const udp::endpoint& to, const std::uint8_t* data, std::size_t len,
                                 std::size_t segment, int& error) {
  iovec iov{const_cast<std::uint8_t*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
  msghdr msg{};
  msg.msg_name = const_cast<void*>(static_cast<const void*>(to.data()));
  msg.msg_namelen = static_cast<socklen_t>(to.size());
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  auto segment16 = static_cast<std::uint16_t>(segment);
  std::memcpy(CMSG_DATA(cm), &segment16, sizeof(segment16));
  ssize_t rv;
  do {
    rv = ::sendmsg(socket_.native_handle(), &msg, 0);
  } while (rv < 0 && errno == EINTR);
  if (rv >= 0 || buffer_full(errno)) return true;
  // A firewall's verdict (an nftables/iptables output drop) says nothing
  // about GSO: keep it, and tell the connection its peer looks blocked.
  if (errno == EPERM || errno == EACCES) {
    error = errno;
    return true;
  }
  // No GSO on this path (old kernel, a device without it): never try again.
  gso_ = false;
  return false;
}

void PacketBatch::commit(std::size_t n) {
  bytes_ += n;
  if (count_ == 0) {
    segment_ = length_ = n;
    count_ = 1;
  } else if (n > segment_) {
    // A bigger packet cannot follow smaller segments: send those, keep it.
    std::size_t previous = length_;
    int error = endpoint_.send(to_, buffer_, previous, segment_);
    if (!send_error_) send_error_ = error;
    std::memmove(buffer_, buffer_ + previous, n);
    segment_ = length_ = n;
    count_ = 1;
  } else {
    length_ += n;
    ++count_;
    if (n < segment_ || count_ == UdpEndpoint::max_segments) flush();
    return;
  }
  if (count_ == UdpEndpoint::max_segments) flush();
}

void PacketBatch::flush() {
  if (length_ == 0) return;
  int error = endpoint_.send(to_, buffer_, length_, segment_);
  if (!send_error_) send_error_ = error;
  length_ = segment_ = count_ = 0;
}

}  // namespace warren::quic
