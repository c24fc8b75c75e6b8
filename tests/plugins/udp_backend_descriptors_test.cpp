// The udp backend on a connector out of descriptors (trial finding: 400
// flows under `ulimit -n 200` refused 211 with no word why). The opens that
// fail run while the limit is low; the loop, and so every log line, runs
// only after it is restored: nothing else in the test may need a descriptor
// meanwhile (under UBSan a first type check of a virtual call opens a pipe).

#include "plugin_fixture.hpp"
#include "udp_flow_helpers.hpp"

#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>

using namespace warren;
using namespace warren::test;
using sdk::testing::TableBuilder;

namespace {

/// Lowers the soft open-file limit so that exactly `free` descriptor numbers
/// below it are unused, and restores it when it goes. Descriptors already
/// open above the new limit stay usable; only new ones are refused (EMFILE).
class ScarceDescriptors {
 public:
  explicit ScarceDescriptors(int free) {
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlim_t limit = 0;
    for (int unused = 0; unused < free; ++limit)
      if (fcntl(static_cast<int>(limit), F_GETFD) == -1) ++unused;  // probing opens nothing
    rlimit low = saved_;
    low.rlim_cur = limit;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    low_ = limit;
  }
  /// The soft limit while this lives, and the hard one, as the warning writes them.
  std::string limits() const {
    return "open-file limit " + std::to_string(low_) + ", hard limit " +
           (saved_.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(saved_.rlim_max));
  }
  ~ScarceDescriptors() { setrlimit(RLIMIT_NOFILE, &saved_); }
  ScarceDescriptors(const ScarceDescriptors&) = delete;
  ScarceDescriptors& operator=(const ScarceDescriptors&) = delete;

 private:
  rlimit saved_{};
  rlim_t low_ = 0;
};

std::size_t lines_with(const PluginFixture& f, const std::string& words, sdk::LogLevel level) {
  std::size_t n = 0;
  for (const auto& [at, line] : f.logger.lines) n += at == level && line.find(words) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("udp backend out of descriptors: flows refused, one warning that says to raise the limit") {
  test::PluginFixture f;
  boost::asio::ip::udp::socket service(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto backend = f.make<sdk::Backend>(
      sdk::PluginKind::backend, "udp",
      TableBuilder().set("address", "127.0.0.1:" + std::to_string(service.local_endpoint().port())).table());
  REQUIRE(backend);
  // One flow opens, its completion run, while descriptors are plenty: every
  // call on the path has been made once before the limit goes down.
  auto warm = open_flow(f, *backend);
  REQUIRE(warm.flow);

  constexpr int free = 3;
  constexpr int refused = 20;
  std::vector<Opened> results;
  std::string limits;
  {
    ScarceDescriptors scarce(free);
    limits = scarce.limits();
    for (int i = 0; i < free + refused; ++i)
      backend->async_open_flow(sdk::StreamInfo{"203.0.113.7:" + std::to_string(10000 + i), "127.0.0.1:20053"},
                               [&](sdk::error_code ec, sdk::DatagramFlowPtr flow) {
                                 results.push_back(Opened{ec, std::move(flow)});
                               });
  }  // the limit is back before the loop runs a single completion
  CHECK(results.empty());
  run_until(f, [&] { return results.size() == free + refused; });
  REQUIRE(results.size() == free + refused);
  int opened = 0, backend_refused = 0;
  for (const auto& r : results) {
    opened += !r.ec && r.flow;
    backend_refused += r.ec == sdk::errc::backend_refused && !r.flow;
  }
  CHECK(opened == free);
  CHECK(backend_refused == refused);
  // The limit and the flows open as they were when the opens failed (the
  // warm flow and the `free` that opened), though the line was written after.
  CHECK(lines_with(f,
                   "cannot open a UDP socket for a new flow: Too many open files (" + std::to_string(1 + free) +
                       " flows open, " + limits +
                       "); 1 flow refused; each flow holds a descriptor: raise the connector's open-file limit "
                       "(ulimit -n, or LimitNOFILE= in its systemd unit",
                   sdk::LogLevel::warn) == 1);
  CHECK(lines_with(f, "Too many open files", sdk::LogLevel::warn) == 1);  // the other 19 held back

  // With descriptors again a new flow opens: within 10 s of the warning no
  // line says so; the 19 held back wait for the next line.
  auto later = open_flow(f, *backend);
  CHECK_FALSE(later.ec);
  CHECK(lines_with(f, "open again", sdk::LogLevel::info) == 0);
}
