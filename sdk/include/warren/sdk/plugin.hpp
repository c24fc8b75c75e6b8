#pragma once
// The one door into a plugin. A plugin library exports a single data symbol,
// `warren_plugin`: a plain descriptor the loader reads and checks (magic, ABI
// major/minor, build fingerprint, kind) before it calls anything in the
// library. Declare it with the typed macro: the keys are declared once in a
// ConfigSchema (config_schema.hpp) that reads the table and describes it.
//
//   const ConfigSchema<BackoffConfig>& backoff_schema();
//   std::unique_ptr<warren::sdk::Policy> make(const BackoffConfig&, PluginContext&);
//   WARREN_TYPED_PLUGIN("backoff", "1.0.0", "exponential backoff with jitter", backoff_schema, make)
//
// WARREN_PLUGIN(NAME, VERSION, DESCRIPTION, FACTORY) is the untyped form: its
// factory reads the raw table itself and the plugin describes no keys.
// The kind comes from the factory's return type, so it cannot be mislabelled.

#include <warren/sdk/backend.hpp>
#include <warren/sdk/config.hpp>
#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/discovery.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/policy.hpp>
#include <warren/sdk/sdk_hash.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/config.hpp>
#include <boost/version.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>

/// Bump the major for any change that breaks a built plugin; the minor for
/// additions a plugin may need (the loader refuses plugins newer than itself).
#define WARREN_ABI_MAJOR 1
// 1: PluginDescriptor::describe; 2: FallbackPolicy::next_probe;
// 3: Listener::replace_certificate, EdgeVerification::other_pins_sha256, ListenOptions::state_dir
// 4: datagrams: Connection::max_datagram_size/send_datagram/async_receive_datagram, Backend::carries/
//    async_open_flow, DatagramFlow (datagram.hpp)
// 5: DatagramFlow::receive_drops (a flow socket's drops, for /metrics)
//    and Backend::carries moved after async_connect_impl, so a 1.3 backend's slots hold (core asks
//    carries only of plugins of 1.4 and later, receive_drops of 1.5 and later: backend_abi_gate.hpp)
#define WARREN_ABI_MINOR 5

#define WARREN_STRINGIFY_(x) #x
#define WARREN_STRINGIFY(x) WARREN_STRINGIFY_(x)

#if defined(__clang__)
#define WARREN_COMPILER_ID \
  "clang-" WARREN_STRINGIFY(__clang_major__) "." WARREN_STRINGIFY(__clang_minor__) "." WARREN_STRINGIFY(__clang_patchlevel__)
#elif defined(__GNUC__)
#define WARREN_COMPILER_ID \
  "gcc-" WARREN_STRINGIFY(__GNUC__) "." WARREN_STRINGIFY(__GNUC_MINOR__) "." WARREN_STRINGIFY(__GNUC_PATCHLEVEL__)
#else
#define WARREN_COMPILER_ID "unknown-compiler"
#endif

#if defined(_LIBCPP_VERSION)
#define WARREN_STDLIB_ID "libc++-" WARREN_STRINGIFY(_LIBCPP_VERSION)
#elif defined(_GLIBCXX_USE_CXX11_ABI)
#define WARREN_STDLIB_ID "libstdc++-cxx11abi" WARREN_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define WARREN_STDLIB_ID "unknown-stdlib"
#endif

// Asio must be the one shared copy (libwarren-asio), never a private header-only one.
#if defined(BOOST_ASIO_SEPARATE_COMPILATION)
#define WARREN_ASIO_ID "asio-shared"
#else
#define WARREN_ASIO_ID "asio-private"
#endif

/// Everything that must match for C++ objects to cross the library boundary.
#define WARREN_BUILD_FINGERPRINT                                                                             \
  WARREN_COMPILER_ID " " WARREN_STDLIB_ID " boost-" WARREN_STRINGIFY(BOOST_VERSION) " " WARREN_ASIO_ID " sdk-" \
      WARREN_SDK_HASH

namespace warren::sdk {

enum class PluginKind : std::uint32_t { transport = 1, discovery = 2, backend = 3, policy = 4 };

/// "transport", "discovery", "backend", "policy", or "unknown".
constexpr const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::transport: return "transport";
    case PluginKind::discovery: return "discovery";
    case PluginKind::backend: return "backend";
    case PluginKind::policy: return "policy";
  }
  return "unknown";
}

/// "WRN1" in the first four bytes tells a warren descriptor from anything else.
inline constexpr std::uint32_t plugin_magic = 0x57524e31;

/// Makes the plugin's object from its own config table. Returns null after
/// adding at least one diagnostic.
using PluginFactory = PluginObject* (*)(const ConfigTable& table, PluginContext& context, Diagnostics& diagnostics);

/// A plugin's keys, for `warren plugins --describe` and docs/config.md.
struct PluginKeys {
  std::string summary;        ///< one line on what the plugin's table configures
  std::vector<KeySpec> keys;  ///< in declaration order
};

/// Fills `out` (owned by the caller) with the plugin's keys.
using PluginDescribe = void (*)(PluginKeys& out);

/// The plain data a plugin exports. Field order is fixed forever up to
/// `abi_minor`, so any loader can read the versions of any descriptor;
/// fields added by a minor version go last, and a loader reads them only
/// from descriptors of that minor or later.
struct PluginDescriptor {
  std::uint32_t magic;
  std::uint16_t abi_major;
  std::uint16_t abi_minor;
  const char* fingerprint;
  PluginKind kind;
  const char* name;
  const char* version;
  const char* description;
  PluginFactory create;
  PluginDescribe describe;  ///< ABI 1.1; null when the plugin declares no schema
};

namespace detail {

template <typename T>
struct KindOf;
template <>
struct KindOf<Transport> : std::integral_constant<PluginKind, PluginKind::transport> {};
template <>
struct KindOf<Discovery> : std::integral_constant<PluginKind, PluginKind::discovery> {};
template <>
struct KindOf<Backend> : std::integral_constant<PluginKind, PluginKind::backend> {};
template <>
struct KindOf<Policy> : std::integral_constant<PluginKind, PluginKind::policy> {};

template <typename Interface>
constexpr PluginKind kind_of(std::unique_ptr<Interface> (*)(const ConfigTable&, PluginContext&, Diagnostics&)) {
  return KindOf<Interface>::value;
}
template <typename Interface, typename Config>
constexpr PluginKind kind_of(std::unique_ptr<Interface> (*)(const Config&, PluginContext&)) {
  return KindOf<Interface>::value;
}

/// Reads the table through the schema, then calls the typed factory.
template <auto Schema, auto Make>
std::unique_ptr<PluginObject> typed_make(const ConfigTable& table, PluginContext& context, Diagnostics& diagnostics) {
  auto config = Schema().read(table, diagnostics);
  if (!config) return nullptr;
  return Make(*config, context);
}

template <auto Schema>
void describe_thunk(PluginKeys& out) {
  out.summary = Schema().summary();
  out.keys = Schema().keys();
}

/// Turns a typed factory into the descriptor's plain one; an exception
/// becomes a diagnostic instead of crossing the library boundary.
template <auto Factory>
PluginObject* create_thunk(const ConfigTable& table, PluginContext& context, Diagnostics& diagnostics) {
  try {
    auto object = Factory(table, context, diagnostics);
    if (!object && diagnostics.ok()) diagnostics.error(table.where, "plugin made no object and said nothing why");
    return diagnostics.ok() ? object.release() : nullptr;
  } catch (const std::exception& e) {
    diagnostics.error(table.where, e.what());
  } catch (...) {
    diagnostics.error(table.where, "plugin factory threw an unknown exception");
  }
  return nullptr;
}

}  // namespace detail
}  // namespace warren::sdk

/// Declares this library's plugin: SCHEMA is `const ConfigSchema<C>& ()`,
/// MAKE is `std::unique_ptr<Interface> (const C&, PluginContext&)`; MAKE may
/// throw, and its exception becomes a diagnostic at the plugin's table.
/// Use once per library, at namespace scope.
#define WARREN_TYPED_PLUGIN(NAME, VERSION, DESCRIPTION, SCHEMA, MAKE)                                        \
  extern "C" BOOST_SYMBOL_EXPORT const ::warren::sdk::PluginDescriptor warren_plugin = {                   \
      ::warren::sdk::plugin_magic,                                                                         \
      WARREN_ABI_MAJOR,                                                                                    \
      WARREN_ABI_MINOR,                                                                                    \
      WARREN_BUILD_FINGERPRINT,                                                                            \
      ::warren::sdk::detail::kind_of(&MAKE),                                                               \
      NAME,                                                                                                \
      VERSION,                                                                                             \
      DESCRIPTION,                                                                                         \
      &::warren::sdk::detail::create_thunk<&::warren::sdk::detail::typed_make<&SCHEMA, &MAKE>>,            \
      &::warren::sdk::detail::describe_thunk<&SCHEMA>};

/// The untyped form: FACTORY reads its raw table itself and declares no keys.
#define WARREN_PLUGIN(NAME, VERSION, DESCRIPTION, FACTORY)                                                   \
  extern "C" BOOST_SYMBOL_EXPORT const ::warren::sdk::PluginDescriptor warren_plugin = {                   \
      ::warren::sdk::plugin_magic,         WARREN_ABI_MAJOR, WARREN_ABI_MINOR, WARREN_BUILD_FINGERPRINT,     \
      ::warren::sdk::detail::kind_of(&FACTORY), NAME,        VERSION,          DESCRIPTION,                  \
      &::warren::sdk::detail::create_thunk<&FACTORY>, nullptr};
