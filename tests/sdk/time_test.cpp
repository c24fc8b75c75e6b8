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

TEST_CASE("durations for people are rounded to human units") {
  CHECK(human_duration(905267171ns) == "0.9 s");
  CHECK(human_duration(250ms) == "250 ms");
  CHECK(human_duration(4500ms) == "4.5 s");
  CHECK(human_duration(2s) == "2 s");
  CHECK(human_duration(9960ms) == "10 s");
  CHECK(human_duration(45s) == "45 s");
  CHECK(human_duration(125s) == "2 min 5 s");
  CHECK(human_duration(5min) == "5 min");
  CHECK(human_duration(200min) == "3 h 20 min");
  CHECK(human_duration(12345ns) == "12 us");
  CHECK(human_duration(999600ns) == "1 ms");
  CHECK(human_duration(850ns) == "850 ns");
  CHECK(human_duration(0s) == "0 s");
  CHECK(human_duration(-1500ms) == "-1.5 s");
}
