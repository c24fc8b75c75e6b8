// ReplayableStream spliced to a real client over socket pairs, with the
// legs played by the test: a stream whose connector dies before replying
// moves to another leg with the client's bytes intact; a refusal does the
// same; a leg without replies passes bytes as before; attempts run out.

#include "core/edge/replayable_stream.hpp"

#include "core/protocol/frame_encoder.hpp"
#include "core/splice/stream_splice.hpp"
#include "stream_pair.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using warren::test::run_until;
using warren::test::stream_pair;
using warren::test::UnixStream;

namespace {

/// The edge's public side, a ReplayableStream spliced to it, and the legs
/// the test opens on demand: leg n's connector end is connector(n).
struct Rig {
  boost::asio::io_context io;
  std::unique_ptr<UnixStream> client;
  std::shared_ptr<ReplayCore> core;
  std::vector<std::unique_ptr<UnixStream>> connector_ends;  ///< [leg - 1]
  std::vector<std::set<LegId>> reopened;                    ///< `tried` of every reopen
  std::vector<bool> leg_replies;                            ///< [leg - 1]: the leg sends replies
  int replays = 0;
  std::vector<sdk::errc> refusals;
  std::optional<sdk::error_code> gave_up;
  std::optional<SpliceResult> result;

  explicit Rig(ReplayLimits limits = {}, std::vector<bool> replies = {true, true, true, true}) : leg_replies(replies) {
    auto [c, public_side] = stream_pair(io);
    client = std::move(c);
    ReplayHooks hooks;
    hooks.reopen = [this](const std::set<LegId>& tried, DispatchHandler done) {
      reopened.push_back(tried);
      boost::asio::post(io, [this, done] { open_leg(done); });
    };
    hooks.replaying = [this](LegId, sdk::error_code, unsigned) { ++replays; };
    hooks.refused = [this](sdk::errc code) { refusals.push_back(code); };
    hooks.gave_up = [this](sdk::error_code ec) { gave_up = ec; };
    auto tunnel = std::make_unique<ReplayableStream>(io.get_executor(), limits, sdk::Clock::now(), std::move(hooks));
    core = tunnel->core();
    splice(std::move(public_side), std::move(tunnel), {}, [this](const SpliceResult& r) { result = r; });
    open_leg([this](sdk::error_code ec, Dispatch d) { core->dispatched(ec, std::move(d)); });
  }

  void open_leg(const DispatchHandler& done) {
    auto [edge_end, connector_end] = stream_pair(io);
    connector_ends.push_back(std::move(connector_end));
    LegId leg = connector_ends.size();
    done({}, Dispatch{leg, std::move(edge_end), leg_replies.at(leg - 1), {}});
  }

  UnixStream& connector(LegId leg) {
    REQUIRE(run_until(io, [&] { return connector_ends.size() >= leg; }));
    return *connector_ends[leg - 1];
  }

  std::string read_exactly(sdk::ByteStream& stream, std::size_t n) {
    std::string out(n, '\0');
    bool done = false;
    boost::asio::async_read(stream, boost::asio::buffer(out), [&](sdk::error_code ec, std::size_t got) {
      CHECK_FALSE(ec);
      out.resize(got);
      done = true;
    });
    REQUIRE(run_until(io, [&] { return done; }));
    return out;
  }

  void write_all(sdk::ByteStream& stream, std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    bool done = false;
    boost::asio::async_write(stream, boost::asio::buffer(*data), [&, data](sdk::error_code ec, std::size_t) {
      CHECK_FALSE(ec);
      done = true;
    });
    REQUIRE(run_until(io, [&] { return done; }));
  }

  void reply(LegId leg, const protocol::StreamReply& r, const std::string& then = {}) {
    auto frame = *protocol::encode(r);
    write_all(connector(leg), std::string(frame.begin(), frame.end()) + then);
  }
};

}  // namespace

TEST_CASE("a stream whose connector dies before replying is replayed on another leg with its bytes intact",
          "[edge][replay]") {
  Rig rig;
  rig.write_all(*rig.client, "GET /a HTTP/1.0\r\n\r\n");
  CHECK(rig.read_exactly(rig.connector(1), 19) == "GET /a HTTP/1.0\r\n\r\n");  // forwarded before any reply
  rig.connector_ends[0].reset();  // the connector dies: its stream ends unanswered

  CHECK(rig.read_exactly(rig.connector(2), 19) == "GET /a HTTP/1.0\r\n\r\n");
  CHECK(rig.reopened == std::vector<std::set<LegId>>{{1}});
  CHECK(rig.replays == 1);
  rig.reply(2, protocol::StreamReply{}, "HTTP/1.0 200 OK\r\n\r\n");
  CHECK(rig.read_exactly(*rig.client, 19) == "HTTP/1.0 200 OK\r\n\r\n");  // the reply itself never reaches the client
  rig.write_all(*rig.client, "more");
  CHECK(rig.read_exactly(rig.connector(2), 4) == "more");
  CHECK(rig.core->state().phase() == ReplayState::Phase::accepted);
  CHECK(rig.core->state().kept().empty());
  CHECK_FALSE(rig.gave_up);
}

TEST_CASE("losing the leg replays at once, and a refusal moves the stream too", "[edge][replay]") {
  Rig rig;
  rig.write_all(*rig.client, "hello");
  CHECK(rig.read_exactly(rig.connector(1), 5) == "hello");
  REQUIRE(rig.core->waiting_on(1));
  rig.core->leg_lost(1);  // the edge noticed the leg's death before its stream did
  CHECK(rig.read_exactly(rig.connector(2), 5) == "hello");
  rig.reply(2, protocol::StreamReply{sdk::errc::backend_refused});
  CHECK(rig.read_exactly(rig.connector(3), 5) == "hello");
  CHECK(rig.refusals == std::vector<sdk::errc>{sdk::errc::backend_refused});
  CHECK(rig.reopened == std::vector<std::set<LegId>>{{1}, {1, 2}});
  rig.reply(3, protocol::StreamReply{}, "world");
  CHECK(rig.read_exactly(*rig.client, 5) == "world");
  CHECK(rig.core->accepted_on(3));
}

TEST_CASE("the client is not read past the replay limit until the reply", "[edge][replay]") {
  Rig rig({8, 3, std::chrono::seconds(10)});
  rig.write_all(*rig.client, "0123456789abcdef");
  CHECK(rig.read_exactly(rig.connector(1), 8) == "01234567");
  // Nothing more arrives while the reply is missing.
  std::string more(8, '\0');
  std::size_t got = 0;
  boost::asio::async_read(rig.connector(1), boost::asio::buffer(more),
                          [&](sdk::error_code, std::size_t n) { got = n; });
  rig.io.restart();
  rig.io.run_for(std::chrono::milliseconds(300));
  CHECK(got == 0);
  CHECK(rig.core->state().kept().size() == 8);
  rig.reply(1, protocol::StreamReply{});
  REQUIRE(run_until(rig.io, [&] { return got == 8; }));
  CHECK(more == "89abcdef");
}

TEST_CASE("a leg without replies gets the bytes as before, the replayed ones first", "[edge][replay]") {
  Rig rig({}, {true, false});
  rig.write_all(*rig.client, "abc");
  CHECK(rig.read_exactly(rig.connector(1), 3) == "abc");
  rig.connector_ends[0].reset();
  CHECK(rig.read_exactly(rig.connector(2), 3) == "abc");
  REQUIRE(run_until(rig.io, [&] { return rig.core->accepted_on(2); }));
  rig.write_all(*rig.client, "def");
  CHECK(rig.read_exactly(rig.connector(2), 3) == "def");
  rig.write_all(rig.connector(2), "xyz");  // no reply frame: raw bytes from the start
  CHECK(rig.read_exactly(*rig.client, 3) == "xyz");
}

TEST_CASE("when the attempts run out the client is reset", "[edge][replay]") {
  Rig rig({64 * 1024, 2, std::chrono::seconds(10)});
  rig.write_all(*rig.client, "x");
  CHECK(rig.read_exactly(rig.connector(1), 1) == "x");
  rig.connector_ends[0].reset();
  CHECK(rig.read_exactly(rig.connector(2), 1) == "x");
  rig.connector_ends[1].reset();
  REQUIRE(run_until(rig.io, [&] { return rig.result.has_value(); }));
  CHECK(rig.gave_up);
  CHECK(rig.result->error);
  CHECK(rig.reopened.size() == 1);
}

TEST_CASE("a garbled reply resets the client rather than risk a second delivery", "[edge][replay]") {
  Rig rig;
  rig.write_all(*rig.client, "x");
  CHECK(rig.read_exactly(rig.connector(1), 1) == "x");
  rig.write_all(rig.connector(1), std::string("\xff\xff\xff\xff\0\0\0\0", 8));
  REQUIRE(run_until(rig.io, [&] { return rig.result.has_value(); }));
  CHECK(rig.gave_up == sdk::make_error_code(sdk::errc::protocol_error));
  CHECK(rig.reopened.empty());
}

TEST_CASE("a client that half-closed before the reply has its bytes and its end replayed", "[edge][replay]") {
  Rig rig;
  rig.write_all(*rig.client, "ping");
  rig.client->shutdown_send();
  CHECK(rig.read_exactly(rig.connector(1), 4) == "ping");
  rig.connector_ends[0].reset();
  auto& second = rig.connector(2);
  CHECK(rig.read_exactly(second, 4) == "ping");
  char byte = 0;
  sdk::error_code end;
  bool done = false;
  second.async_read_some(boost::asio::buffer(&byte, 1), [&](sdk::error_code ec, std::size_t) {
    end = ec;
    done = true;
  });
  REQUIRE(run_until(rig.io, [&] { return done; }));
  CHECK(end == boost::asio::error::eof);
  rig.reply(2, protocol::StreamReply{}, "pong");
  CHECK(rig.read_exactly(*rig.client, 4) == "pong");
}
