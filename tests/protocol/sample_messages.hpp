#pragma once
// One of every message, each field away from its default, so a round trip
// that dropped or swapped a field would show.

#include "core/protocol/messages.hpp"

#include <vector>

namespace warren::core::protocol::test {

inline std::vector<ControlMessage> every_control_message() {
  using namespace std::chrono_literals;
  return {
      RegisterConnection{kProtocolVersion, "web", "s3cret", 3, true, "warren 0.1.0", 20080, false, "3f9a0c2e71b4d856",
                         true},
      RegisterConnection{7, "", "", 0, false, "warren 9", 0, true},
      RegisterConnection{kProtocolVersion, "q-0123abcd", "assigned-secret", 1, true, "warren 0.1.0", 0, true,
                         "web-1.eu_west"},
      Registered{"edge-a", "fra1", "203.0.113.7:20080", 500ms, "web", "", true},
      Registered{"edge-b", "", "[2001:db8::1]:443", 0ms, "quick-4f2a", "assigned-secret"},
      Rejected{sdk::errc::auth_failed, "bad token for tunnel web", true, 0ms},
      Rejected{sdk::errc::rate_limited, "slow down", false, 1500ms},
      Heartbeat{42, 1'234'567'890'123},
      Heartbeat{~std::uint64_t{0}, -5},
      HeartbeatAck{42, 1'234'567'890'123},
      Unregister{30s},
      UnregisterAck{0},
      UnregisterAck{~std::uint64_t{0} - 6},
  };
}

/// Every reply a connector may send: accepted, and each refusal.
inline std::vector<StreamReply> every_stream_reply() {
  using sdk::errc;
  return {StreamReply{},
          StreamReply{errc::backend_refused},
          StreamReply{errc::backend_timeout},
          StreamReply{errc::remote_not_allowed},
          StreamReply{errc::shutting_down},
          StreamReply{errc::protocol_error}};
}

inline StreamHeader sample_stream_header() { return {"198.51.100.4:51234", "tcp:20080", StreamKind::tcp}; }

}  // namespace warren::core::protocol::test
