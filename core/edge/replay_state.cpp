#include "core/edge/replay_state.hpp"

#include <algorithm>

namespace warren::core {

void ReplayState::dispatched(LegId leg, bool expects_reply) {
  if (phase_ != Phase::dispatching) return;
  ++attempts_;
  leg_ = leg;
  tried_.insert(leg);
  if (expects_reply) {
    phase_ = Phase::waiting;
  } else {
    // The kept bytes still go out on this stream first; then nothing more
    // is kept: an older connector says nothing we could wait for.
    phase_ = Phase::accepted;
  }
}

std::size_t ReplayState::room(std::size_t wanted) const {
  switch (phase_) {
    case Phase::accepted: return wanted;
    case Phase::waiting: return std::min(wanted, limits_.max_bytes - kept_.size());
    case Phase::dispatching:
    case Phase::given_up: return 0;
  }
  return 0;
}

void ReplayState::sent(std::span<const std::uint8_t> bytes) {
  if (phase_ != Phase::waiting) return;
  kept_.insert(kept_.end(), bytes.begin(), bytes.end());
}

void ReplayState::accepted() {
  if (phase_ != Phase::waiting && phase_ != Phase::accepted) return;
  phase_ = Phase::accepted;
  kept_ = {};  // frees the memory, not just the size
}

ReplayState::Decision ReplayState::failed(sdk::TimePoint now) {
  if (phase_ == Phase::given_up) return Decision::give_up;
  if (phase_ == Phase::accepted || attempts_ >= limits_.max_attempts || now - opened_ >= limits_.deadline) {
    phase_ = Phase::given_up;
    kept_ = {};
    return Decision::give_up;
  }
  phase_ = Phase::dispatching;
  return Decision::replay;
}

ReplayState::Decision ReplayState::open_failed(LegId leg, sdk::TimePoint now) {
  if (phase_ == Phase::dispatching) {
    ++attempts_;
    leg_ = leg;
    tried_.insert(leg);
  }
  return failed(now);
}

void ReplayState::no_leg() {
  phase_ = Phase::given_up;
  kept_ = {};
}

}  // namespace warren::core
