// Thousands of seeded schedules of one EdgeLegEngine in virtual time:
// registration or refusal, heartbeats, Unregister, stream opens and closes,
// early and late timer wake-ups, and the connection dying under it, in
// random order and at random times. A model of the rules (kept apart from
// the engine's own state) checks after every step:
//  - the leg ends once, with a reason whose deadline had passed: never
//    before the registration deadline, the heartbeat deadline, the refusal
//    linger or the drain's grace + slack (so never while a stream is open
//    unless one of those passed);
//  - every leg ends: once its connector falls silent, within the longest of
//    those deadlines;
//  - the UnregisterAck goes out exactly once to a protocol-2 connector that
//    unregistered while registered (unless the leg ended first), only when
//    no stream is open or opening, with the count of streams whose header
//    was written; never to a protocol-1 connector;
//  - only a registered leg takes streams; an ended leg has no timeout.
// A failure prints the seed and the last steps; replay one with
//   WARREN_SIM_FIRST_SEED=<seed> WARREN_SIM_SEEDS=1 edge_test "[edge-leg-simulation]"

#include "core/edge/edge_leg_engine.hpp"
#include "core/protocol/messages.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>

using namespace warren;
using namespace warren::core;
using namespace std::chrono_literals;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

struct Stats {
  std::uint64_t runs = 0, steps = 0, acks = 0, streams = 0;
  std::uint64_t ends[5] = {};  // handshake, heartbeat, drain over, refusal, from outside
};

long ms(sdk::Duration d) { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

class LegWorld {
 public:
  LegWorld(std::uint64_t seed, Stats& stats) : rng_(seed), stats_(stats) {
    timings_.handshake_timeout = pick_ms(200, 5000);
    timings_.heartbeat_interval = pick_ms(50, 2000);
    timings_.refusal_linger = pick_ms(0, 3000);
    timings_.drain_slack = pick_ms(0, 3000);
    timings_.max_grace = pick_ms(0, 40000);
    engine_.emplace(timings_, now_);
    registration_deadline_ = now_ + timings_.handshake_timeout;
    peer_version_ = pick(0, 1) ? protocol::kUnregisterAckVersion : protocol::kOldestProtocolVersion;
    // Most connectors register; some are refused, some never say a word.
    auto plan = pick(0, 9);
    plan_ = plan == 0 ? Plan::silent : plan == 1 ? Plan::refused : Plan::registers;
  }

  /// Runs `events` random inputs, then lets the connector fall silent.
  std::optional<std::string> run(std::size_t events) {
    ++stats_.runs;
    for (std::size_t i = 0; i < events && !ended_; ++i) {
      step();
      ++stats_.steps;
      if (failure_) return report();
    }
    // Silence: only the timer and the streams' ends remain. The leg must end
    // within the longest deadline there is, whatever state it is in.
    auto bound = now_ + timings_.handshake_timeout + timings_.refusal_linger + timings_.max_grace +
                 timings_.drain_slack + timings_.heartbeat_timeout();
    for (int silent_steps = 0; !ended_ && !failure_; ++silent_steps) {
      if (silent_steps > 100000) fail("the silent phase does not end");
      if (open_ > 0 && pick(0, 3) == 0)
        close_stream();
      else if (in_flight_ > 0 && pick(0, 3) == 0)
        finish_open();
      else if (!fire_timer())
        fail("not ended, yet no timeout is armed");
      if (now_ > bound) fail("still not ended " + std::to_string(ms(now_ - bound)) + " ms past every deadline");
    }
    if (failure_) return report();
    return std::nullopt;
  }

 private:
  sdk::Duration pick_ms(long lo, long hi) { return std::chrono::milliseconds(pick(lo, hi)); }
  long pick(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng_); }

  void step() {
    if (!registered_ && !refused_ && plan_ != Plan::silent && pick(0, 1))
      return plan_ == Plan::refused ? refused() : registered();
    switch (pick(0, 11)) {
      case 0: advance(pick_ms(0, 50)); break;
      case 1: advance(pick_ms(0, ms(timings_.heartbeat_timeout()) / 4)); break;
      case 2:  // time runs on to the armed timer: rarely, or few legs would live long
        if (pick(0, 15) == 0) fire_timer();
        break;
      case 3:  // a wake-up at any time (a re-armed timer firing late or early) must not end the leg early
        note("spurious timeout");
        engine_->handle_timeout(now_);
        drain();
        break;
      case 4:  // a late or surprise answer to the registration
        if (!registered_ && !refused_ && pick(0, 3) == 0) (pick(0, 4) ? registered() : refused());
        break;
      case 5:
      case 6: heartbeat(); break;
      case 7:
        if (pick(0, 2) == 0) unregister();
        break;
      case 8: open_stream(); break;
      case 9: finish_open(); break;
      case 10: close_stream(); break;
      case 11:
        if (pick(0, 20) == 0) {
          note("connection lost");
          engine_->handle_ended();
          ended_ = true;
          ++stats_.ends[4];
          check_quiet();
        }
        break;
    }
  }

  void advance(sdk::Duration d) { now_ += d; }
  bool fire_timer() {
    auto next = engine_->next_timeout();
    if (!next) return false;
    now_ = std::max(now_, *next);
    note("timer at " + std::to_string(ms(now_.time_since_epoch())) + " ms");
    engine_->handle_timeout(now_);
    drain();
    // The shell re-arms its timer at next_timeout(): one that stays due
    // without the leg ending would spin the event loop.
    if (auto again = engine_->next_timeout(); !ended_ && again && *again <= now_)
      fail("the timer fired at its deadline, and the engine neither ended the leg nor moved the deadline");
    return true;
  }
  void registered() {
    note("registered");
    engine_->handle_registered(now_, peer_version_);
    registered_ = true;
    heard_ = now_;
    drain();
  }
  void refused() {
    note("refused");
    engine_->handle_refused(now_);
    refused_ = true;
    linger_deadline_ = now_ + timings_.refusal_linger;
    drain();
  }
  void heartbeat() {
    if (!registered_) return;
    note("heartbeat");
    engine_->handle_heartbeat(now_);
    if (!ended_) heard_ = now_;
    drain();
  }
  void unregister() {
    if (!registered_) return;
    auto grace = pick_ms(0, pick(0, 1) ? 500 : 60000);
    note("unregister, grace " + std::to_string(ms(grace)) + " ms");
    bool first = !unregistered_ && !ended_;
    engine_->handle_unregister(now_, grace);
    if (first) {
      unregistered_ = true;
      drain_deadline_ = now_ + std::min(grace, timings_.max_grace) + timings_.drain_slack;
      heard_ = now_;
      ack_owed_ = peer_version_ >= protocol::kUnregisterAckVersion;
    }
    drain();
  }
  void open_stream() {
    // The shell asks accepts_streams() first; only a registered leg says yes.
    bool accepts = engine_->accepts_streams();
    if (accepts != (registered_ && !unregistered_ && !ended_)) fail("accepts_streams() disagrees with the phase");
    if (!accepts) return;
    note("open started");
    engine_->handle_stream_open_started();
    ++in_flight_;
    drain();
  }
  void finish_open() {
    if (in_flight_ == 0) return;
    bool written = pick(0, 4) != 0;
    note(written ? "open finished" : "open failed");
    --in_flight_;
    if (written) {
      ++open_;
      ++opened_;
      ++stats_.streams;
    }
    engine_->handle_stream_open_finished(written);
    drain();
  }
  void close_stream() {
    if (open_ == 0) return;
    note("stream closed");
    --open_;
    engine_->handle_stream_closed();
    drain();
  }

  void drain() {
    while (auto action = engine_->poll_action()) {
      if (auto* ack = std::get_if<SendUnregisterAck>(&*action))
        on_ack(*ack);
      else
        on_end(std::get<EndLeg>(*action));
    }
    if (ended_) return check_quiet();
    if (!engine_->next_timeout()) fail("a live leg has no timeout armed");
    // Exactly once: as soon as nothing is open or opening, not later.
    if (ack_owed_ && open_ == 0 && in_flight_ == 0) fail("the ack is owed and everything has settled, yet none came");
  }

  void on_ack(const SendUnregisterAck& ack) {
    note("ack " + std::to_string(ack.streams_opened));
    if (ended_) return fail("an ack after the leg ended");
    if (!ack_owed_) return fail(acks_ ? "a second ack" : "an ack nobody asked for");
    if (open_ > 0 || in_flight_ > 0) return fail("an ack while streams are open or opening");
    if (ack.streams_opened != opened_)
      return fail("the ack counts " + std::to_string(ack.streams_opened) + " streams, not " + std::to_string(opened_));
    ack_owed_ = false;
    ++acks_;
    ++stats_.acks;
  }

  void on_end(const EndLeg& end) {
    note("end: " + std::string(sdk::name(end.reason)));
    if (ended_) return fail("a second end");
    ended_ = true;
    auto heartbeat_deadline = heard_ + timings_.heartbeat_timeout();
    switch (end.reason) {
      case sdk::errc::handshake_timeout:
        ++stats_.ends[0];
        if (registered_ || refused_) return fail("a registration timeout after the registration");
        if (now_ < registration_deadline_) return fail("a registration timeout before its deadline");
        return;
      case sdk::errc::heartbeat_timeout:
        ++stats_.ends[1];
        if (!registered_) return fail("a heartbeat timeout before registering");
        if (unregistered_ && peer_version_ < protocol::kUnregisterAckVersion)
          return fail("a heartbeat timeout for a draining protocol-1 connector, which stops heartbeating");
        if (now_ < heartbeat_deadline) return fail("a heartbeat timeout before the deadline");
        return;
      case sdk::errc::shutting_down:
        if (refused_) {
          ++stats_.ends[3];
          if (now_ < linger_deadline_) return fail("a refused leg closed before its linger");
          return;
        }
        ++stats_.ends[2];
        if (!unregistered_) return fail("a drain end without an Unregister");
        if (now_ < drain_deadline_) return fail("a draining leg closed before its grace and slack");
        return;
      default: return fail("an end for " + std::string(sdk::name(end.reason)));
    }
  }

  void check_quiet() {
    if (engine_->next_timeout()) fail("an ended leg still has a timeout");
    if (engine_->accepts_streams()) fail("an ended leg takes streams");
    if (engine_->phase() != EdgeLegPhase::ended) fail("ended, but the phase says otherwise");
  }

  void note(std::string what) {
    log_.push_back("t=" + std::to_string(ms(now_.time_since_epoch())) + " ms: " + std::move(what));
    if (log_.size() > 25) log_.pop_front();
  }
  void fail(std::string what) {
    if (!failure_) failure_ = std::move(what);
  }
  std::string report() const {
    std::ostringstream out;
    out << *failure_ << "\n  timings: handshake " << ms(timings_.handshake_timeout) << " ms, heartbeat interval "
        << ms(timings_.heartbeat_interval) << " ms, linger " << ms(timings_.refusal_linger) << " ms, slack "
        << ms(timings_.drain_slack) << " ms, max grace " << ms(timings_.max_grace) << " ms; peer protocol "
        << peer_version_ << "\n  last steps:\n";
    for (const auto& line : log_) out << "    " << line << "\n";
    return out.str();
  }

  enum class Plan { registers, refused, silent };
  std::mt19937_64 rng_;
  Plan plan_ = Plan::registers;
  Stats& stats_;
  EdgeLegTimings timings_;
  sdk::TimePoint now_{std::chrono::hours(1)};
  std::optional<EdgeLegEngine> engine_;
  std::uint32_t peer_version_ = 0;
  bool registered_ = false, refused_ = false, unregistered_ = false, ended_ = false, ack_owed_ = false;
  sdk::TimePoint registration_deadline_{}, linger_deadline_{}, drain_deadline_{}, heard_{};
  std::uint64_t in_flight_ = 0, open_ = 0, opened_ = 0, acks_ = 0;
  std::deque<std::string> log_;
  std::optional<std::string> failure_;
};

}  // namespace

TEST_CASE("seeded simulation: the edge leg engine keeps its invariants under random schedules",
          "[edge-leg-simulation]") {
  const std::uint64_t first = env_or("WARREN_SIM_FIRST_SEED", 1);
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 10000);
  const std::size_t events = env_or("WARREN_SIM_EVENTS", 200);
  Stats stats;
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    LegWorld world(seed, stats);
    if (auto violation = world.run(events)) FAIL("seed " << seed << ": " << *violation);
  }
  std::cout << "edge leg simulation: " << stats.runs << " seeds, " << stats.steps << " steps, " << stats.streams
            << " streams, " << stats.acks << " acks; ends: registration timeout " << stats.ends[0]
            << ", heartbeat timeout " << stats.ends[1] << ", drain over " << stats.ends[2] << ", refusal "
            << stats.ends[3] << ", connection lost " << stats.ends[4] << "\n";
  if (seeds >= 1000) {
    // Every way to end must be reached, or the checks saw too little.
    for (auto n : stats.ends) CHECK(n > seeds / 100);
    CHECK(stats.acks > seeds / 100);
  }
}
