#include "udp_relay.hpp"

namespace warren::test {

UdpRelay::UdpRelay(boost::asio::io_context& io, std::uint16_t target_port)
    : front_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      back_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      target_(boost::asio::ip::make_address("127.0.0.1"), target_port) {
  receive_from_client();
  receive_from_server();
}

bool UdpRelay::drop() {
  if (cut_) return true;
  if (loss_ <= 0) return false;
  std::uint64_t z = (random_ += 0x9e3779b97f4a7c15ULL);  // SplitMix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 < loss_;
}

void UdpRelay::receive_from_client() {
  front_.async_receive_from(boost::asio::buffer(client_buffer_), from_client_,
                            [this, alive = alive_](boost::system::error_code ec, std::size_t n) {
                              if (!*alive || ec == boost::asio::error::operation_aborted) return;
                              if (!ec && !drop()) {
                                client_ = from_client_;
                                back_.send_to(boost::asio::buffer(client_buffer_.data(), n), target_, 0, ec);
                                ++forwarded_;
                              }
                              receive_from_client();
                            });
}

void UdpRelay::receive_from_server() {
  back_.async_receive_from(boost::asio::buffer(server_buffer_), from_server_,
                           [this, alive = alive_](boost::system::error_code ec, std::size_t n) {
                             if (!*alive || ec == boost::asio::error::operation_aborted) return;
                             if (!ec && !server_muted_ && !drop() && client_.port() != 0) {
                               front_.send_to(boost::asio::buffer(server_buffer_.data(), n), client_, 0, ec);
                               ++forwarded_;
                             }
                             receive_from_server();
                           });
}

}  // namespace warren::test
