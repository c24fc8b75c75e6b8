// PeerReachability in virtual time: ICMP reports convict a peer only with
// corroboration, so forged reports cannot cut a live connection.

#include "peer_reachability.hpp"

#include <catch2/catch.hpp>

using warren::quic::PeerReachability;

namespace {

constexpr ngtcp2_duration ms = 1'000'000;
constexpr ngtcp2_duration pto = 30 * ms;  // a loopback PTO: 3 PTOs are below the floor

}  // namespace

TEST_CASE("reachability: reports, a send and the quiet period convict a dead peer", "[quic][reachability]") {
  PeerReachability r;
  CHECK(PeerReachability::quiet(pto) == PeerReachability::min_quiet);
  CHECK(PeerReachability::quiet(100 * ms) == 300 * ms);
  r.on_report();                 // t = 0: our heartbeat met a closed port
  r.on_sent(10 * ms);            // the PTO probe
  r.on_report();                 // ... met it too
  CHECK(r.deadline(pto) == 10 * ms + PeerReachability::min_quiet);
  CHECK_FALSE(r.unreachable(10 * ms + PeerReachability::min_quiet - 1, pto, true));
  CHECK(r.unreachable(10 * ms + PeerReachability::min_quiet, pto, true));
}

TEST_CASE("reachability: any datagram from the peer clears the evidence", "[quic][reachability]") {
  PeerReachability r;
  r.on_report();
  r.on_sent(0);
  r.on_report();
  r.on_received();  // a live peer answered (the reports were forged or stale)
  CHECK_FALSE(r.deadline(pto));
  CHECK_FALSE(r.unreachable(10'000 * ms, pto, true));
  CHECK(r.reports() == 0);
}

TEST_CASE("reachability: one report is never enough once established, and ends a dial", "[quic][reachability]") {
  PeerReachability r;
  CHECK_FALSE(r.unreachable(0, pto, false));
  r.on_report();
  CHECK(r.unreachable(0, pto, false));
  r.on_sent(0);
  CHECK_FALSE(r.unreachable(10'000 * ms, pto, true));
}

TEST_CASE("reachability: reports while we send nothing convict nobody", "[quic][reachability]") {
  // Forged reports against an idle connection: a live peer has nothing to
  // answer, so silence proves nothing until we send it something.
  PeerReachability r;
  r.on_sent(0);  // before the reports: not a probe
  r.on_report();
  r.on_report();
  r.on_report();
  CHECK_FALSE(r.deadline(pto));
  CHECK_FALSE(r.unreachable(10'000 * ms, pto, true));
  r.on_sent(5'000 * ms);  // the next heartbeat is the probe
  CHECK_FALSE(r.unreachable(5'000 * ms + PeerReachability::min_quiet - 1, pto, true));
  CHECK(r.unreachable(5'000 * ms + PeerReachability::min_quiet, pto, true));
}

TEST_CASE("reachability: the quiet period follows the first probe, not later sends", "[quic][reachability]") {
  PeerReachability r;
  r.on_report();
  r.on_sent(100 * ms);
  r.on_sent(150 * ms);
  r.on_sent(250 * ms);
  r.on_report();
  CHECK(r.deadline(pto) == 100 * ms + PeerReachability::min_quiet);
}
