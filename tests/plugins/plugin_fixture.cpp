#include "plugin_fixture.hpp"

namespace warren::test {

std::vector<std::string> PluginFixture::errors() const {
  std::vector<std::string> out;
  for (const auto& d : diagnostics.list()) out.push_back(d.message);
  return out;
}

HungListener::HungListener(boost::asio::io_context& io) : acceptor(io) {
  using boost::asio::ip::tcp;
  acceptor.open(tcp::v4());
  acceptor.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  acceptor.listen(0);
  for (int i = 0; i < 8; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    bool done = false;
    s->async_connect(endpoint(), [&](sdk::error_code) { done = true; });
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    fillers.push_back(std::move(s));
    if (!done) break;  // this one hangs: the queue is full
  }
}

}  // namespace warren::test
