#include "discovery/dns-srv/dns_replies.hpp"

#include <ares.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace warren::dns_srv {
namespace {

constexpr int kTypeA = 1;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
constexpr std::size_t kHeaderSize = 12;
constexpr int kMaxAddresses = 64;

std::uint16_t read16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t read32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

/// Skips the name at `at`; false when it runs past the reply.
bool skip_name(const Bytes& reply, std::size_t& at) {
  char* name = nullptr;
  long length = 0;
  if (ares_expand_name(reply.data() + at, reply.data(), static_cast<int>(reply.size()), &name, &length) != ARES_SUCCESS)
    return false;
  ares_free_string(name);
  at += static_cast<std::size_t>(length);
  return at <= reply.size();
}

sdk::Duration seconds(std::uint32_t ttl) { return std::chrono::seconds(ttl); }

}  // namespace

std::optional<std::uint32_t> min_answer_ttl(const Bytes& reply, int type) noexcept {
  if (reply.size() < kHeaderSize) return std::nullopt;
  std::size_t questions = read16(&reply[4]), answers = read16(&reply[6]);
  std::size_t at = kHeaderSize;
  for (std::size_t q = 0; q < questions; ++q) {
    if (!skip_name(reply, at) || reply.size() - at < 4) return std::nullopt;
    at += 4;  // type, class
  }
  std::optional<std::uint32_t> lowest;
  for (std::size_t a = 0; a < answers; ++a) {
    if (!skip_name(reply, at) || reply.size() - at < 10) return std::nullopt;
    int rr_type = read16(&reply[at]), rr_class = read16(&reply[at + 2]);
    // RFC 2181 section 8: a TTL with the top bit set counts as zero.
    std::uint32_t ttl = read32(&reply[at + 4]);
    if (ttl & 0x80000000u) ttl = 0;
    std::size_t rdlength = read16(&reply[at + 8]);
    at += 10;
    if (reply.size() - at < rdlength) return std::nullopt;
    at += rdlength;
    if (rr_type == type && rr_class == kClassIn) lowest = std::min(lowest.value_or(ttl), ttl);
  }
  return lowest;
}

SrvReply parse_srv_reply(const Bytes& reply) {
  SrvReply out;
  ares_srv_reply* list = nullptr;
  out.status = ares_parse_srv_reply(reply.data(), static_cast<int>(reply.size()), &list);
  if (out.status != ARES_SUCCESS) return out;
  std::size_t dots = 0, total = 0;
  for (auto* r = list; r; r = r->next) {
    ++total;
    std::string target = r->host ? r->host : "";
    while (!target.empty() && target.back() == '.') target.pop_back();
    if (target.empty()) {
      ++dots;
      continue;
    }
    out.records.push_back({std::move(target), r->port, r->priority, r->weight});
  }
  ares_free_data(list);
  out.only_dot_targets = total > 0 && dots == total;
  if (total == 0) out.status = ARES_ENODATA;
  // ares_parse_srv_reply accepted it, so the walk should too; if not, treat it as malformed.
  auto ttl = min_answer_ttl(reply, 33 /* ns_t_srv */);
  if (!ttl && out.status == ARES_SUCCESS) out.status = ARES_EBADRESP;
  out.ttl = seconds(ttl.value_or(0));
  return out;
}

AddressReply parse_address_reply(const Bytes& reply, int type) {
  AddressReply out;
  int count = kMaxAddresses;
  std::optional<std::uint32_t> lowest;
  if (type == kTypeA) {
    std::array<ares_addrttl, kMaxAddresses> found{};
    out.status = ares_parse_a_reply(reply.data(), static_cast<int>(reply.size()), nullptr, found.data(), &count);
    for (int i = 0; out.status == ARES_SUCCESS && i < count; ++i) {
      boost::asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &found[i].ipaddr, 4);
      out.addresses.emplace_back(boost::asio::ip::address_v4(bytes));
      auto ttl = static_cast<std::uint32_t>(std::max(found[i].ttl, 0));
      lowest = std::min(lowest.value_or(ttl), ttl);
    }
  } else {
    std::array<ares_addr6ttl, kMaxAddresses> found{};
    out.status = ares_parse_aaaa_reply(reply.data(), static_cast<int>(reply.size()), nullptr, found.data(), &count);
    for (int i = 0; out.status == ARES_SUCCESS && i < count; ++i) {
      boost::asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &found[i].ip6addr, 16);
      out.addresses.emplace_back(boost::asio::ip::address_v6(bytes));
      auto ttl = static_cast<std::uint32_t>(std::max(found[i].ttl, 0));
      lowest = std::min(lowest.value_or(ttl), ttl);
    }
  }
  if (out.status == ARES_SUCCESS && out.addresses.empty()) out.status = ARES_ENODATA;
  out.ttl = seconds(lowest.value_or(0));
  return out;
}

std::string status_text(int status) {
  switch (status) {
    case ARES_SUCCESS: return "ok";
    case ARES_ENODATA: return "no data";
    case ARES_ENOTFOUND: return "NXDOMAIN";
    case ARES_ESERVFAIL: return "SERVFAIL";
    case ARES_EREFUSED: return "REFUSED";
    case ARES_ENOTIMP: return "NOTIMP";
    case ARES_EFORMERR: return "FORMERR";
    case ARES_ETIMEOUT: return "timeout";
    case ARES_ECONNREFUSED: return "connection refused";
    case ARES_EBADRESP: return "malformed reply";
    case ARES_EBADNAME: return "bad name";
    case ARES_ENOMEM: return "out of memory";
    case ARES_ECANCELLED: return "cancelled";
    default: return ares_strerror(status);
  }
}

bool is_negative_answer(int status) { return status == ARES_ENOTFOUND || status == ARES_ENODATA; }

}  // namespace warren::dns_srv
