#pragma once
// A seeded world for the FlowTable: random clients and datagrams, a backend
// that opens after random delays or fails, a service that answers flows alive
// and dead, peer closes, late timers, clock jumps and skew, shutdowns. It
// keeps its own model of every flow from the actions the table emits and
// checks the invariants after each step (flow_simulation.cpp lists them).

#include "core/udp/flow_table.hpp"

#include <warren/sdk/random.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace warren::core::udp::test {

struct SimTotals {
  std::uint64_t runs = 0;
  std::uint64_t steps = 0;
  std::uint64_t flows = 0;
  std::uint64_t requests_forwarded = 0;
  std::uint64_t responses_forwarded = 0;
  std::map<std::string, std::uint64_t> closes;  ///< by reason name
  std::map<std::string, std::uint64_t> drops;   ///< by reason name
};

class FlowSimulation {
 public:
  FlowSimulation(std::uint64_t seed, SimTotals& totals);
  /// Runs `steps` steps, then close_all; the first broken invariant, or nullopt.
  std::optional<std::string> run(std::size_t steps);

 private:
  enum class Event { none, request, response, opened, open_failed, refused, peer_closed, timeout, close_all };
  struct ModelFlow {
    FlowKey key;
    std::uint64_t peer_flow = 0;
    sdk::TimePoint began{};
    sdk::TimePoint last{};  ///< the last datagram the table counts as activity
    bool opened = false;    ///< the shell reported it open (or no open step)
    bool closed = false;
    std::uint64_t requests = 0;
    std::uint64_t responses = 0;
    std::optional<std::uint64_t> held;  ///< the serial it buffers while opening
    std::size_t held_bytes = 0;
  };
  struct PendingOpen {
    FlowId flow;
    sdk::TimePoint due;
    bool succeeds;
  };

  std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : random_.next_u64() % bound; }
  bool chance(double p) { return random_.uniform01() < p; }
  /// The time handed to the table: now, or now and then a little earlier
  /// (the table takes the latest it saw, and so does the model: table_now_).
  sdk::TimePoint skewed() {
    const sdk::TimePoint given = chance(0.05) ? now_ - std::chrono::milliseconds(below(2000)) : now_;
    table_now_ = std::max(table_now_, given);
    return given;
  }
  sdk::Datagram datagram(std::uint64_t serial);
  sdk::TimePoint deadline(const ModelFlow& flow) const;
  std::size_t live_count() const;
  std::size_t live_in_source(const FlowKey& key) const;

  void step();
  void send_request();
  void send_response();
  void answer_opens();
  void pick_live(Event event);
  /// Applies the table's actions for one event to the model, checking each.
  void absorb(Event event, std::optional<std::uint64_t> serial, std::size_t bytes, FlowId target);
  void absorb_request(Event event, const ForwardRequest& forward, std::optional<std::uint64_t> serial, FlowId target);
  void absorb_close(Event event, const CloseFlow& close, FlowId target);
  void absorb_drop(Event event, const DropDatagram& drop, std::size_t bytes, FlowId target);
  void finish();
  void check_after(Event event);
  void fail(const std::string& what);

  std::uint64_t seed_;
  SimTotals& totals_;
  sdk::SeededRandom random_;
  FlowSettings settings_;
  std::optional<FlowTable> table_;
  sdk::TimePoint now_;
  sdk::TimePoint table_now_{};
  std::vector<FlowKey> keys_;
  std::map<std::size_t, std::uint64_t> peer_of_key_;  ///< the edge's current flow id per key (connector runs)
  std::map<FlowId, ModelFlow> flows_;
  std::vector<PendingOpen> opens_;
  std::uint64_t next_serial_ = 1;
  // The event being absorbed.
  FlowKey request_key_;
  std::uint64_t request_peer_ = 0;
  std::size_t accounted_ = 0;  ///< times this event's datagram was forwarded or dropped
  std::map<std::string, std::uint64_t> drops_;  ///< this run's, by reason name
  std::optional<std::string> violation_;
  std::string log_;  ///< the last steps, for a failure's message
};

}  // namespace warren::core::udp::test
