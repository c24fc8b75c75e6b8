// Backend plugins of an older ABI minor, through the real loader: their
// vtables lack the virtuals added since (Backend::carries, 1.4;
// DatagramFlow::receive_drops, 1.5), and the fixtures abort where those
// slots would be, so a pass also proves core never called them.

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>

using namespace warren;
using core::LoadedPlugin;
using core::PluginLoader;

namespace {

const std::filesystem::path fixtures = WARREN_TEST_PLUGIN_DIR;
const std::filesystem::path bundled = WARREN_PLUGIN_DIR;

struct Made {
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  LoadedPlugin plugin;
  core::PluginPtr<sdk::Backend> backend;

  Made(const std::filesystem::path& dir, const std::string& name,
       sdk::ConfigTable table = sdk::testing::TableBuilder("backend").table()) {
    PluginLoader loader({dir});
    auto found = loader.find(sdk::PluginKind::backend, name);
    if (auto* why = std::get_if<std::string>(&found)) FAIL(*why);
    plugin = std::get<LoadedPlugin>(found);
    sdk::Diagnostics diagnostics;
    backend = loader.create<sdk::Backend>(plugin, table, context, diagnostics);
    REQUIRE(diagnostics.ok());
    REQUIRE(backend);
  }

  /// Runs the loop until `done` (no completion is ever lost here: a bounded run, not a wait).
  template <typename Done>
  bool run_until(Done done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    return done();
  }
};

sdk::ConfigTable udp_table() { return sdk::testing::TableBuilder("backend").set("address", "127.0.0.1:53").table(); }

}  // namespace

TEST_CASE("the loader keeps the ABI minor a plugin declared") {
  Made older(fixtures, "abi13");
  CHECK(older.plugin.abi_minor == 3);
  Made current(bundled, "udp", udp_table());
  CHECK(current.plugin.abi_minor == WARREN_ABI_MINOR);
}

TEST_CASE("a backend built for ABI 1.3 carries streams without carries() being called, and connects") {
  Made made(fixtures, "abi13");
  CHECK(made.backend->carries() == sdk::Backend::Carries::streams);
  // async_connect reaches the fixture's own code (the slot 1.3 gave it): its refusal comes back.
  std::optional<sdk::error_code> result;
  made.backend->async_connect(sdk::StreamInfo{"192.0.2.1:5000", "127.0.0.1:20000"},
                              [&](sdk::error_code ec, sdk::ByteStreamPtr) { result = ec; });
  REQUIRE(made.run_until([&] { return result.has_value(); }));
  CHECK(*result == sdk::errc::remote_not_allowed);
}

TEST_CASE("a datagram backend built for ABI 1.4 opens flows whose drops count 0 without receive_drops() being called") {
  Made made(fixtures, "abi14");
  REQUIRE(made.backend->carries() == sdk::Backend::Carries::datagrams);
  sdk::DatagramFlowPtr flow;
  made.backend->async_open_flow(sdk::StreamInfo{"192.0.2.1:5000", "127.0.0.1:20000"},
                                [&](sdk::error_code ec, sdk::DatagramFlowPtr f) {
                                  CHECK_FALSE(ec);
                                  flow = std::move(f);
                                });
  REQUIRE(made.run_until([&] { return flow != nullptr; }));
  CHECK(flow->receive_drops() == 0);
  // Every other call still reaches the plugin's flow: it echoes.
  std::optional<sdk::Datagram> echoed;
  flow->async_receive([&](sdk::error_code ec, sdk::Datagram d) {
    CHECK_FALSE(ec);
    echoed = std::move(d);
  });
  const sdk::Datagram ping{std::byte{'p'}, std::byte{'i'}, std::byte{'n'}, std::byte{'g'}};
  CHECK(flow->send(ping));
  REQUIRE(made.run_until([&] { return echoed.has_value(); }));
  CHECK(*echoed == ping);
  flow.reset();
}

TEST_CASE("a backend of this warren's minor is handed over as the plugin made it") {
  Made made(bundled, "udp", udp_table());
  CHECK(made.backend->carries() == sdk::Backend::Carries::datagrams);
  CHECK(std::string(typeid(*made.backend).name()).find("OlderAbiBackend") == std::string::npos);
}
