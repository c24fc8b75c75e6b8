#pragma once
// Driving a udp backend's flows from a test: open one, receive one datagram,
// each running the fixture's loop with a deadline.

#include "plugin_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace warren::test {

/// Runs the loop until `done()` or a deadline on the test itself.
template <typename Done>
void run_until(PluginFixture& f, Done done) {
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10); !done() && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(std::chrono::milliseconds(100));
}

struct Opened {
  sdk::error_code ec;
  sdk::DatagramFlowPtr flow;
};

inline Opened open_flow(PluginFixture& f, sdk::Backend& backend, std::string client = "203.0.113.7:5555",
                        std::string listener = "127.0.0.1:20053") {
  std::optional<Opened> result;
  backend.async_open_flow(sdk::StreamInfo{std::move(client), std::move(listener)},
                          [&](sdk::error_code ec, sdk::DatagramFlowPtr flow) { result = Opened{ec, std::move(flow)}; });
  CHECK_FALSE(result);  // posted, never completed inside the call
  run_until(f, [&] { return result.has_value(); });
  REQUIRE(result);
  return std::move(*result);
}

struct Received {
  sdk::error_code ec;
  sdk::Datagram datagram;
};

inline Received receive(PluginFixture& f, sdk::DatagramFlow& flow) {
  std::optional<Received> result;
  flow.async_receive([&](sdk::error_code ec, sdk::Datagram d) { result = Received{ec, std::move(d)}; });
  run_until(f, [&] { return result.has_value(); });
  REQUIRE(result);
  return std::move(*result);
}

inline sdk::Datagram bytes(std::string_view text) {
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  return sdk::Datagram(first, first + text.size());  // no memcpy: an empty one has no data() to copy from
}

inline std::string text(const sdk::Datagram& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

}  // namespace warren::test
