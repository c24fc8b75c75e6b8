// The QUIC listener under a flood of valid-looking Initial packets from
// spoofed loopback sources (tests/tools/warren-quic-initial-flood): a new
// connector still gets in, the listener answers at most one Retry per
// Initial, sends unvalidated addresses no more than 3x what they sent, and
// lets go of its half-open state afterwards.

#include "background_process.hpp"
#include "plugin_harness.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <map>
#include <sstream>

namespace warren::test {
namespace {

using sdk::testing::TableBuilder;

/// Wakes the loop every 20 ms, so run_until sees conditions that change
/// outside it (a process exiting) even when no packet arrives.
class Ticker {
 public:
  explicit Ticker(boost::asio::io_context& io) : timer_(io) { arm(); }
  ~Ticker() { timer_.cancel(); }

 private:
  void arm() {
    timer_.expires_after(20ms);
    timer_.async_wait([this](sdk::error_code ec) {
      if (!ec) arm();
    });
  }
  boost::asio::steady_timer timer_;
};

struct Flood {
  Flood(std::uint16_t port, int rate, const std::string& duration)
      : stderr_file(std::filesystem::temp_directory_path() / ("warren-flood-" + std::to_string(::getpid()) + ".err")),
        process({WARREN_FLOOD_TOOL, "--target", "127.0.0.1:" + std::to_string(port), "--rate", std::to_string(rate),
                 "--duration", duration, "--sources", "1024"},
                stderr_file) {}
  ~Flood() { std::filesystem::remove(stderr_file); }

  /// The tool's summary (`key value` lines) once it exited.
  std::map<std::string, std::uint64_t> summary() {
    std::map<std::string, std::uint64_t> out;
    process.wait_for_line(std::regex("^rate "), 2s);
    for (const auto& line : process.lines()) {
      std::istringstream in(line);
      std::string key;
      double value = 0;
      if (in >> key >> value) out[key] = static_cast<std::uint64_t>(value);
    }
    return out;
  }

  std::filesystem::path stderr_file;
  BackgroundProcess process;
};

std::uint64_t stat(const sdk::Listener& listener, const std::string& name, const std::string& label = "") {
  std::uint64_t total = 0;
  for (const auto& m : listener.stats()) {
    if (m.name != name) continue;
    bool match = label.empty();
    for (const auto& [k, v] : m.labels) match = match || v == label;
    if (match) total += m.value;
  }
  return total;
}

TEST_CASE("quic: a flood of spoofed Initials does not lock a new connector out", "[quic][flood]") {
  Harness h({"quic", true});
  auto port = h.listen();
  Ticker ticker(h.io);
  Flood flood(port, 5000, "6s");
  // Let the flood fill whatever it can fill before the connector comes.
  h.run_for(1500ms);
  REQUIRE(flood.process.running());

  sdk::ConnectionPtr server;
  h.listener->async_accept([&](sdk::error_code ec, sdk::ConnectionPtr c) {
    if (!ec) server = std::move(c);
  });
  bool dialled = false;
  sdk::error_code dial_error;
  sdk::ConnectionPtr client;
  auto started = std::chrono::steady_clock::now();
  h.connector->async_dial(h.dial_options(port), [&](sdk::error_code ec, sdk::ConnectionPtr c) {
    dial_error = ec;
    client = std::move(c);
    dialled = true;
  });
  h.run_until([&] { return dialled && (dial_error || server); }, 8s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  INFO("dial took " << took.count() << " ms: " << dial_error.message());
  CHECK(flood.process.running());  // the connector got in while the flood went on
  REQUIRE_FALSE(dial_error);
  REQUIRE(server);
  CHECK(took < 2s);

  REQUIRE(h.run_until([&] { return !flood.process.running(); }, 15s));
  auto sent = flood.summary();
  INFO("flood: " << sent["sent_packets"] << " Initials (" << sent["sent_bytes"] << " B), " << sent["received_packets"]
                 << " replies (" << sent["received_bytes"] << " B), " << sent["retry_packets"] << " of them Retry");
  REQUIRE(sent["sent_packets"] > 10000);
  // From outside: at most one Retry per Initial, and what reached the
  // spoofed sources (never validated) within 3x what they sent.
  CHECK(sent["retry_packets"] <= sent["sent_packets"]);
  CHECK(sent["received_bytes"] <= 3 * sent["sent_bytes"]);
  CHECK(sent["retry_packets"] > 0);
  // From inside, as /metrics shows it.
  const auto& listener = *h.listener;
  auto initials = stat(listener, "quic_initials_total");
  CHECK(stat(listener, "quic_initials_total", "retry") <= initials);
  CHECK(stat(listener, "quic_initials_total", "retry") > 0);
  auto unvalidated_sent = stat(listener, "quic_unvalidated_bytes_total", "sent");
  auto unvalidated_received = stat(listener, "quic_unvalidated_bytes_total", "received");
  INFO("listener: " << initials << " Initials judged; unvalidated bytes sent " << unvalidated_sent << ", received "
                    << unvalidated_received);
  CHECK(unvalidated_sent <= 3 * unvalidated_received);
  CHECK(stat(listener, "quic_handshakes_pending_unvalidated") <= 64);
  // Half-open state goes when the handshake timeout (5 s) has passed.
  CHECK(h.run_until([&] { return stat(listener, "quic_handshakes_pending") == 0; }, 8s));
  CHECK(stat(listener, "quic_handshake_sources") == 0);
}

TEST_CASE("quic: retry = always makes every connector prove its address, and it still connects", "[quic][flood]") {
  Harness h({"quic", true}, TableBuilder("transport").set("retry", "always").table());
  h.listen();
  auto [client, server] = h.connect();
  const auto& listener = *h.listener;
  CHECK(stat(listener, "quic_initials_total", "retry") == 1);
  CHECK(stat(listener, "quic_initials_total", "accept") == 1);
  CHECK(stat(listener, "quic_handshakes_total", "completed") == 1);
  CHECK(stat(listener, "quic_unvalidated_bytes_total", "sent") < 300);  // a Retry, not a handshake flight
}

TEST_CASE("quic: retry = never still keeps what unvalidated sources get within 3x", "[quic][flood]") {
  Harness h({"quic", true}, TableBuilder("transport").set("retry", "never").set("max_handshakes", 200).table());
  auto options = h.listen_options();
  options.handshake_timeout = 1s;
  auto port = h.listen(options);
  Ticker ticker(h.io);
  Flood flood(port, 1000, "1s");
  REQUIRE(h.run_until([&] { return !flood.process.running(); }, 10s));
  auto sent = flood.summary();
  INFO("flood: " << sent["sent_packets"] << " Initials (" << sent["sent_bytes"] << " B), " << sent["received_bytes"]
                 << " B back");
  CHECK(sent["retry_packets"] == 0);
  CHECK(sent["received_bytes"] > 0);  // handshakes did start
  CHECK(sent["received_bytes"] <= 3 * sent["sent_bytes"]);
  const auto& listener = *h.listener;
  CHECK(stat(listener, "quic_initials_total", "global_cap") > 0);
  CHECK(stat(listener, "quic_unvalidated_bytes_total", "sent") <=
        3 * stat(listener, "quic_unvalidated_bytes_total", "received"));
  CHECK(h.run_until([&] { return stat(listener, "quic_handshakes_pending") == 0; }, 5s));
}

}  // namespace
}  // namespace warren::test
