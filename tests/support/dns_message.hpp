#pragma once
// The two DNS messages UDP tunnel tests need (RFC 1035 section 4): an A
// query, and the first A record of an answer. Enough to talk to dnsmasq and
// dnsdist through a tunnel from a socket the test owns (its source port is
// then known, which dig's would not be).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

/// A recursive A query for `name` ("example.test") with id `id`.
std::vector<std::uint8_t> dns_a_query(std::uint16_t id, const std::string& name);

/// The first A record's address ("192.0.2.7") in a response with id `id`;
/// nullopt when the message is no such response, is malformed, or has no A.
std::optional<std::string> dns_first_a(const std::vector<std::uint8_t>& response, std::uint16_t id);

}  // namespace warren::test
