#include "core/log/repeat_summary.hpp"

namespace warren::core {

std::optional<std::string> RepeatSummary::record(const std::string& event, const std::string& full,
                                                 sdk::TimePoint now) {
  if (count_ == 0 || event != event_) {
    event_ = event;
    count_ = 0;
    first_ = now;
    held_back_ = false;
  }
  ++count_;
  if (count_ <= options_.shown) {
    since_line_ = 0;
    line_at_ = now;
    return full;
  }
  ++since_line_;
  held_back_ = true;
  if (now - line_at_ < options_.every) return std::nullopt;
  auto line = "still failing: " + event_ + " (" + std::to_string(since_line_) + " attempt" +
              (since_line_ == 1 ? "" : "s") + " in " + sdk::human_duration(now - line_at_) + ")";
  since_line_ = 0;
  line_at_ = now;
  return line;
}

std::optional<std::string> RepeatSummary::clear(sdk::TimePoint now) {
  std::optional<std::string> said;
  if (held_back_)
    said = " after " + std::to_string(count_) + " failed attempts in " + sdk::human_duration(now - first_);
  count_ = 0;
  since_line_ = 0;
  held_back_ = false;
  return said;
}

}  // namespace warren::core
