// The raw-reply readers on hand-built DNS messages (RFC 1035 section 4.1).

#include "discovery/dns-srv/dns_replies.hpp"

#include <ares.h>
#include <catch2/catch.hpp>

using namespace warren;
using dns_srv::Bytes;

namespace {

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}
void put_name(Bytes& b, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<unsigned char>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  b.push_back(0);
}

struct Record {
  unsigned type;
  std::uint32_t ttl;
  Bytes data;
};

Record srv(std::uint32_t ttl, unsigned priority, unsigned weight, unsigned port, const std::string& target) {
  Record r{33, ttl, {}};
  put16(r.data, priority);
  put16(r.data, weight);
  put16(r.data, port);
  put_name(r.data, target);
  return r;
}

Record a(std::uint32_t ttl, Bytes address) { return {1, ttl, std::move(address)}; }

/// A reply to `name`/`qtype` with `answers`, owner names compressed to the question's.
Bytes reply(const std::string& name, unsigned qtype, const std::vector<Record>& answers) {
  Bytes b;
  put16(b, 0x1234);
  put16(b, 0x8180);  // response, recursion desired and available, NOERROR
  put16(b, 1);
  put16(b, static_cast<unsigned>(answers.size()));
  put16(b, 0);
  put16(b, 0);
  put_name(b, name);
  put16(b, qtype);
  put16(b, 1);
  for (const auto& r : answers) {
    put16(b, 0xc00c);  // pointer to the question's name
    put16(b, r.type);
    put16(b, 1);
    put32(b, r.ttl);
    put16(b, static_cast<unsigned>(r.data.size()));
    b.insert(b.end(), r.data.begin(), r.data.end());
  }
  return b;
}

const std::string kName = "_warren._udp.example.test";

}  // namespace

TEST_CASE("dns replies: the SRV answer's shortest TTL, other types ignored") {
  auto b = reply(
      kName, 33,
      {srv(300, 0, 10, 7844, "edge1.example.test"), a(5, {127, 0, 0, 1}), srv(60, 1, 20, 7845, "edge2.example.test")});
  CHECK(dns_srv::min_answer_ttl(b, 33) == 60u);
  CHECK(dns_srv::min_answer_ttl(b, 1) == 5u);
  CHECK_FALSE(dns_srv::min_answer_ttl(b, 28));
  auto parsed = dns_srv::parse_srv_reply(b);
  REQUIRE(parsed.status == ARES_SUCCESS);
  CHECK(parsed.ttl == std::chrono::seconds(60));
  REQUIRE(parsed.records.size() == 2);
  CHECK(parsed.records[0] == dns_srv::SrvRecord{"edge1.example.test", 7844, 0, 10});
  CHECK(parsed.records[1] == dns_srv::SrvRecord{"edge2.example.test", 7845, 1, 20});
}

TEST_CASE("dns replies: a TTL with the top bit set counts as zero (RFC 2181)") {
  auto b = reply(kName, 33, {srv(0x80000001u, 0, 0, 7844, "edge1.example.test")});
  CHECK(dns_srv::min_answer_ttl(b, 33) == 0u);
}

TEST_CASE("dns replies: every truncation of a reply is refused, never read past") {
  auto b = reply(kName, 33, {srv(30, 0, 0, 7844, "edge1.example.test")});
  for (std::size_t size = 0; size < b.size(); ++size) {
    Bytes cut(b.begin(), b.begin() + static_cast<long>(size));
    CHECK_FALSE(dns_srv::min_answer_ttl(cut, 33));
    CHECK(dns_srv::parse_srv_reply(cut).status != ARES_SUCCESS);
  }
}

TEST_CASE("dns replies: an SRV answer whose only target is the root means no service") {
  auto parsed = dns_srv::parse_srv_reply(reply(kName, 33, {srv(30, 0, 0, 0, "")}));
  CHECK(parsed.status == ARES_SUCCESS);
  CHECK(parsed.records.empty());
  CHECK(parsed.only_dot_targets);
  CHECK(dns_srv::parse_srv_reply(reply(kName, 33, {})).status == ARES_ENODATA);
}

TEST_CASE("dns replies: A records with their TTLs, and the words for statuses") {
  auto parsed =
      dns_srv::parse_address_reply(reply("edge1.example.test", 1, {a(40, {127, 0, 0, 1}), a(20, {127, 0, 0, 2})}), 1);
  REQUIRE(parsed.status == ARES_SUCCESS);
  CHECK(parsed.ttl == std::chrono::seconds(20));
  REQUIRE(parsed.addresses.size() == 2);
  CHECK(parsed.addresses[1].to_string() == "127.0.0.2");
  CHECK(dns_srv::status_text(ARES_ENOTFOUND) == "NXDOMAIN");
  CHECK(dns_srv::is_negative_answer(ARES_ENODATA));
  CHECK_FALSE(dns_srv::is_negative_answer(ARES_ETIMEOUT));
  CHECK_FALSE(dns_srv::is_negative_answer(ARES_ECONNREFUSED));
}
