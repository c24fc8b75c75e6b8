#pragma once
// Certificate pins: "sha256:" + hex SHA-256 of the edge's DER leaf
// certificate; colons optional, any case.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::core {

using CertificatePin = std::array<std::uint8_t, 32>;

std::optional<CertificatePin> parse_certificate_pin(std::string_view text);

/// "sha256:" + 64 lowercase hex digits.
std::string format_certificate_pin(const CertificatePin& pin);

}  // namespace warren::core
