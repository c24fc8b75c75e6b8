// A plugin's keys through the real loader: a bundled typed plugin describes
// them (LoadedPlugin::keys()), and a plugin built for ABI 1.0, whose
// descriptor has no `describe`, loads and describes nothing.

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>

using namespace warren;
using core::LoadedPlugin;
using core::PluginLoader;

namespace {

const std::filesystem::path fixtures = WARREN_TEST_PLUGIN_DIR;
const std::filesystem::path bundled = WARREN_PLUGIN_DIR;

LoadedPlugin found(const PluginLoader& loader, sdk::PluginKind kind, const std::string& name) {
  auto result = loader.find(kind, name);
  if (auto* why = std::get_if<std::string>(&result)) FAIL(*why);
  return std::get<LoadedPlugin>(result);
}

const sdk::KeySpec* key(const sdk::PluginKeys& keys, const std::string& name) {
  auto it = std::find_if(keys.keys.begin(), keys.keys.end(), [&](const sdk::KeySpec& k) { return k.name == name; });
  return it == keys.keys.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("a bundled typed plugin describes its keys through the loader") {
  PluginLoader loader({bundled});
  auto backoff = found(loader, sdk::PluginKind::policy, "backoff");
  auto keys = backoff.keys();
  REQUIRE(keys);
  CHECK(keys->summary == "how long a leg waits before it dials again after a failure");
  std::vector<std::string> names;
  for (const auto& k : keys->keys) names.push_back(k.name);
  CHECK(names ==
        std::vector<std::string>{"base", "max", "multiplier", "jitter", "jitter_ratio", "max_attempts", "reset_after"});
  const auto* base = key(*keys, "base");
  REQUIRE(base);
  CHECK(base->type == "duration");
  CHECK(base->default_text == "\"1s\"");
  CHECK(base->range == "between 1ms and 1h");
  CHECK(base->doc == "delay after the first failure");
  for (const auto& k : keys->keys) {
    INFO(k.name);
    CHECK_FALSE(k.doc.empty());  // every key has a doc line
  }

  // quic joins two schemas: flow control and the handshake defences.
  auto quic = found(loader, sdk::PluginKind::transport, "quic").keys();
  REQUIRE(quic);
  const auto* window = key(*quic, "stream_window");
  REQUIRE(window);
  CHECK(window->default_text == "1048576");
  CHECK(window->range == "between 16384 and 268435456");
  const auto* retry = key(*quic, "retry");
  REQUIRE(retry);
  CHECK(retry->type == "one of auto, always, never");
  CHECK(retry->default_text == "\"auto\"");
  CHECK(quic->keys.size() == 9);
}

TEST_CASE("a plugin built for ABI 1.0 loads, works and describes nothing") {
  PluginLoader loader({fixtures});
  auto older = found(loader, sdk::PluginKind::policy, "older");
  CHECK(older.version == "1.0.0");
  CHECK(older.describe == nullptr);  // the bytes after its descriptor were not read as `describe`
  CHECK_FALSE(older.keys());

  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  sdk::Diagnostics diagnostics;
  auto policy = loader.create<sdk::Policy>(older, sdk::testing::TableBuilder("policy").table(), context, diagnostics);
  CHECK(diagnostics.ok());
  CHECK(policy);
}

TEST_CASE("an untyped plugin describes nothing") {
  PluginLoader loader({fixtures});
  auto fixed = found(loader, sdk::PluginKind::policy, "fixed");
  CHECK_FALSE(fixed.keys());
}
