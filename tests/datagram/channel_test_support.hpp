#pragma once
// What the DatagramChannel tests share: patterned datagrams, and receiving
// one or many with a deadline.

#include "core/datagram/datagram_channel.hpp"
#include "stream_pair.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <vector>

namespace warren::core::datagram::test_support {

/// `n` bytes in a pattern that `seed` shifts, so datagrams tell apart.
inline sdk::Datagram bytes_of(std::size_t n, unsigned seed) {
  sdk::Datagram d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
  return d;
}

struct Received {
  bool done = false;
  sdk::error_code error;
  sdk::Datagram datagram;
};

/// Starts one receive whose result lands in `out`.
inline void receive_into(DatagramChannel& channel, Received& out) {
  out = {};
  channel.async_receive([&out](sdk::error_code ec, sdk::Datagram d) { out = {true, ec, std::move(d)}; });
}

/// Receives until `count` datagrams or an error (kept in `error` when given);
/// returns the datagrams.
inline std::vector<sdk::Datagram> receive_n(boost::asio::io_context& io, DatagramChannel& channel, std::size_t count,
                                            sdk::error_code* error = nullptr) {
  std::vector<sdk::Datagram> got;
  bool failed = false;
  std::function<void()> next = [&] {
    channel.async_receive([&](sdk::error_code ec, sdk::Datagram d) {
      if (ec) {
        failed = true;
        if (error) *error = ec;
        return;
      }
      got.push_back(std::move(d));
      if (got.size() < count) next();
    });
  };
  next();
  test::run_until(io, [&] { return failed || got.size() >= count; });
  return got;
}

}  // namespace warren::core::datagram::test_support
