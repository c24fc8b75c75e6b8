#include "dns_message.hpp"

#include <cstddef>

namespace warren::test {

namespace {

void push_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

/// Skips a (possibly compressed) name at `at`; false when it runs off the end.
bool skip_name(const std::vector<std::uint8_t>& m, std::size_t& at) {
  while (at < m.size()) {
    std::uint8_t len = m[at];
    if (len == 0) return ++at, true;
    if ((len & 0xC0) == 0xC0) return (at += 2) <= m.size();  // a pointer ends the name
    at += 1 + len;
  }
  return false;
}

std::uint16_t u16(const std::vector<std::uint8_t>& m, std::size_t at) {
  return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]);
}

}  // namespace

std::vector<std::uint8_t> dns_a_query(std::uint16_t id, const std::string& name) {
  std::vector<std::uint8_t> out;
  push_u16(out, id);
  push_u16(out, 0x0100);  // a standard query, recursion desired
  for (std::uint16_t count : {1, 0, 0, 0}) push_u16(out, count);
  for (std::size_t start = 0; start <= name.size();) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    if (dot > start) {
      out.push_back(static_cast<std::uint8_t>(dot - start));
      out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                 name.begin() + static_cast<std::ptrdiff_t>(dot));
    }
    start = dot + 1;
  }
  out.push_back(0);
  push_u16(out, 1);  // QTYPE A
  push_u16(out, 1);  // QCLASS IN
  return out;
}

std::optional<std::string> dns_first_a(const std::vector<std::uint8_t>& m, std::uint16_t id) {
  if (m.size() < 12 || u16(m, 0) != id || !(m[2] & 0x80)) return std::nullopt;  // QR: a response
  std::size_t at = 12;
  for (std::uint16_t q = u16(m, 4); q > 0; --q) {
    if (!skip_name(m, at)) return std::nullopt;
    at += 4;
  }
  for (std::uint16_t a = u16(m, 6); a > 0; --a) {
    if (!skip_name(m, at) || at + 10 > m.size()) return std::nullopt;
    std::uint16_t type = u16(m, at), length = u16(m, at + 8);
    at += 10;
    if (at + length > m.size()) return std::nullopt;
    if (type == 1 && length == 4)
      return std::to_string(m[at]) + "." + std::to_string(m[at + 1]) + "." + std::to_string(m[at + 2]) + "." +
             std::to_string(m[at + 3]);
    at += length;
  }
  return std::nullopt;
}

}  // namespace warren::test
