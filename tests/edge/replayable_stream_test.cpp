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

namespace {

/// A leg's data stream that records each write the edge makes on it.
class CountingStream final : public sdk::ByteStream {
 public:
  CountingStream(sdk::ByteStreamPtr inner, std::vector<std::string>& writes)
      : inner_(std::move(inner)), writes_(writes) {}
  executor_type get_executor() override { return inner_->get_executor(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void abort() override { inner_->abort(); }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    inner_->async_read_some(buffer, std::move(handler));
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override {
    writes_.emplace_back(static_cast<const char*>(buffer.data()), buffer.size());
    inner_->async_write_some(buffer, std::move(handler));
  }

  sdk::ByteStreamPtr inner_;
  std::vector<std::string>& writes_;
};

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("the stream header and the client bytes that waited for the stream go out in one write", "[edge][replay]") {
  boost::asio::io_context io;
  auto [client, public_side] = stream_pair(io);
  std::vector<std::string> writes;
  std::vector<std::unique_ptr<UnixStream>> connector_ends;
  DispatchHandler open = [&](sdk::error_code, Dispatch) {};
  ReplayHooks hooks;
  hooks.reopen = [&](const std::set<LegId>&, DispatchHandler done) { open = std::move(done); };
  auto tunnel = std::make_unique<ReplayableStream>(io.get_executor(), ReplayLimits{}, sdk::Clock::now(), hooks);
  auto core = tunnel->core();
  // The request was read at accept: the splice writes it before any stream is open.
  splice(std::move(public_side), std::move(tunnel), bytes_of("GET / HTTP/1.0\r\n\r\n"), [](const SpliceResult&) {});
  io.restart();
  io.poll();
  auto dispatch = [&](LegId leg) {
    auto [edge_end, connector_end] = stream_pair(io);
    connector_ends.push_back(std::move(connector_end));
    core->dispatched({}, Dispatch{leg, std::make_unique<CountingStream>(std::move(edge_end), writes), true,
                                  bytes_of("HDR" + std::to_string(leg))});
  };
  dispatch(1);
  std::string got(22, '\0');
  bool read = false;
  boost::asio::async_read(*connector_ends[0], boost::asio::buffer(got),
                          [&](sdk::error_code, std::size_t) { read = true; });
  REQUIRE(run_until(io, [&] { return read; }));
  CHECK(got == "HDR1GET / HTTP/1.0\r\n\r\n");
  CHECK(writes == std::vector<std::string>{"HDR1GET / HTTP/1.0\r\n\r\n"});

  // Replayed on another leg: that leg's header and the kept bytes, again in one write.
  writes.clear();
  core->leg_lost(1);
  dispatch(2);
  read = false;
  boost::asio::async_read(*connector_ends[1], boost::asio::buffer(got),
                          [&](sdk::error_code, std::size_t) { read = true; });
  REQUIRE(run_until(io, [&] { return read; }));
  CHECK(got == "HDR2GET / HTTP/1.0\r\n\r\n");
  CHECK(writes == std::vector<std::string>{"HDR2GET / HTTP/1.0\r\n\r\n"});
  CHECK(core->state().kept().size() == 18);
}

TEST_CASE("a stream header goes out alone when the client has sent nothing yet", "[edge][replay]") {
  // A server-speaks-first protocol (SSH, SMTP): the connector must get the
  // header, and reach its backend, before any client byte.
  boost::asio::io_context io;
  auto [client, public_side] = stream_pair(io);
  std::vector<std::string> writes;
  ReplayHooks hooks;
  hooks.reopen = [](const std::set<LegId>&, DispatchHandler) {};
  auto tunnel = std::make_unique<ReplayableStream>(io.get_executor(), ReplayLimits{}, sdk::Clock::now(), hooks);
  auto core = tunnel->core();
  splice(std::move(public_side), std::move(tunnel), {}, [](const SpliceResult&) {});
  auto [edge_end, connector_end] = stream_pair(io);
  core->dispatched({},
                   Dispatch{1, std::make_unique<CountingStream>(std::move(edge_end), writes), true, bytes_of("HDR1")});
  auto read_exactly = [&](std::size_t n) {
    std::string got(n, '\0');
    bool read = false;
    boost::asio::async_read(*connector_end, boost::asio::buffer(got),
                            [&](sdk::error_code, std::size_t) { read = true; });
    REQUIRE(run_until(io, [&] { return read; }));
    return got;
  };
  CHECK(read_exactly(4) == "HDR1");
  auto late = std::make_shared<std::string>("late");
  boost::asio::async_write(*client, boost::asio::buffer(*late), [late](sdk::error_code, std::size_t) {});
  CHECK(read_exactly(4) == "late");
  CHECK(writes == std::vector<std::string>{"HDR1", "late"});
}

TEST_CASE("a splice over an unanswered stream is freed with its io_context, as when an edge stops", "[edge][replay]") {
  // The splice's pending read is kept by the stream until the connector
  // answers, and that handler owns the splice: destroying the io_context
  // must break the cycle, as it destroys Asio's own pending handlers.
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> splice_alive = alive;
  {
    boost::asio::io_context io;
    auto [client, public_side] = stream_pair(io);
    ReplayHooks hooks;
    hooks.reopen = [](const std::set<LegId>&, DispatchHandler) {};
    auto tunnel = std::make_unique<ReplayableStream>(io.get_executor(), ReplayLimits{}, sdk::Clock::now(), hooks);
    auto core = tunnel->core();
    splice(std::move(public_side), std::move(tunnel), {}, [alive = std::move(alive)](const SpliceResult&) {});
    std::unique_ptr<UnixStream> connector_end;
    SECTION("no stream open yet") {}
    SECTION("the stream open, its reply not arrived") {
      auto [edge_end, far_end] = stream_pair(io);
      connector_end = std::move(far_end);
      core->dispatched({}, Dispatch{1, std::move(edge_end), true, bytes_of("HDR1")});
      std::string got(4, '\0');
      bool read = false;
      boost::asio::async_read(*connector_end, boost::asio::buffer(got),
                              [&](sdk::error_code, std::size_t) { read = true; });
      REQUIRE(run_until(io, [&] { return read; }));
      CHECK(core->waiting_on(1));
    }
    io.restart();
    io.poll();
    REQUIRE_FALSE(splice_alive.expired());
  }
  CHECK(splice_alive.expired());
}
