#include <warren/sdk/endpoint.hpp>

#include <catch2/catch.hpp>

using namespace warren::sdk;

TEST_CASE("endpoints parse names, IPv4 and bracketed IPv6") {
  CHECK(parse_endpoint("127.0.0.1:8080") == Endpoint{"127.0.0.1", 8080});
  CHECK(parse_endpoint("edge.example.com:7844") == Endpoint{"edge.example.com", 7844});
  CHECK(parse_endpoint("[::1]:7844") == Endpoint{"::1", 7844});
  CHECK(parse_endpoint("[::1]:7844")->to_string() == "[::1]:7844");
}

TEST_CASE("bad endpoints say what is wrong") {
  auto why = [](const char* text) {
    std::string reason;
    CHECK_FALSE(parse_endpoint(text, &reason));
    return reason;
  };
  CHECK(why("127.0.0.1") == "missing ':PORT'");
  CHECK(why("127.0.0.1:") == "missing port after ':'");
  CHECK(why(":80") == "missing host before ':'");
  CHECK(why("host:http") == "port 'http' is not a number");
  CHECK(why("host:70000") == "port 70000 is out of range 1-65535");
  CHECK(why("host:0") == "port 0 is not allowed here");
  CHECK(why("::1:80") == "IPv6 addresses need brackets: [ADDR]:PORT");
  CHECK(why("[::1]80") == "missing ':PORT' after ']'");
  CHECK(why("ho st:80") == "invalid character ' ' in host");
}
