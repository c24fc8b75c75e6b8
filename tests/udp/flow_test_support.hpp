#pragma once
// Helpers for the FlowTable tests: a virtual clock, keys, payloads, and
// draining a table's actions into a list to look at.

#include "core/udp/flow_table.hpp"

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace warren::core::udp::test {

using namespace std::chrono_literals;

inline const sdk::TimePoint t0 = sdk::TimePoint{} + std::chrono::hours(1);

inline FlowKey key(std::string_view address, unsigned short port, std::uint32_t origin = 0) {
  return FlowKey{origin, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address(address), port)};
}

inline sdk::Datagram bytes(std::string_view text) {
  sdk::Datagram out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::string text(const sdk::Datagram& payload) {
  std::string out;
  for (const std::byte b : payload) out.push_back(static_cast<char>(b));
  return out;
}

inline std::vector<FlowAction> drain(FlowTable& table) {
  std::vector<FlowAction> out;
  while (auto action = table.poll_action()) out.push_back(std::move(*action));
  return out;
}

/// The actions of type T among `actions`, in order.
template <typename T>
std::vector<T> only(const std::vector<FlowAction>& actions) {
  std::vector<T> out;
  for (const auto& action : actions) {
    if (const auto* wanted = std::get_if<T>(&action)) out.push_back(*wanted);
  }
  return out;
}

}  // namespace warren::core::udp::test
