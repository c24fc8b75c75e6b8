#pragma once
// Certificate pins: "sha256:" + hex SHA-256 of the edge's DER leaf
// certificate; colons optional, any case. Connectors pin edges with them;
// edges print their own at start.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::sdk {

using CertificatePin = std::array<std::uint8_t, 32>;

inline std::optional<CertificatePin> parse_certificate_pin(std::string_view text) {
  auto hex_value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  constexpr std::string_view prefix = "sha256:";
  if (text.size() < prefix.size()) return std::nullopt;
  // Only letters have a case: folding with `| 0x20` alone would also take
  // control bytes for the digits and the colon ("SHA25\x16:" for "sha256:").
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != prefix[i]) return std::nullopt;
  }
  text.remove_prefix(prefix.size());
  std::string digits;
  for (char c : text) {
    if (c == ':') continue;
    if (hex_value(c) < 0) return std::nullopt;
    digits += c;
  }
  if (digits.size() != 64) return std::nullopt;
  CertificatePin pin{};
  for (std::size_t i = 0; i < pin.size(); ++i)
    pin[i] = static_cast<std::uint8_t>(hex_value(digits[2 * i]) << 4 | hex_value(digits[2 * i + 1]));
  return pin;
}

/// "sha256:" + 64 lowercase hex digits.
inline std::string format_certificate_pin(const CertificatePin& pin) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (auto byte : pin) {
    out += hex[byte >> 4];
    out += hex[byte & 0xf];
  }
  return out;
}

}  // namespace warren::sdk
