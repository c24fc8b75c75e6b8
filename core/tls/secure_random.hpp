#pragma once
// A RandomSource for secrets (quick tunnel ids and tokens) and production
// jitter: GnuTLS's CSPRNG.

#include <warren/sdk/random.hpp>

namespace warren::core {

class SecureRandom final : public sdk::RandomSource {
 public:
  std::uint64_t next_u64() override;
};

}  // namespace warren::core
