// The edge's stateless resets (transports/quic/stateless_reset.*,
// reset_limiter.hpp): the secret kept in state_dir, the packets' sizes and
// tokens, and the budget per source and in total, in virtual time.

#include "connection_id.hpp"
#include "reset_limiter.hpp"
#include "stateless_reset.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>

namespace warren::quic {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempState {
  fs::path path = fs::temp_directory_path() / ("warren-reset-" + std::to_string(std::random_device{}()));
  ~TempState() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

ngtcp2_cid some_cid(std::uint8_t fill) {
  ngtcp2_cid cid{};
  cid.datalen = cid_length;
  std::fill(cid.data, cid.data + cid_length, fill);
  return cid;
}

std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> token_of(const StatelessReset& reset, std::uint8_t fill) {
  std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> token{};
  REQUIRE(reset.token(some_cid(fill), token.data()));
  return token;
}

boost::asio::ip::address source(std::uint32_t i) { return boost::asio::ip::address_v4(0x0a000000u | i); }

TEST_CASE("reset secret: made once in state_dir with mode 0600, and the same after a restart", "[quic][reset]") {
  TempState state;
  std::string why, note;
  auto first = StatelessReset::load_or_create(state.path / "nested", why, note);
  REQUIRE(first);
  CHECK(why.empty());
  CHECK(note.empty());
  auto file = state.path / "nested" / StatelessReset::file_name;
  REQUIRE(fs::exists(file));
  CHECK(fs::file_size(file) == StatelessReset::secret_size);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto second = StatelessReset::load_or_create(state.path / "nested", why, note);
  REQUIRE(second);
  CHECK(token_of(*first, 1) == token_of(*second, 1));
  CHECK(token_of(*first, 1) != token_of(*first, 2));
  // No state_dir: a secret for this run only.
  auto ephemeral = StatelessReset::load_or_create({}, why, note);
  REQUIRE(ephemeral);
  CHECK(token_of(*ephemeral, 1) != token_of(*first, 1));
}

TEST_CASE("reset secret: a file of the wrong size or that cannot be read is a clear error", "[quic][reset]") {
  TempState state;
  fs::create_directories(state.path);
  auto file = state.path / StatelessReset::file_name;
  std::string why, note;
  SECTION("too short") {
    std::ofstream(file) << "short";
    CHECK_FALSE(StatelessReset::load_or_create(state.path, why, note));
    CHECK_THAT(why, Catch::Contains(file.string()) && Catch::Contains("holds 5 bytes, not 32"));
  }
  SECTION("a folder where the file should be") {
    fs::create_directories(file);
    CHECK_FALSE(StatelessReset::load_or_create(state.path, why, note));
    CHECK_THAT(why, Catch::Contains("cannot read the QUIC stateless reset secret " + file.string()));
  }
  SECTION("readable by others: used, with a note saying how to fix it") {
    std::ofstream(file) << std::string(StatelessReset::secret_size, 'k');
    fs::permissions(file, fs::perms(0644));
    CHECK(StatelessReset::load_or_create(state.path, why, note));
    CHECK_THAT(note, Catch::Contains("chmod 600 " + file.string()));
  }
}

TEST_CASE("reset packets: shorter than their trigger, ending in the connection ID's token", "[quic][reset]") {
  std::array<std::uint8_t, StatelessReset::secret_size> secret{};
  secret.fill(7);
  StatelessReset reset(secret);
  auto cid = some_cid(3);
  auto token = token_of(reset, 3);
  std::uint8_t out[StatelessReset::max_size];
  const std::size_t min = StatelessReset::min_trigger(cid_length);
  CHECK(min == 37);
  CHECK(reset.write(out, min - 1, cid) == 0);  // too small to answer with anything shorter that still looks real
  for (std::size_t trigger : {min, std::size_t{43}, std::size_t{44}, std::size_t{60}, std::size_t{1200}}) {
    std::size_t n = reset.write(out, trigger, cid);
    INFO("trigger " << trigger);
    CHECK(n == std::min<std::size_t>(trigger - 1, 42));
    CHECK((out[0] & 0xc0) == 0x40);  // a short header with the fixed bit
    CHECK(std::equal(token.begin(), token.end(), out + n - token.size()));
  }
}

TEST_CASE("reset budget: a burst per source, then one every 250 ms", "[quic][reset]") {
  ResetLimiter limiter;
  auto t = 10s;
  for (int i = 0; i < 8; ++i) CHECK(limiter.allow(source(1), t));
  CHECK_FALSE(limiter.allow(source(1), t));
  CHECK(limiter.allow(source(2), t));  // another source has its own budget
  CHECK_FALSE(limiter.allow(source(1), t + 200ms));
  CHECK(limiter.allow(source(1), t + 250ms));
  CHECK_FALSE(limiter.allow(source(1), t + 250ms));
  CHECK(limiter.allow(source(1), t + 250ms + 2s));
}

TEST_CASE("reset budget: at most the total burst at once, then 1000 per second for all sources", "[quic][reset]") {
  ResetLimiter limiter;
  auto t = 10s;
  int sent = 0;
  for (std::uint32_t i = 0; i < 10'000; ++i) sent += limiter.allow(source(i), t) ? 1 : 0;
  CHECK(sent == 200);
  // One second of a spoofed flood from 10,000 sources, 100,000 packets.
  sent = 0;
  for (std::uint32_t i = 0; i < 100'000; ++i)
    sent += limiter.allow(source(i % 10'000), t + std::chrono::microseconds(10 * (i + 1))) ? 1 : 0;
  CHECK(sent >= 990);
  CHECK(sent <= 1001);
}

TEST_CASE("reply budget: a quiet source keeps its replies while a thousand sources flood", "[quic][reset]") {
  // The Retry budget's shape (accept_queue.hpp). The quiet source loses its
  // replies only if flooders drain both its slots: with 1,024 flooders in
  // 65,536 slots about one salt in a thousand does that; the salt is fixed
  // here so the case is deterministic. The single-slot table of before
  // starved the quiet source whenever one flooder shared its slot.
  ResetLimiter limiter({.per_source_burst = 8, .per_source_per_second = 2, .total_burst = 1e9,
                        .total_per_second = 1e9, .slots = 65536, .salt = 0x5eed});
  auto t = 10s;
  int quiet_allowed = 0, flood_allowed = 0;
  for (int round = 0; round < 100; ++round) {  // 10 s: 1,024 sources x 20 Initials/s
    auto now = t + round * 100ms;
    for (std::uint32_t i = 0; i < 1024; ++i)
      for (int k = 0; k < 2; ++k) flood_allowed += limiter.allow(source(1000 + i), now) ? 1 : 0;
    if (round % 10 == 0) quiet_allowed += limiter.allow(source(1), now) ? 1 : 0;  // one Initial a second
  }
  CHECK(quiet_allowed == 10);
  // Each flooding source gets its burst and then at most twice its rate
  // (two slots), not its 20/s.
  CHECK(flood_allowed <= 1024 * (8 + 2 * 2 * 10));
}

}  // namespace
}  // namespace warren::quic
