#include "core/supervisor/supervisor_action.hpp"

namespace warren::core::supervisor {
namespace {

std::string why(const sdk::error_code& ec) { return ec ? ec.message() : std::string("none"); }

struct Describe {
  std::string operator()(const Resolve&) const { return "Resolve"; }
  std::string operator()(const Dial& a) const {
    return std::string(a.probe ? "Probe" : "Dial") + " leg=" + std::to_string(a.leg) + " " + a.address.to_string() +
           " transport=" + std::to_string(a.transport);
  }
  std::string operator()(const Register& a) const {
    return "Register leg=" + std::to_string(a.leg) + " replace=" + (a.replace_existing ? "yes" : "no");
  }
  std::string operator()(const SendHeartbeat& a) const {
    return "SendHeartbeat leg=" + std::to_string(a.leg) + (a.which == LegConnection::retiring ? " retiring" : "") +
           " seq=" + std::to_string(a.sequence);
  }
  std::string operator()(const CloseLeg& a) const {
    const char* which = a.which == LegConnection::probe ? " probe" : a.which == LegConnection::retiring ? " retiring" : "";
    return "CloseLeg leg=" + std::to_string(a.leg) + which + " (" + why(a.reason) + ")";
  }
  std::string operator()(const RetireConnection& a) const {
    return "Retire leg=" + std::to_string(a.leg) + " transport=" + std::to_string(a.from_transport) +
           (a.promote_probe ? " -> transport=" + std::to_string(a.to_transport) : std::string(" (probe failed)"));
  }
  std::string operator()(const Unregister& a) const {
    return "Unregister leg=" + std::to_string(a.leg) + " grace=" + sdk::format_duration(a.grace_period);
  }
  std::string operator()(const StopAcceptingStreams&) const { return "StopAcceptingStreams"; }
  std::string operator()(const RetryScheduled& a) const {
    return "RetryScheduled " + (a.leg ? "leg=" + std::to_string(*a.leg) : std::string("resolve")) + " in " +
           sdk::format_duration(a.delay) + " (" + why(a.reason) + ")";
  }
  std::string operator()(const Exit& a) const {
    std::string out = "Exit " + std::to_string(a.code) + " (" + why(a.reason) + ")";
    if (a.grace_expired) out += " grace expired";
    if (a.streams_cut) out += " cut=" + std::to_string(a.streams_cut);
    return out;
  }
};

}  // namespace

std::string to_string(const SupervisorAction& action) { return std::visit(Describe{}, action); }

}  // namespace warren::core::supervisor
