#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

using namespace warren;

TEST_CASE("TOML becomes a tree with locations in document order") {
  sdk::Diagnostics d;
  auto root = core::read_toml_text("zeta = 1\n[backend]\nplugin = \"tcp\"\n  address = \"127.0.0.1:80\"\n", "t.toml", d);
  REQUIRE(root);
  REQUIRE(root->entries.size() == 2);
  CHECK(root->entries[0].key == "zeta");  // not sorted alphabetically
  const auto& backend = std::get<sdk::ConfigTable>(root->entries[1].value.value);
  CHECK(backend.path == "backend");
  REQUIRE(backend.entries.size() == 2);
  CHECK(backend.entries[1].key_where.to_string() == "t.toml:4:3");
  CHECK(backend.entries[1].value.where.to_string() == "t.toml:4:13");
}

TEST_CASE("a TOML syntax error is one diagnostic with its location") {
  sdk::Diagnostics d;
  CHECK_FALSE(core::read_toml_text("[tunnel]\nid = \"web\nx = 1\n", "bad.toml", d));
  REQUIRE(d.list().size() == 1);
  CHECK(d.list()[0].where.file == "bad.toml");
  CHECK(d.list()[0].where.line == 2);
}

TEST_CASE("a missing file is a diagnostic, not an exception") {
  sdk::Diagnostics d;
  CHECK_FALSE(core::read_toml_file("/nonexistent/warren.toml", d));
  REQUIRE(d.list().size() == 1);
  CHECK_THAT(d.list()[0].to_string(), Catch::StartsWith("/nonexistent/warren.toml: cannot read the file"));
}
