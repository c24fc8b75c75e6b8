#pragma once
// RFC 2782 ordering of SRV records: ascending priority, and among records of
// equal priority a weighted random order (each draw picks a record with
// probability weight / sum of the weights left; weight-0 records keep a small
// chance, as the RFC's running-sum selection gives them). Pure: the caller
// injects the random source, so a seed reproduces an order.

#include <warren/sdk/random.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace warren::dns_srv {

/// One SRV record as the DNS gave it (RFC 2782: priority, weight, port, target).
struct SrvRecord {
  std::string target;  ///< the host name, without the trailing dot
  std::uint16_t port = 0;
  std::uint16_t priority = 0;  ///< lower is preferred
  std::uint16_t weight = 0;    ///< relative share among equal priorities

  friend bool operator==(const SrvRecord&, const SrvRecord&) = default;
};

/// The RFC 2782 order of `records` as indices into it, best first. Draws
/// from `random` once per pick among two or more records of one priority.
/// Input order matters only as the RFC's "any order" within a priority,
/// where weight-0 records go first ("Usage rules"): equal seeds and inputs
/// give equal orders.
std::vector<std::size_t> rfc2782_order(const std::vector<SrvRecord>& records, sdk::RandomSource& random);

}  // namespace warren::dns_srv
