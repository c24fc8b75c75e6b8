// The loader against real shared libraries: bundled plugins and deliberately
// bad fixtures. A refused fixture's factory aborts, so a pass also proves the
// loader never called into it.

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <fstream>

#include <unistd.h>

using namespace warren;
using core::LoadedPlugin;
using core::PluginLoader;
using core::RefusedPlugin;

namespace {

const std::filesystem::path fixtures = WARREN_TEST_PLUGIN_DIR;
const std::filesystem::path bundled = WARREN_PLUGIN_DIR;

std::string refusal(const PluginLoader& loader, const std::filesystem::path& file,
                    std::optional<sdk::PluginKind> kind = std::nullopt) {
  auto result = loader.open(file, kind);
  auto* refused = std::get_if<RefusedPlugin>(&result);
  REQUIRE(refused != nullptr);
  return refused->reason;
}

}  // namespace

TEST_CASE("a missing file is refused") {
  PluginLoader loader({fixtures});
  CHECK(refusal(loader, fixtures / "libwarren-policy-nothing.so") == "no such file");
}

TEST_CASE("a file that is not a shared library is refused") {
  auto dir = std::filesystem::temp_directory_path() / "warren-loader-test";
  std::filesystem::create_directories(dir);
  auto file = dir / "libwarren-policy-text.so";
  std::ofstream(file) << "not an ELF file\n";
  PluginLoader loader({dir});
  CHECK_THAT(refusal(loader, file), Catch::Contains("cannot be loaded as a shared library"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a shared library without a descriptor is refused") {
  PluginLoader loader({fixtures});
  CHECK_THAT(refusal(loader, fixtures / "libwarren-policy-plain.so"),
             Catch::Contains("exports no 'warren_plugin' descriptor"));
}

TEST_CASE("a plugin of another ABI major is refused with both versions") {
  PluginLoader loader({fixtures});
  auto reason = refusal(loader, fixtures / "libwarren-policy-future.so");
  CHECK_THAT(reason, Catch::Contains("built for plugin ABI " + std::to_string(WARREN_ABI_MAJOR + 1) + ".0"));
  CHECK_THAT(reason, Catch::Contains("this warren uses ABI " + std::to_string(WARREN_ABI_MAJOR) + "." +
                                     std::to_string(WARREN_ABI_MINOR)));
}

TEST_CASE("a plugin needing a newer ABI minor is refused") {
  PluginLoader loader({fixtures});
  CHECK_THAT(refusal(loader, fixtures / "libwarren-policy-newer.so"), Catch::Contains("upgrade warren"));
}

TEST_CASE("a plugin built with another toolchain is refused, naming both fingerprints") {
  PluginLoader loader({fixtures});
  auto reason = refusal(loader, fixtures / "libwarren-policy-foreign.so");
  CHECK_THAT(reason, Catch::Contains("gcc-4.8.5"));
  CHECK_THAT(reason, Catch::Contains(WARREN_BUILD_FINGERPRINT));
}

TEST_CASE("a plugin of the wrong kind is refused when a kind is asked for") {
  PluginLoader loader({fixtures});
  auto found = loader.find(sdk::PluginKind::policy, "disguised");
  auto* why = std::get_if<std::string>(&found);
  REQUIRE(why != nullptr);
  CHECK_THAT(*why, Catch::Contains("libwarren-policy-disguised.so"));
  CHECK_THAT(*why, Catch::Contains("it is a backend plugin, but a policy plugin is needed"));
}

TEST_CASE("find names the file of a refused plugin") {
  PluginLoader loader({fixtures});
  auto found = loader.find(sdk::PluginKind::policy, "future");
  auto* why = std::get_if<std::string>(&found);
  REQUIRE(why != nullptr);
  CHECK_THAT(*why, Catch::Contains((fixtures / "libwarren-policy-future.so").string()));
}

TEST_CASE("an unknown name lists the plugins of that kind, with a suggestion") {
  PluginLoader loader({bundled, fixtures});
  auto found = loader.find(sdk::PluginKind::policy, "bakoff");
  auto* why = std::get_if<std::string>(&found);
  REQUIRE(why != nullptr);
  CHECK_THAT(*why, Catch::Contains("unknown policy plugin 'bakoff'; did you mean 'backoff'?"));
  CHECK_THAT(*why, Catch::Contains("libwarren-policy-backoff.so"));
  CHECK_THAT(*why, Catch::Contains("fixed ("));
  CHECK_THAT(*why, !Catch::Contains("tcp"));  // only plugins of the kind asked for
}

TEST_CASE("scan lists good plugins and reports refused ones") {
  PluginLoader loader({bundled, fixtures});
  auto scan = loader.scan();
  auto has = [&](sdk::PluginKind kind, std::string name) {
    return std::any_of(scan.plugins.begin(), scan.plugins.end(),
                       [&](const LoadedPlugin& p) { return p.kind == kind && p.name == name; });
  };
  CHECK(has(sdk::PluginKind::discovery, "static"));
  CHECK(has(sdk::PluginKind::backend, "tcp"));
  CHECK(has(sdk::PluginKind::policy, "backoff"));
  CHECK(has(sdk::PluginKind::policy, "fixed"));
  CHECK(has(sdk::PluginKind::backend, "disguised"));  // valid as what it says it is
  CHECK(scan.refused.size() == 4);                      // future, newer, foreign, plain
}

TEST_CASE("an earlier search folder shadows a later one") {
  auto dir = std::filesystem::temp_directory_path() / "warren-shadow-test";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixtures / "libwarren-policy-fixed.so", dir / "libwarren-policy-fixed.so",
                             std::filesystem::copy_options::overwrite_existing);
  PluginLoader loader({dir, fixtures});
  auto found = loader.find(sdk::PluginKind::policy, "fixed");
  REQUIRE(std::holds_alternative<LoadedPlugin>(found));
  CHECK(std::get<LoadedPlugin>(found).file == dir / "libwarren-policy-fixed.so");
  CHECK(loader.scan().shadowed.size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a plugin object keeps its library loaded after the loader is gone") {
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  sdk::Diagnostics diagnostics;
  core::PluginPtr<sdk::Policy> policy;
  {
    PluginLoader loader({fixtures});
    auto found = loader.find(sdk::PluginKind::policy, "fixed");
    REQUIRE(std::holds_alternative<LoadedPlugin>(found));
    auto table = sdk::testing::TableBuilder("policy").set("delay", "250ms").table();
    policy = loader.create<sdk::Policy>(std::get<LoadedPlugin>(found), table, context, diagnostics);
  }
  REQUIRE(diagnostics.ok());
  REQUIRE(policy);
  // The loader and LoadedPlugin are gone; only the deleter holds the library.
  sdk::BackoffState state;
  sdk::SeededRandom random(1);
  CHECK(policy->backoff()->next_delay(state, {}, random) == std::chrono::milliseconds(250));
  policy.reset();
}

TEST_CASE("a factory's config errors come back as diagnostics and no object") {
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  PluginLoader loader({fixtures});
  auto found = loader.find(sdk::PluginKind::policy, "fixed");
  REQUIRE(std::holds_alternative<LoadedPlugin>(found));
  sdk::Diagnostics diagnostics;
  diagnostics.error({"other.toml", 1, 1}, "an earlier, unrelated error");  // must not sway the factory
  auto table = sdk::testing::TableBuilder("policy", "p.toml").set("delay", "soon").table();
  auto policy = loader.create<sdk::Policy>(std::get<LoadedPlugin>(found), table, context, diagnostics);
  CHECK(!policy);
  REQUIRE(diagnostics.list().size() == 2);
  CHECK(diagnostics.list()[1].to_string() == "p.toml:2:1: 'delay' = \"soon\" is not a duration; write a number "
                                             "with a unit: \"250ms\", \"30s\", \"5m\"");
}

// dlopen of a path already loaded returns the loaded library without reading
// the file: a plugin replaced on disk (a SIGHUP reload after an upgrade) must
// be loaded anew, and the old library must stay for the objects made from it.
TEST_CASE("a plugin file replaced on disk is loaded anew while the old library stays for its objects") {
  auto dir = std::filesystem::temp_directory_path() / ("warren-replace-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "libwarren-policy-swapped.so";
  std::filesystem::copy_file(fixtures / "libwarren-policy-fixed.so", file,
                             std::filesystem::copy_options::overwrite_existing);
  PluginLoader loader({dir});
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  sdk::Diagnostics diagnostics;

  auto first = loader.open(file);
  REQUIRE(std::holds_alternative<LoadedPlugin>(first));
  CHECK(std::get<LoadedPlugin>(first).name == "fixed");
  CHECK_FALSE(std::get<LoadedPlugin>(first).loaded_anew);
  auto table = sdk::testing::TableBuilder("policy").set("delay", "250ms").table();
  auto old_object = loader.create<sdk::Policy>(std::get<LoadedPlugin>(first), table, context, diagnostics);
  REQUIRE(old_object);
  first = RefusedPlugin{};  // only the object holds the old library now

  // Replaced as an upgrade does: a new file renamed over the old name.
  std::filesystem::copy_file(bundled / "libwarren-policy-backoff.so", dir / "incoming.so");
  std::filesystem::rename(dir / "incoming.so", file);
  auto second = loader.open(file);
  REQUIRE(std::holds_alternative<LoadedPlugin>(second));
  CHECK(std::get<LoadedPlugin>(second).name == "backoff");
  CHECK(std::get<LoadedPlugin>(second).loaded_anew);
  // Opened again while in use, it is the same library, not another copy.
  auto third = loader.open(file);
  REQUIRE(std::holds_alternative<LoadedPlugin>(third));
  CHECK(std::get<LoadedPlugin>(third).library == std::get<LoadedPlugin>(second).library);
  // Nothing is left beside the plugin: the private copy is gone once mapped.
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);

  // The old object still runs the old library's code.
  sdk::BackoffState state;
  sdk::SeededRandom random(1);
  CHECK(old_object->backoff()->next_delay(state, {}, random) == std::chrono::milliseconds(250));
  old_object.reset();
  std::filesystem::remove_all(dir);
}
