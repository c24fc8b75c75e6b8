// Writes the generated seed corpora: frames from the protocol tests' sample
// messages, and a real QUIC client's first flight (caught on a plain UDP
// socket) for fuzz_quic_datagrams. Usage:
//   fuzz_seed_writer SOURCE_DIR/tests/fuzz/corpus
// (tests/fuzz/README.md). Run again when control.capnp or the QUIC client changes.
#include "core/protocol/frame_encoder.hpp"
#include "quic_connection.hpp"
#include "quic_datagrams.hpp"
#include "sample_messages.hpp"
#include "udp_endpoint.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace warren::core::protocol;

void write(const fs::path& dir, const std::string& name, const FrameBytes& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
}

FrameBytes joined(std::initializer_list<FrameBytes> parts) {
  FrameBytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

class QuietLogger final : public warren::sdk::Logger {
 public:
  bool enabled(warren::sdk::LogLevel) const override { return false; }
  void log(warren::sdk::LogLevel, std::string_view) override {}
};

/// The datagrams a QuicConnection::dial sends before any answer.
std::vector<FrameBytes> client_first_flight() {
  using boost::asio::ip::udp;
  namespace quic = warren::quic;
  boost::asio::io_context io;
  udp::socket edge(io, udp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  edge.non_blocking(true);
  warren::sdk::error_code ec;
  auto endpoint = quic::UdpEndpoint::open(io.get_executor(), udp::endpoint(boost::asio::ip::address_v4::loopback(), 0), ec);
  endpoint->start();
  QuietLogger logger;
  quic::PeerCheck check{{}, "", true, "warren-fuzz"};
  quic::ConnectionLimits limits{quic::QuicSettings{}, std::chrono::seconds(30), std::chrono::seconds(10), {}};
  std::string why;
  auto connection = quic::QuicConnection::dial(endpoint, edge.local_endpoint(), check, limits, logger, why);
  if (!connection) {
    std::fprintf(stderr, "dial: %s\n", why.c_str());
    std::exit(1);
  }
  connection->start([](const warren::sdk::error_code&) {});
  io.poll();
  std::vector<FrameBytes> flight;
  FrameBytes buffer(65536);
  udp::endpoint from;
  while (true) {
    std::size_t n = edge.receive_from(boost::asio::buffer(buffer), from, 0, ec);
    if (ec) break;
    flight.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  connection->close({});
  io.restart();
  io.poll();  // the connection drops its self-reference in a posted handler
  return flight;
}

void write_quic_seeds(const fs::path& dir) {
  auto flight = client_first_flight();
  if (flight.empty()) {
    std::fprintf(stderr, "the client sent nothing\n");
    std::exit(1);
  }
  const char* modes[] = {"automatic", "always", "never"};
  for (std::uint8_t mode = 0; mode < 3; ++mode) {
    FrameBytes input{mode};
    for (const auto& d : flight) warren::fuzz::append_datagram(input, d);
    write(dir, std::string("first-flight-retry-") + modes[mode], input);
  }
  // The flight twice (a retransmission), then a short-header packet for an
  // unknown connection and a truncated copy of the Initial.
  FrameBytes input{2};
  for (int i = 0; i < 2; ++i)
    for (const auto& d : flight) warren::fuzz::append_datagram(input, d);
  FrameBytes short_header(40, 0x5a);
  short_header[0] = 0x41;
  warren::fuzz::append_datagram(input, short_header);
  warren::fuzz::append_datagram(input, std::span(flight[0]).first(std::min<std::size_t>(flight[0].size(), 60)));
  write(dir, "first-flight-twice-then-junk", input);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_writer CORPUS_DIR\n");
    return 2;
  }
  fs::path root = argv[1];
  auto control = test::every_control_message();
  for (std::size_t i = 0; i < control.size(); ++i)
    write(root / "fuzz_control_frame", "message-" + std::to_string(i), *encode(control[i]));
  // Frames back to back, as a control stream carries them.
  write(root / "fuzz_control_frame", "register-then-heartbeat", joined({*encode(control[0]), *encode(control[7])}));
  auto replies = test::every_stream_reply();
  for (std::size_t i = 0; i < replies.size(); ++i)
    write(root / "fuzz_control_frame", "reply-" + std::to_string(i), *encode(replies[i]));

  std::vector<StreamHeader> headers = {test::sample_stream_header(),
                                       {"[2001:db8::7]:443", "tcp:443", StreamKind::tcp},
                                       {"203.0.113.9:5353", "udp:20053", StreamKind::udp},
                                       {"", "", StreamKind::tcp}};
  for (std::size_t i = 0; i < headers.size(); ++i)
    write(root / "fuzz_stream_header", "header-" + std::to_string(i), *encode(headers[i]));
  // A header and the client's first bytes, in one read.
  FrameBytes client = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'};
  write(root / "fuzz_stream_header", "header-then-client-bytes", joined({*encode(headers[0]), client}));
  write_quic_seeds(root / "fuzz_quic_datagrams");
  return 0;
}
