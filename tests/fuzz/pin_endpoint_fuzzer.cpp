// libFuzzer target: the text parsers of addresses and pins: certificate
// pins (sdk/certificate_pin.hpp), HOST:PORT endpoints (sdk/endpoint.hpp)
// and the edge's public port range (core/config/edge_config.hpp). Each
// result must be what the text says: a parsed value formats back to text
// that parses to the same value.
#include "core/config/edge_config.hpp"

#include <warren/sdk/certificate_pin.hpp>
#include <warren/sdk/endpoint.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace warren;

[[noreturn]] void finding(const char* what, std::string_view input) {
  std::fprintf(stderr, "pin/endpoint fuzz finding: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void check_pin(std::string_view text) {
  auto pin = sdk::parse_certificate_pin(text);
  if (!pin) return;
  // Accepted text is "sha256:" in any case, then hex digits and colons: the
  // same as the canonical form once lowercased and stripped of later colons.
  std::string normal;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (i < 7 || text[i] != ':') normal += lower(text[i]);
  std::string canonical = sdk::format_certificate_pin(*pin);
  if (normal != canonical) finding("a pin parsed from text that is not the pin", text);
  if (sdk::parse_certificate_pin(canonical) != pin) finding("a formatted pin does not parse back", text);
}

void check_endpoint(std::string_view text, bool allow_port_zero) {
  std::string why;
  auto endpoint = sdk::parse_endpoint(text, &why, allow_port_zero);
  if (!endpoint) {
    if (why.empty()) finding("an endpoint refused without a reason", text);
    return;
  }
  if (endpoint->host.empty()) finding("an endpoint with an empty host", text);
  if (endpoint->port == 0 && !allow_port_zero) finding("port 0 where it is not allowed", text);
  auto again = sdk::parse_endpoint(endpoint->to_string(), &why, allow_port_zero);
  if (!again || *again != *endpoint) finding("a formatted endpoint does not parse back equal", text);
}

void check_port_range(std::string_view text) {
  auto range = core::parse_port_range(text);
  if (!range) return;
  if (range->first == 0 || range->last < range->first) finding("an empty or zero port range", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_pin(text);
  check_endpoint(text, false);
  check_endpoint(text, true);
  check_port_range(text);
  return 0;
}
