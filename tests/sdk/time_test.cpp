#include <warren/sdk/time.hpp>

#include <catch2/catch.hpp>

using namespace warren::sdk;
using namespace std::chrono_literals;

TEST_CASE("durations parse with units") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration(".5s") == 500ms);
  CHECK(parse_duration("10us") == 10us);
  CHECK(parse_duration("7ns") == 7ns);
  CHECK(parse_duration("0s") == 0s);
}

TEST_CASE("durations without a unit or with junk are refused") {
  for (const char* bad : {"", "30", "s", "-1s", "1.s2", "1 s", "1sec", "1d", "1e3s", "99999999999h", "."})
    CHECK_FALSE(parse_duration(bad));
}

TEST_CASE("durations format back exactly") {
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(2h) == "2h");
  CHECK(format_duration(0s) == "0s");
  CHECK(format_duration(3us) == "3us");
  for (Duration d : std::initializer_list<Duration>{1ms, 999ms, 1s, 61s, 3601s, 1234567us}) CHECK(parse_duration(format_duration(d)) == d);
}
