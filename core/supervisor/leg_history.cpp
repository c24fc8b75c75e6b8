#include "core/supervisor/leg_history.hpp"

namespace warren::core::supervisor {

std::string_view name(LegEvent event) {
  switch (event) {
    case LegEvent::dialing: return "dialing";
    case LegEvent::dial_failed: return "dial_failed";
    case LegEvent::connected: return "connected";
    case LegEvent::registered: return "registered";
    case LegEvent::rejected: return "rejected";
    case LegEvent::lost: return "lost";
    case LegEvent::retry_scheduled: return "retry_scheduled";
    case LegEvent::moved_address: return "moved_address";
    case LegEvent::moved_transport: return "moved_transport";
    case LegEvent::unregistering: return "unregistering";
    case LegEvent::unregistered: return "unregistered";
    case LegEvent::probing: return "probing";
    case LegEvent::probe_failed: return "probe_failed";
    case LegEvent::returned_transport: return "returned_transport";
    case LegEvent::retired: return "retired";
  }
  return "unknown";
}

std::string_view name(LegPhase phase) {
  switch (phase) {
    case LegPhase::idle: return "idle";
    case LegPhase::scheduled: return "scheduled";
    case LegPhase::awaiting_addresses: return "awaiting_addresses";
    case LegPhase::dialing: return "dialing";
    case LegPhase::registering: return "registering";
    case LegPhase::registered: return "registered";
    case LegPhase::unregistering: return "unregistering";
    case LegPhase::closed: return "closed";
  }
  return "unknown";
}

void LegHistory::record(LegHistoryEntry entry) {
  switch (entry.event) {
    case LegEvent::dialing:
      ++totals_.dials;
      last_address_ = entry.address;
      last_transport_ = entry.transport;
      break;
    case LegEvent::registered: ++totals_.registrations; break;
    case LegEvent::moved_address: ++totals_.address_moves; break;
    case LegEvent::moved_transport:
    case LegEvent::returned_transport: ++totals_.transport_moves; break;
    case LegEvent::lost:
      ++totals_.losses[sdk::name(entry.error)];
      last_error_ = entry.error;
      break;
    case LegEvent::dial_failed:
    case LegEvent::rejected:
      if (entry.event == LegEvent::rejected) ++totals_.rejections[sdk::name(entry.error)];
      ++totals_.attempt_failures[sdk::name(entry.error)];
      last_error_ = entry.error;
      break;
    default: break;
  }
  entries_.push_back(std::move(entry));
  if (entries_.size() > kCapacity) entries_.pop_front();
}

std::string to_string(const LegHistoryEntry& e) {
  std::string out(name(e.event));
  if (e.event == LegEvent::moved_address && e.from) out += " " + e.from->to_string() + " ->";
  if (e.address) out += " " + e.address->to_string();
  if (e.event == LegEvent::moved_transport || e.event == LegEvent::returned_transport) out += " transport=" + std::to_string(e.from_transport) + " ->";
  out += " transport=" + std::to_string(e.transport);
  if (e.event == LegEvent::retry_scheduled) out += " in " + sdk::format_duration(e.delay);
  if (e.error) out += " " + sdk::name(e.error);
  return out;
}

}  // namespace warren::core::supervisor
