// ConfigSchema: one declaration per key reads a table into a struct and
// describes the keys. Exact values and messages, in the FILE:LINE:COL form.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren::sdk;
using testing::item;
using testing::TableBuilder;
using namespace std::chrono_literals;

namespace {

enum class Mode { off, fast, safe };

struct Sample {
  std::string name = "web";
  std::optional<std::string> label;
  bool enabled = true;
  int count = 3;
  std::uint16_t port = 8080;
  std::int64_t big = -5;
  std::size_t size = 64;
  double ratio = 0.5;
  Duration wait = 250ms;
  Mode mode = Mode::fast;
  Endpoint target{"127.0.0.1", 80};
  std::vector<std::string> tags{"a", "b"};
  std::vector<Endpoint> peers;
};

const ConfigSchema<Sample>& sample_schema() {
  using S = Sample;
  static const auto schema =
      ConfigSchema<S>("a table with one key of each type")
          .string("name", &S::name, "a name")
          .string("label", &S::label, "an optional label")
          .boolean("enabled", &S::enabled, "on or off")
          .integer("count", &S::count, "how many", {.min = 1, .max = 10})
          .integer("port", &S::port, "a port")
          .integer("big", &S::big, "any integer")
          .integer("size", &S::size, "a size")
          .number("ratio", &S::ratio, "a fraction", {.min = 0.0, .max = 1.0})
          .duration("wait", &S::wait, "a pause", {.min = 1ms})
          .choice("mode", &S::mode, {{"off", Mode::off}, {"fast", Mode::fast}, {"safe", Mode::safe}}, "how")
          .endpoint("target", &S::target, "where to")
          .string_list("tags", &S::tags, "labels")
          .endpoint_list("peers", &S::peers, "other addresses", "peer");
  return schema;
}

std::vector<std::string> messages(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.list()) out.push_back(x.to_string());
  return out;
}

/// Reads `table` with `schema`; the config, or the messages it gave.
template <typename C>
std::pair<std::optional<C>, std::vector<std::string>> read(const ConfigSchema<C>& schema, const ConfigTable& table) {
  Diagnostics d;
  auto config = schema.read(table, d);
  CHECK(config.has_value() == d.ok());
  return {std::move(config), messages(d)};
}

}  // namespace

TEST_CASE("schema: an empty table gives the struct's own defaults") {
  auto [c, errors] = read(sample_schema(), TableBuilder().table());
  REQUIRE(c);
  CHECK(errors.empty());
  CHECK(c->name == "web");
  CHECK_FALSE(c->label);
  CHECK(c->enabled);
  CHECK(c->count == 3);
  CHECK(c->port == 8080);
  CHECK(c->big == -5);
  CHECK(c->size == 64);
  CHECK(c->ratio == 0.5);
  CHECK(c->wait == 250ms);
  CHECK(c->mode == Mode::fast);
  CHECK(c->target == Endpoint{"127.0.0.1", 80});
  CHECK(c->tags == std::vector<std::string>{"a", "b"});
  CHECK(c->peers.empty());
}

TEST_CASE("schema: every type is read into its member") {
  auto [c, errors] = read(sample_schema(), TableBuilder()
                                               .set("name", "api")
                                               .set("label", "blue")
                                               .set("enabled", false)
                                               .set("count", 10)
                                               .set("port", 65535)
                                               .set("big", -9'000'000'000LL)
                                               .set("size", 1 << 20)
                                               .set("ratio", 1)  // an integer is a number too
                                               .set("wait", "1m30s")
                                               .set("mode", "safe")
                                               .set("target", "[::1]:7844")
                                               .set("tags", {item("x")})
                                               .set("peers", {item("10.0.0.1:1"), item("edge.test:2")})
                                               .table());
  INFO(errors.size());
  REQUIRE(c);
  CHECK(c->name == "api");
  CHECK(c->label == "blue");
  CHECK_FALSE(c->enabled);
  CHECK(c->count == 10);
  CHECK(c->port == 65535);
  CHECK(c->big == -9'000'000'000LL);
  CHECK(c->size == std::size_t{1} << 20);
  CHECK(c->ratio == 1.0);
  CHECK(c->wait == 90s);
  CHECK(c->mode == Mode::safe);
  CHECK(c->target == Endpoint{"::1", 7844});
  CHECK(c->tags == std::vector<std::string>{"x"});
  CHECK(c->peers == std::vector<Endpoint>{{"10.0.0.1", 1}, {"edge.test", 2}});
}

TEST_CASE("schema: a wrong type or an out-of-range value names the key at its location") {
  auto [c, errors] = read(sample_schema(), TableBuilder("listen[1]", "edge.toml")
                                               .set("enabled", "yes")
                                               .set("count", 11)
                                               .set("ratio", 1.5)
                                               .set("wait", "0s")
                                               .table());
  CHECK_FALSE(c);
  CHECK(errors == std::vector<std::string>{
                      "edge.toml:2:1: 'enabled' must be true or false, not a string",
                      "edge.toml:3:1: 'count' = 11 is out of range: must be between 1 and 10",
                      "edge.toml:4:1: 'ratio' = 1.5 is out of range: must be between 0 and 1",
                      "edge.toml:5:1: 'wait' = 0s is out of range: must be at least 1ms",
                  });
}

TEST_CASE("schema: an integer member narrower than int64 cannot wrap") {
  // 70000 would be 4464 in a uint16; -1 would be 2^64-1 in a size_t.
  CHECK(read(sample_schema(), TableBuilder().set("port", 70000).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'port' = 70000 is out of range: must be between 0 and 65535"});
  CHECK(read(sample_schema(), TableBuilder().set("port", -1).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'port' = -1 is out of range: must be between 0 and 65535"});
  CHECK(read(sample_schema(), TableBuilder().set("size", -1).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'size' = -1 is out of range: must be at least 0"});
  CHECK(read(sample_schema(), TableBuilder().set("count", 1LL << 32).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'count' = 4294967296 is out of range: must be between 1 and 10"});

  // A declared range wider than the member is cut to the member's limits.
  struct Narrow {
    std::int8_t level = 0;
  };
  auto narrow = ConfigSchema<Narrow>().integer("level", &Narrow::level, "a level", {.min = -1000, .max = 1000});
  CHECK(read(narrow, TableBuilder().set("level", 300).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'level' = 300 is out of range: must be between -128 and 127"});
  CHECK(read(narrow, TableBuilder().set("level", -128).table()).first->level == -128);
  CHECK(narrow.keys().at(0).range == "between -128 and 127");
}

TEST_CASE("schema: a missing required key is an error naming the key and its doc") {
  struct Target {
    Endpoint address;
    bool verbose = false;
  };
  auto schema = ConfigSchema<Target>()
                    .endpoint("address", &Target::address, "the local service, host:port")
                    .required()
                    .boolean("verbose", &Target::verbose, "say more");
  auto [c, errors] = read(schema, TableBuilder("backend", "tunnel.toml").set("verbose", true).table());
  CHECK_FALSE(c);
  CHECK(errors == std::vector<std::string>{
                      "tunnel.toml:1:1: missing required key 'address' in [backend] (the local service, host:port)"});
  // Misspelt, it is reported once: as the unknown key that explains the missing one.
  std::tie(c, errors) = read(schema, TableBuilder("backend", "tunnel.toml").set("adress", "127.0.0.1:80").table());
  CHECK(errors == std::vector<std::string>{"tunnel.toml:2:1: unknown key 'adress' in [backend]; did you mean "
                                           "'address'?"});
}

TEST_CASE("schema: a choice maps its words to an enum, and its default shows as a word") {
  CHECK(read(sample_schema(), TableBuilder().set("mode", "off").table()).first->mode == Mode::off);
  CHECK(
      read(sample_schema(), TableBuilder().set("mode", "sfe").table()).second ==
      std::vector<std::string>{"test.toml:2:1: 'mode' = \"sfe\" is not one of off, fast, safe; did you mean 'safe'?"});
  auto keys = sample_schema().keys();
  auto mode = std::find_if(keys.begin(), keys.end(), [](const KeySpec& k) { return k.name == "mode"; });
  REQUIRE(mode != keys.end());
  CHECK(mode->type == "one of off, fast, safe");
  CHECK(mode->default_text == "\"fast\"");
}

TEST_CASE("schema: an optional string member stays empty when the key is absent") {
  auto [c, errors] = read(sample_schema(), TableBuilder().set("name", "x").table());
  REQUIRE(c);
  CHECK_FALSE(c->label.has_value());
  CHECK(read(sample_schema(), TableBuilder().set("label", "").table()).first->label == std::string());
  CHECK(read(sample_schema(), TableBuilder().set("label", 3).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'label' must be a string, not an integer"});
}

TEST_CASE("schema: an endpoint list reports each bad or repeated element where it is written") {
  auto [c, errors] =
      read(sample_schema(),
           TableBuilder().set("peers", {item("a:1"), item("nowhere"), item("a:1"), item("[::1]:99999")}).table());
  CHECK_FALSE(c);
  CHECK(errors == std::vector<std::string>{"test.toml:2:1: peer \"nowhere\": missing ':PORT'",
                                           "test.toml:2:1: peer \"a:1\" is listed twice",
                                           "test.toml:2:1: peer \"[::1]:99999\": port 99999 is out of range 1-65535"});
  // Without a name for one element, the key names it.
  struct Edges {
    std::vector<Endpoint> edges;
  };
  auto schema = ConfigSchema<Edges>().endpoint_list("edges", &Edges::edges, "edges");
  CHECK(read(schema, TableBuilder().set("edges", {item("x")}).table()).second ==
        std::vector<std::string>{"test.toml:2:1: 'edges' entry \"x\": missing ':PORT'"});
}

TEST_CASE("schema: an endpoint member with no default host is unset, not required") {
  struct Admin {
    Endpoint address;
  };
  auto schema = ConfigSchema<Admin>().endpoint("address", &Admin::address, "where to serve /metrics");
  auto [c, errors] = read(schema, TableBuilder().table());
  REQUIRE(c);
  CHECK(c->address.host.empty());
  auto keys = schema.keys();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].default_text == "");
  CHECK_FALSE(keys[0].required);
  CHECK(read(schema, TableBuilder().set("address", "127.0.0.1:9100").table()).first->address ==
        Endpoint{"127.0.0.1", 9100});
}

TEST_CASE("schema: an unknown key is an error with a did-you-mean") {
  CHECK(read(sample_schema(), TableBuilder("backend", "tunnel.toml").set("wiat", "1s").table()).second ==
        std::vector<std::string>{"tunnel.toml:2:1: unknown key 'wiat' in [backend]; did you mean 'wait'?"});
  // allow(): a key read elsewhere is not unknown.
  struct Empty {};
  CHECK(read(ConfigSchema<Empty>().allow("plugin"), TableBuilder().set("plugin", "tcp").table()).second.empty());
  CHECK(read(ConfigSchema<Empty>(), TableBuilder().set("plugin", "tcp").table()).second ==
        std::vector<std::string>{"test.toml:2:1: unknown key 'plugin' in [plugin]"});
}

namespace {

struct Window {
  std::uint32_t low = 10;
  std::uint32_t high = 100;
};
struct Outer {
  bool on = true;
  Window window;
};

const ConfigSchema<Window>& window_schema() {
  static const auto schema = ConfigSchema<Window>("a window")
                                 .integer("low", &Window::low, "lower bound")
                                 .integer("high", &Window::high, "upper bound")
                                 .check([](const Window& w, const CheckContext& at) {
                                   if (w.low > w.high) at.error("low", "'low' must not exceed 'high'");
                                 });
  return schema;
}

}  // namespace

TEST_CASE("schema: include reads the inner schema's keys into a member and runs its checks") {
  auto outer = ConfigSchema<Outer>("outer")
                   .boolean("on", &Outer::on, "switch")
                   .include(window_schema(), &Outer::window)
                   .check([](const Outer& o, const CheckContext& at) {
                     if (!o.on && at.has("high")) at.error("high", "'high' needs on = true");
                   });
  auto [c, errors] = read(outer, TableBuilder().set("low", 5).set("high", 6).table());
  REQUIRE(c);
  CHECK(c->on);
  CHECK(c->window.low == 5);
  CHECK(c->window.high == 6);

  CHECK(read(outer, TableBuilder().set("high", 6).set("low", 7).table()).second ==
        std::vector<std::string>{"test.toml:3:1: 'low' must not exceed 'high'"});
  CHECK(read(outer, TableBuilder().set("on", false).set("high", 200).table()).second ==
        std::vector<std::string>{"test.toml:3:1: 'high' needs on = true"});
  // A key neither part declares is still unknown, once.
  CHECK(read(outer, TableBuilder().set("hihg", 6).table()).second ==
        std::vector<std::string>{"test.toml:2:1: unknown key 'hihg' in [plugin]; did you mean 'high'?"});
  std::vector<std::string> names;
  for (const auto& k : outer.keys()) names.push_back(k.name);
  CHECK(names == std::vector<std::string>{"on", "low", "high"});
}

TEST_CASE("schema: checks run only after every key read cleanly, and report at the key or the table") {
  int runs = 0;
  auto schema = ConfigSchema<Window>()
                    .integer("low", &Window::low, "lower bound")
                    .integer("high", &Window::high, "upper bound")
                    .check([&runs](const Window& w, const CheckContext& at) {
                      ++runs;
                      if (w.low > w.high) at.error("high", "'high' must be at least 'low'");
                    });
  CHECK(read(schema, TableBuilder().set("low", "x").table()).second.size() == 1);
  CHECK(runs == 0);
  CHECK(read(schema, TableBuilder("t", "f.toml").set("low", 500).table()).second ==
        std::vector<std::string>{"f.toml:1:1: 'high' must be at least 'low'"});  // absent: the table's location
  CHECK(runs == 1);
}

TEST_CASE("schema: keys lists name, type, default, range, required and doc exactly") {
  struct Small {
    Duration wait = 250ms;
    std::uint16_t port = 8080;
    Mode mode = Mode::fast;
    Endpoint target;
    std::optional<std::string> label;
    std::vector<std::string> tags{"a"};
    double ratio = 0.25;
    bool loud = false;
  };
  auto schema = ConfigSchema<Small>("a small table")
                    .duration("wait", &Small::wait, "how long", {.min = 1ms, .max = 60s})
                    .integer("port", &Small::port, "which port")
                    .choice("mode", &Small::mode, {{"off", Mode::off}, {"fast", Mode::fast}}, "how")
                    .endpoint("target", &Small::target, "where")
                    .required()
                    .string("label", &Small::label, "a label")
                    .string_list("tags", &Small::tags, "tags")
                    .number("ratio", &Small::ratio, "a share", {.min = 0.0})
                    .boolean("loud", &Small::loud, "say more");
  CHECK(schema.summary() == "a small table");
  auto keys = schema.keys();
  REQUIRE(keys.size() == 8);
  auto same = [](const KeySpec& k, const KeySpec& want) {
    INFO(k.name << " | " << k.type << " | " << k.default_text << " | " << k.range << " | " << k.required << " | "
                << k.doc);
    CHECK(k.name == want.name);
    CHECK(k.type == want.type);
    CHECK(k.default_text == want.default_text);
    CHECK(k.range == want.range);
    CHECK(k.required == want.required);
    CHECK(k.doc == want.doc);
  };
  same(keys[0], {"wait", "duration", "\"250ms\"", "between 1ms and 1m", false, "how long"});
  same(keys[1], {"port", "integer", "8080", "between 0 and 65535", false, "which port"});
  same(keys[2], {"mode", "one of off, fast", "\"fast\"", "", false, "how"});
  same(keys[3], {"target", "host:port", "", "", true, "where"});
  same(keys[4], {"label", "string", "", "", false, "a label"});
  same(keys[5], {"tags", "array of strings", "[\"a\"]", "", false, "tags"});
  same(keys[6], {"ratio", "number", "0.25", "at least 0", false, "a share"});
  same(keys[7], {"loud", "boolean", "false", "", false, "say more"});
}
