// FlowSimulation: the world's steps and the invariants it checks.
//
// After every event, for the actions it produced, in order:
// - a flow begins once (OpenFlow, or its first ForwardRequest without the
//   open step) and ends once (CloseFlow); no action names it afterwards
//   (unknown_flow drops name what the shell gave, and are checked apart);
// - nothing is forwarded for a flow before the shell reported it open, nor
//   at or after its idle or lifetime deadline;
// - a flow never carries more than max_requests requests or max_responses
//   responses; the table never holds more than max_flows flows, nor a source
//   more than max_flows_per_source; a drop's reason is true of the table then;
// - each close's reason is true: the count reached, the deadline passed, the
//   shell reported the refusal or the peer's close, close_all;
// - every datagram the shell gives is forwarded or dropped exactly once
//   (a buffered one: when its flow opens, or dropped when the flow ends);
// - the table agrees with the model (live flows, deadlines, buffered), its
//   next_timeout is never later than a live flow's deadline, and after
//   handle_timeout(now) it is later than now;
// - after close_all the table is empty with no timer, and its counters match.
#include "flow_simulation.hpp"

#include <algorithm>
#include <sstream>

namespace warren::core::udp::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const char* const addresses[] = {"192.0.2.1",        "192.0.2.2",        "::ffff:192.0.2.1",
                                 "2001:db8:1:2::1",  "2001:db8:1:2::2",  "2001:db8:1:3::1"};

}  // namespace

FlowSimulation::FlowSimulation(std::uint64_t seed, SimTotals& totals)
    : seed_(seed), totals_(totals), random_(seed), now_(sdk::TimePoint{} + 1h) {
  settings_.idle_timeout = milliseconds(1000 + below(19000));
  settings_.max_lifetime = chance(0.5) ? milliseconds(0) : milliseconds(1000 + below(59000));
  settings_.max_requests = chance(0.5) ? 0 : 1 + below(4);
  settings_.max_responses = chance(0.5) ? 0 : 1 + below(4);
  settings_.max_flows = 1 + below(16);
  settings_.max_flows_per_source = chance(0.3) ? 0 : 1 + below(4);
  settings_.open_step = chance(0.5);
  table_.emplace(settings_);
  const std::uint32_t origins = settings_.open_step ? 2 : 1;
  for (const char* address : addresses) {
    for (unsigned short port = 1000; port < 1003; ++port) {
      for (std::uint32_t origin = 0; origin < origins; ++origin) {
        keys_.push_back(FlowKey{origin, {boost::asio::ip::make_address(address), port}});
      }
    }
  }
  for (std::size_t i = 0; i < keys_.size(); ++i) peer_of_key_[i] = settings_.open_step ? 100 + i : 0;
}

sdk::Datagram FlowSimulation::datagram(std::uint64_t serial) {
  sdk::Datagram payload(8 + below(33));
  for (std::size_t i = 0; i < 8; ++i) payload[i] = static_cast<std::byte>(serial >> (8 * i));
  return payload;
}

sdk::TimePoint FlowSimulation::deadline(const ModelFlow& flow) const {
  sdk::TimePoint due = flow.last + settings_.idle_timeout;
  if (settings_.max_lifetime > sdk::Duration::zero()) due = std::min(due, flow.began + settings_.max_lifetime);
  return due;
}

std::size_t FlowSimulation::live_count() const {
  return std::count_if(flows_.begin(), flows_.end(), [](const auto& entry) { return !entry.second.closed; });
}

std::size_t FlowSimulation::live_in_source(const FlowKey& key) const {
  const SourcePrefix source = source_prefix(key.client.address());
  return std::count_if(flows_.begin(), flows_.end(), [&](const auto& entry) {
    return !entry.second.closed && source_prefix(entry.second.key.client.address()) == source;
  });
}

void FlowSimulation::fail(const std::string& what) {
  if (violation_) return;
  std::ostringstream out;
  out << "seed " << seed_ << ": " << what << "\n  settings: idle " << sdk::format_duration(settings_.idle_timeout)
      << ", lifetime " << sdk::format_duration(settings_.max_lifetime) << ", requests " << settings_.max_requests
      << ", responses " << settings_.max_responses << ", max_flows " << settings_.max_flows << ", per source "
      << settings_.max_flows_per_source << ", open_step " << settings_.open_step << "\n  last steps:\n"
      << log_;
  violation_ = out.str();
}

std::optional<std::string> FlowSimulation::run(std::size_t steps) {
  ++totals_.runs;
  for (std::size_t i = 0; i < steps && !violation_; ++i) {
    ++totals_.steps;
    if (log_.size() > 3000) log_.erase(0, log_.find('\n', log_.size() - 2500) + 1);
    step();
  }
  if (!violation_) finish();
  return violation_;
}

void FlowSimulation::step() {
  const auto roll = below(100);
  const sdk::Duration idle = settings_.idle_timeout;
  now_ += roll < 70 ? milliseconds(below(300)) : roll < 95 ? milliseconds(below(idle.count() / 1000000))
                                                           : milliseconds(below(5 * idle.count() / 1000000));
  log_ += "t+" + std::to_string((now_ - (sdk::TimePoint{} + 1h)) / 1ms) + "ms ";
  if (const auto due = table_->next_timeout(); due && *due <= now_ && chance(0.85)) {
    log_ += "timeout\n";
    table_now_ = std::max(table_now_, now_);
    table_->handle_timeout(now_);
    absorb(Event::timeout, std::nullopt, 0, 0);
    check_after(Event::timeout);
  }
  answer_opens();
  const auto what = below(100);
  if (what < 45) {
    send_request();
  } else if (what < 70) {
    send_response();
  } else if (what < 75) {
    pick_live(Event::peer_closed);
  } else if (what < 78) {
    pick_live(Event::refused);
  } else if (what < 79) {
    log_ += "close_all\n";
    table_->close_all(skewed());
    absorb(Event::close_all, std::nullopt, 0, 0);
    check_after(Event::close_all);
    if (table_->size() != 0 || table_->next_timeout()) fail("close_all left flows or a timer");
  } else {
    log_ += "quiet\n";
  }
}

void FlowSimulation::send_request() {
  // A few hot clients, the rest now and then.
  const std::size_t index = chance(0.6) ? below(3) : below(keys_.size());
  if (settings_.open_step && chance(0.05)) ++peer_of_key_[index];  // the edge began a new flow for it
  request_key_ = keys_[index];
  request_peer_ = peer_of_key_[index];
  const std::uint64_t serial = next_serial_++;
  sdk::Datagram payload = datagram(serial);
  const std::size_t size = payload.size();
  log_ += "request #" + std::to_string(serial) + " from key " + std::to_string(index) + " peer " +
          std::to_string(request_peer_) + "\n";
  const FlowId taken = table_->handle_request(skewed(), request_key_, std::move(payload), request_peer_);
  absorb(Event::request, serial, size, taken);
  if (violation_) return;
  if (accounted_ == 0) {
    // Neither forwarded nor dropped: buffered by the opening flow that took it.
    const auto found = flows_.find(taken);
    if (taken == 0 || found == flows_.end() || found->second.closed || found->second.opened || found->second.held) {
      return fail("request #" + std::to_string(serial) + " vanished (returned flow " + std::to_string(taken) + ")");
    }
    found->second.held = serial;
    found->second.held_bytes = size;
    found->second.last = table_now_;
  } else if (accounted_ > 1) {
    return fail("request #" + std::to_string(serial) + " accounted twice");
  }
  check_after(Event::request);
}

void FlowSimulation::send_response() {
  FlowId target = 999999;
  std::vector<FlowId> live;
  for (const auto& [id, flow] : flows_) {
    if (!flow.closed) live.push_back(id);
  }
  if (!live.empty() && chance(0.8)) {
    target = live[below(live.size())];
  } else if (!flows_.empty() && chance(0.8)) {
    target = std::next(flows_.begin(), static_cast<long>(below(flows_.size())))->first;
  }
  const std::uint64_t serial = next_serial_++;
  sdk::Datagram payload = datagram(serial);
  const std::size_t size = payload.size();
  log_ += "response #" + std::to_string(serial) + " for flow " + std::to_string(target) + "\n";
  table_->handle_response(skewed(), target, std::move(payload));
  absorb(Event::response, serial, size, target);
  if (!violation_ && accounted_ != 1) fail("response #" + std::to_string(serial) + " accounted " +
                                           std::to_string(accounted_) + " times");
  check_after(Event::response);
}

void FlowSimulation::answer_opens() {
  std::vector<PendingOpen> due;
  std::erase_if(opens_, [&](const PendingOpen& open) {
    if (open.due > now_) return false;
    due.push_back(open);
    return true;
  });
  // The shell hears back from its opens in any order.
  for (std::size_t i = due.size(); i > 1; --i) std::swap(due[i - 1], due[below(i)]);
  for (const PendingOpen& open : due) {
    log_ += (open.succeeds ? "opened " : "open failed ") + std::to_string(open.flow) + "\n";
    if (open.succeeds) {
      table_->handle_opened(skewed(), open.flow);
      absorb(Event::opened, std::nullopt, 0, open.flow);
      const auto found = flows_.find(open.flow);
      if (found != flows_.end() && !found->second.closed) found->second.opened = true;
      check_after(Event::opened);
    } else {
      table_->handle_open_failed(skewed(), open.flow);
      absorb(Event::open_failed, std::nullopt, 0, open.flow);
      check_after(Event::open_failed);
    }
  }
}

void FlowSimulation::pick_live(Event event) {
  FlowId target = 424242;  // sometimes one that never was
  if (!flows_.empty() && chance(0.9)) target = std::next(flows_.begin(), static_cast<long>(below(flows_.size())))->first;
  log_ += (event == Event::refused ? "refused " : "peer closed ") + std::to_string(target) + "\n";
  if (event == Event::refused) {
    table_->handle_backend_refused(skewed(), target);
  } else {
    table_->handle_peer_closed(skewed(), target);
  }
  absorb(event, std::nullopt, 0, target);
  check_after(event);
}

}  // namespace warren::core::udp::test
