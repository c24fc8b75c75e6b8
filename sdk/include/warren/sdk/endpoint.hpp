#pragma once
// "host:port" as written in configs: "127.0.0.1:8080", "[::1]:7844",
// "edge.example.com:7844". Names are kept unresolved; resolution is the
// caller's (asynchronous) job.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::sdk {

/// "host:port", with brackets around an IPv6 literal: "[::1]:7844". The one
/// way warren writes an address, in configs, logs and stream headers.
inline std::string format_host_port(std::string_view host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

struct Endpoint {
  std::string host;  ///< a name, an IPv4 literal or an IPv6 literal without brackets
  std::uint16_t port = 0;

  /// "host:port", with brackets around IPv6 literals.
  std::string to_string() const { return format_host_port(host, port); }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// Parses "host:port". On failure returns nullopt and, if `why` is given,
/// a sentence saying what is wrong ("missing port", "port 70000 out of range").
/// Port 0 ("any free port") only where `allow_port_zero` says so: listeners.
inline std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr,
                                              bool allow_port_zero = false) {
  auto fail = [&](std::string reason) -> std::optional<Endpoint> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("missing ':PORT' after ']'");
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':PORT'");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses need brackets: [ADDR]:PORT");
    port = text.substr(colon + 1);
  }
  if (host.empty()) return fail("missing host before ':'");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == ':' || c == '_' || c == '%';
    if (!ok) return fail("invalid character '" + std::string(1, c) + "' in host");
  }
  if (port.empty()) return fail("missing port after ':'");
  unsigned long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return fail("port '" + std::string(port) + "' is not a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return fail("port " + std::string(port) + " is out of range 1-65535");
  }
  if (value == 0 && !allow_port_zero) return fail("port 0 is not allowed here");
  return Endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace warren::sdk
