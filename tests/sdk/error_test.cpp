#include <warren/sdk/error.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace warren::sdk;

TEST_CASE("warren error codes carry their category and a message") {
  error_code ec = errc::auth_failed;
  CHECK(ec.category().name() == std::string("warren"));
  CHECK(ec.message() == "authentication failed");
  CHECK(ec == errc::auth_failed);
  CHECK(ec != errc::dial_failed);
}

TEST_CASE("fatal errors are the ones retrying cannot fix") {
  CHECK(is_fatal(errc::auth_failed));
  CHECK(is_fatal(errc::config_invalid));
  CHECK(is_fatal(errc::certificate_mismatch));
  CHECK_FALSE(is_fatal(errc::dial_failed));
  CHECK_FALSE(is_fatal(errc::idle_timeout));
  CHECK_FALSE(is_fatal(errc::rate_limited));
}

TEST_CASE("categories compare equal by id, as they must across plugin libraries") {
  // A second instance stands in for the copy inside a hidden-visibility plugin.
  static constexpr detail::ErrorCategory other_copy;
  CHECK(&other_copy != &category());
  CHECK(error_code(2, other_copy) == error_code(2, category()));
}

TEST_CASE("every error code has one row: a unique stable name and a message") {
  std::set<std::string> names;
  for (int value = 1; value <= static_cast<int>(errc::peer_unreachable); ++value) {
    const ErrcInfo* info = find_errc(value);
    REQUIRE(info != nullptr);
    CHECK(names.insert(info->name).second);
    CHECK(error_code(value, category()).message() == info->message);
  }
  CHECK(name(errc::duplicate_registration) == std::string("duplicate_registration"));
  CHECK(name(make_error_code(errc::rate_limited)) == "rate_limited");
  CHECK(name(error_code(111, boost::system::system_category())) == "system:111");
  CHECK(name(static_cast<errc>(999)) == std::string("unknown"));
}
