#include "core/tls/secure_random.hpp"

#include <gnutls/crypto.h>

#include <stdexcept>

namespace warren::core {

std::uint64_t SecureRandom::next_u64() {
  std::uint64_t value;
  if (gnutls_rnd(GNUTLS_RND_KEY, &value, sizeof value) < 0) throw std::runtime_error("the system CSPRNG failed");
  return value;
}

}  // namespace warren::core
