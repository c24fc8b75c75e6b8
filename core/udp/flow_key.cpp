#include "core/udp/flow_key.hpp"

#include <boost/container_hash/hash.hpp>

namespace warren::core::udp {

std::size_t FlowKeyHash::operator()(const FlowKey& key) const noexcept {
  std::size_t seed = key.origin;
  boost::hash_combine(seed, key.client.port());
  const auto address = key.client.address();
  if (address.is_v4()) {
    boost::hash_combine(seed, address.to_v4().to_uint());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    boost::hash_combine(seed, boost::hash_range(bytes.begin(), bytes.end()));
    boost::hash_combine(seed, address.to_v6().scope_id());
  }
  return seed;
}

std::size_t SourcePrefixHash::operator()(const SourcePrefix& prefix) const noexcept {
  std::size_t seed = prefix.family;
  boost::hash_combine(seed, boost::hash_range(prefix.bytes.begin(), prefix.bytes.end()));
  return seed;
}

SourcePrefix source_prefix(const boost::asio::ip::address& address) noexcept {
  SourcePrefix prefix;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return source_prefix(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()));
  }
  if (address.is_v4()) {
    prefix.family = 4;
    const auto bytes = address.to_v4().to_bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) prefix.bytes[i] = bytes[i];
  } else {
    prefix.family = 6;
    const auto bytes = address.to_v6().to_bytes();
    for (std::size_t i = 0; i < prefix.bytes.size(); ++i) prefix.bytes[i] = bytes[i];  // the /64
  }
  return prefix;
}

}  // namespace warren::core::udp
