#include "closing_connection.hpp"

#include <bit>

namespace warren::quic {

ClosingConnection::ClosingConnection(const std::shared_ptr<UdpEndpoint>& endpoint, std::vector<ngtcp2_cid> cids,
                                     const udp::endpoint& remote, const std::uint8_t* close_packet, std::size_t len)
    : endpoint_(endpoint),
      cids_(std::move(cids)),
      remote_(remote),
      close_packet_(close_packet, close_packet + len),
      timer_(endpoint->get_executor()) {}

void ClosingConnection::start(const std::shared_ptr<UdpEndpoint>& endpoint, std::vector<ngtcp2_cid> cids,
                              const udp::endpoint& remote, const std::uint8_t* close_packet, std::size_t len,
                              std::chrono::nanoseconds period, std::optional<std::uint64_t> budget) {
  auto closing = std::make_shared<ClosingConnection>(endpoint, std::move(cids), remote, close_packet, len);
  closing->budget_ = budget;
  for (const auto& cid : closing->cids_) endpoint->add_route(cid, closing);
  // The timer's handler is the only owner: the state ends with the period.
  closing->timer_.expires_after(period);
  closing->timer_.async_wait([closing](const sdk::error_code&) { closing->finish(); });
}

void ClosingConnection::on_datagram(const udp::endpoint&, const std::uint8_t*, std::size_t len, ngtcp2_tstamp) {
  if (budget_) *budget_ += 3 * static_cast<std::uint64_t>(len);
  bool affordable = !budget_ || *budget_ >= close_packet_.size();
  // Answer the 1st, 2nd, 4th, 8th … packet: enough for a lost close to be
  // repeated, never an amplifier for a flood.
  if (std::has_single_bit(++received_) && affordable) {
    if (budget_) *budget_ -= close_packet_.size();
    if (auto endpoint = endpoint_.lock())
      endpoint->send(remote_, close_packet_.data(), close_packet_.size(), close_packet_.size());
  }
}

void ClosingConnection::finish() {
  auto endpoint = endpoint_.lock();
  if (!endpoint) return;
  for (const auto& cid : cids_) endpoint->remove_route(cid, this);
}

}  // namespace warren::quic
