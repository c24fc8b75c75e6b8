#include "core/plugin/descriptor_check.hpp"

namespace warren::core {
namespace {

std::string text(const char* s) { return s ? s : "(null)"; }

bool known_kind(sdk::PluginKind kind) {
  return kind == sdk::PluginKind::transport || kind == sdk::PluginKind::discovery ||
         kind == sdk::PluginKind::backend || kind == sdk::PluginKind::policy;
}

}  // namespace

std::optional<std::string> refusal_reason(const sdk::PluginDescriptor& d, const HostAbi& host,
                                          std::optional<sdk::PluginKind> expected) {
  if (d.magic != sdk::plugin_magic) return "its descriptor has no warren magic number: not a warren plugin";
  if (d.abi_major != host.major)
    return "it was built for plugin ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
           " but this warren uses ABI " + std::to_string(host.major) + "." + std::to_string(host.minor) +
           " (major versions must match); rebuild it against this warren's SDK";
  if (d.abi_minor > host.minor)
    return "it needs plugin ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
           " but this warren offers only " + std::to_string(host.major) + "." + std::to_string(host.minor) +
           "; upgrade warren or use an older plugin";
  if (text(d.fingerprint) != host.fingerprint)
    return "it was built with '" + text(d.fingerprint) + "' but this warren was built with '" + host.fingerprint +
           "'; C++ objects cannot cross that boundary safely, rebuild the plugin against this warren's SDK";
  if (!known_kind(d.kind)) return "it declares unknown kind " + std::to_string(static_cast<std::uint32_t>(d.kind));
  if (expected && d.kind != *expected)
    return std::string("it is a ") + sdk::to_string(d.kind) + " plugin, but a " + sdk::to_string(*expected) +
           " plugin is needed here";
  if (d.name == nullptr || *d.name == '\0' || d.create == nullptr) return "its descriptor has no name or no factory";
  return std::nullopt;
}

}  // namespace warren::core
