// The gate itself, on descriptors made in memory.

#include "core/plugin/descriptor_check.hpp"

#include <catch2/catch.hpp>

using namespace warren;

namespace {
sdk::PluginObject* factory(const sdk::ConfigTable&, sdk::PluginContext&, sdk::Diagnostics&) { return nullptr; }

sdk::PluginDescriptor good() {
  return {sdk::plugin_magic, 1, 2, "fp", sdk::PluginKind::backend, "tcp", "1.0", "d", &factory};
}
const core::HostAbi host{1, 2, "fp"};
}  // namespace

TEST_CASE("a matching descriptor is accepted") {
  CHECK_FALSE(core::refusal_reason(good(), host, std::nullopt));
  CHECK_FALSE(core::refusal_reason(good(), host, sdk::PluginKind::backend));
}

TEST_CASE("an older minor is accepted, a newer one is not") {
  auto d = good();
  d.abi_minor = 0;
  CHECK_FALSE(core::refusal_reason(d, host, std::nullopt));
  d.abi_minor = 3;
  CHECK(core::refusal_reason(d, host, std::nullopt));
}

TEST_CASE("each mismatch is refused") {
  auto d = good();
  SECTION("magic") { d.magic = 0; }
  SECTION("major") { d.abi_major = 2; }
  SECTION("fingerprint") { d.fingerprint = "other"; }
  SECTION("null fingerprint") { d.fingerprint = nullptr; }
  SECTION("unknown kind") { d.kind = static_cast<sdk::PluginKind>(99); }
  SECTION("no name") { d.name = ""; }
  SECTION("no factory") { d.create = nullptr; }
  CHECK(core::refusal_reason(d, host, std::nullopt));
}

TEST_CASE("a kind other than the one asked for is refused") {
  auto reason = core::refusal_reason(good(), host, sdk::PluginKind::policy);
  REQUIRE(reason);
  CHECK(*reason == "it is a backend plugin, but a policy plugin is needed here");
}
