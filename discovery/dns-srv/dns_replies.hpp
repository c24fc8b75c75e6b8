#pragma once
// Pure readers of raw DNS replies (RFC 1035 section 4): c-ares parses the
// records (ares_parse_srv_reply, ares_parse_a/aaaa_reply); c-ares 1.18's SRV
// parser drops the TTL, so min_answer_ttl walks the answer section for it,
// bounds-checked, with ares_expand_name for (compressed) owner names.

#include "discovery/dns-srv/srv_order.hpp"

#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::dns_srv {

using Bytes = std::vector<unsigned char>;

/// The smallest TTL among the answer section's records of `type` (class
/// IN), in seconds; nullopt when there is none or the reply is malformed.
std::optional<std::uint32_t> min_answer_ttl(const Bytes& reply, int type) noexcept;

struct SrvReply {
  int status = 0;                  ///< ARES_SUCCESS, ARES_ENODATA, ARES_EBADRESP …
  std::vector<SrvRecord> records;  ///< without "." targets ("service not available here", RFC 2782)
  bool only_dot_targets = false;   ///< every record had target "."
  sdk::Duration ttl{};
};
SrvReply parse_srv_reply(const Bytes& reply);

struct AddressReply {
  int status = 0;  ///< ARES_SUCCESS, ARES_ENODATA, ARES_EBADRESP …
  std::vector<boost::asio::ip::address> addresses;
  sdk::Duration ttl{};
};
/// `type`: ns_t_a (1) or ns_t_aaaa (28).
AddressReply parse_address_reply(const Bytes& reply, int type);

/// A short, stable word for an ARES_* status in messages: "NXDOMAIN",
/// "no data", "timeout", "connection refused", "SERVFAIL", "REFUSED" …
std::string status_text(int status);
/// True when the status means the resolver answered that there is nothing
/// (NXDOMAIN, no data); false when it could not be asked (timeout, refused …).
bool is_negative_answer(int status);

}  // namespace warren::dns_srv
