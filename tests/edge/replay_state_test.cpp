// ReplayState in virtual time: what is kept before the reply, when a dead
// stream is replayed on another leg, and when the edge gives up.

#include "core/edge/replay_state.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace warren::core;
using namespace std::chrono_literals;
using Phase = ReplayState::Phase;
using Decision = ReplayState::Decision;

namespace {

const warren::sdk::TimePoint t0{std::chrono::seconds(1000)};

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string kept_text(const ReplayState& s) { return std::string(s.kept().begin(), s.kept().end()); }

}  // namespace

TEST_CASE("nothing is sent before the first stream is open", "[edge][replay]") {
  ReplayState s({}, t0);
  CHECK(s.phase() == Phase::dispatching);
  CHECK(s.room(100) == 0);
  s.dispatched(7, true);
  CHECK(s.phase() == Phase::waiting);
  CHECK(s.room(100) == 100);
  CHECK(s.leg() == 7);
  CHECK(s.attempts() == 1);
}

TEST_CASE("bytes sent before the reply are kept up to the limit, then the client waits", "[edge][replay]") {
  ReplayState s({10, 3, 10s}, t0);
  s.dispatched(1, true);
  CHECK(s.room(6) == 6);
  s.sent(bytes_of("GET /x"));
  CHECK(s.room(6) == 4);
  s.sent(bytes_of(" HTT"));
  CHECK(s.room(6) == 0);
  CHECK(kept_text(s) == "GET /x HTT");
  s.accepted();
  CHECK(s.phase() == Phase::accepted);
  CHECK(s.kept().empty());
  CHECK(s.room(1 << 20) == std::size_t{1} << 20);
  s.sent(bytes_of("more"));  // after the reply nothing is kept
  CHECK(s.kept().empty());
}

TEST_CASE("a stream that dies unanswered is replayed on other legs until the attempts run out", "[edge][replay]") {
  ReplayState s({64 * 1024, 3, 10s}, t0);
  s.dispatched(1, true);
  s.sent(bytes_of("hello"));
  REQUIRE(s.failed(t0 + 400ms) == Decision::replay);
  CHECK(s.phase() == Phase::dispatching);
  CHECK(s.room(5) == 0);  // held until the next stream has the kept bytes
  CHECK(kept_text(s) == "hello");
  s.dispatched(2, true);
  CHECK(s.tried() == std::set<LegId>{1, 2});
  s.sent(bytes_of(" world"));
  CHECK(kept_text(s) == "hello world");
  REQUIRE(s.failed(t0 + 500ms) == Decision::replay);
  s.dispatched(3, true);
  CHECK(s.attempts() == 3);
  REQUIRE(s.failed(t0 + 600ms) == Decision::give_up);
  CHECK(s.phase() == Phase::given_up);
  CHECK(s.kept().empty());
}

TEST_CASE("a failed open counts as an attempt", "[edge][replay]") {
  ReplayState s({64 * 1024, 3, 10s}, t0);
  REQUIRE(s.open_failed(1, t0) == Decision::replay);
  s.dispatched(2, true);
  REQUIRE(s.failed(t0 + 1s) == Decision::replay);
  s.dispatched(3, true);
  CHECK(s.attempts() == 3);
  CHECK(s.tried() == std::set<LegId>{1, 2, 3});
  CHECK(s.failed(t0 + 2s) == Decision::give_up);
}

TEST_CASE("no replay after the deadline", "[edge][replay]") {
  ReplayState s({64 * 1024, 3, 10s}, t0);
  s.dispatched(1, true);
  CHECK(s.failed(t0 + 10s) == Decision::give_up);
}

TEST_CASE("a stream failing after its reply is not replayed", "[edge][replay]") {
  ReplayState s({}, t0);
  s.dispatched(1, true);
  s.sent(bytes_of("x"));
  s.accepted();
  CHECK(s.failed(t0 + 1ms) == Decision::give_up);
}

TEST_CASE("a leg without replies takes the kept bytes and is accepted at once", "[edge][replay]") {
  ReplayState s({}, t0);
  s.dispatched(1, true);
  s.sent(bytes_of("abc"));
  REQUIRE(s.failed(t0 + 1ms) == Decision::replay);
  s.dispatched(2, false);
  CHECK(s.phase() == Phase::accepted);
  CHECK(kept_text(s) == "abc");  // still to be written on leg 2
  s.accepted();                  // written: dropped
  CHECK(s.kept().empty());
  CHECK(s.failed(t0 + 2ms) == Decision::give_up);
}

TEST_CASE("no leg left ends it", "[edge][replay]") {
  ReplayState s({}, t0);
  s.dispatched(1, true);
  REQUIRE(s.failed(t0) == Decision::replay);
  s.no_leg();
  CHECK(s.phase() == Phase::given_up);
  CHECK(s.room(1) == 0);
}
