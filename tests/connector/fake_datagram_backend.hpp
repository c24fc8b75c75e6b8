#pragma once
// A datagram backend for the connector's UDP tests: its flows live in
// memory, so a test sees what core sent to the service, answers for it, or
// refuses (an open, or later as ICMP port unreachable would).

#include <warren/sdk/backend.hpp>
#include <warren/sdk/completion.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace warren::test {

inline sdk::Datagram bytes(std::string_view text) {
  sdk::Datagram d;
  for (char c : text) d.push_back(static_cast<std::byte>(c));
  return d;
}

/// What the fake backend's flow of one client saw; outlives the flow.
struct FlowRecord {
  sdk::StreamInfo info;
  std::vector<sdk::Datagram> sent;  ///< datagrams core sent to the service
  bool destroyed = false;
  std::uint64_t receive_drops = 0;  ///< what the flow reports as dropped on its way in
};

class FakeFlow final : public sdk::DatagramFlow {
 public:
  FakeFlow(boost::asio::any_io_executor executor, std::shared_ptr<FlowRecord> record)
      : executor_(std::move(executor)), record_(std::move(record)) {}
  ~FakeFlow() override {
    record_->destroyed = true;
    sdk::complete_if_pending(executor_, handler_, sdk::error_code(boost::asio::error::operation_aborted),
                             sdk::Datagram{});
  }
  bool send(std::span<const std::byte> payload) override {
    record_->sent.emplace_back(payload.begin(), payload.end());
    return true;
  }
  /// The service answers.
  void reply(sdk::Datagram d) { sdk::complete_if_pending(executor_, handler_, sdk::error_code(), std::move(d)); }
  /// ICMP port unreachable.
  void refuse() {
    sdk::complete_if_pending(executor_, handler_, sdk::make_error_code(sdk::errc::backend_refused), sdk::Datagram{});
  }
  bool receiving() const { return static_cast<bool>(handler_); }
  std::uint64_t receive_drops() const override { return record_->receive_drops; }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override { sdk::store_handler(handler_, std::move(handler)); }

  boost::asio::any_io_executor executor_;
  std::shared_ptr<FlowRecord> record_;
  sdk::DatagramHandler handler_;
};

class FakeDatagramBackend final : public sdk::Backend {
 public:
  explicit FakeDatagramBackend(boost::asio::io_context& io) : io_(io) {}
  Carries carries() const override { return Carries::datagrams; }

  bool refuse_opens = false;
  std::vector<std::shared_ptr<FlowRecord>> records;
  std::vector<FakeFlow*> live;  ///< by open order; valid while its record is not destroyed

 private:
  void async_connect_impl(sdk::StreamInfo,
                          boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> h) override {
    sdk::complete_later(io_.get_executor(), std::move(h), sdk::make_error_code(sdk::errc::backend_refused),
                        sdk::ByteStreamPtr{});
  }
  void async_open_flow_impl(sdk::StreamInfo info, sdk::DatagramFlowHandler handler) override {
    auto record = std::make_shared<FlowRecord>();
    record->info = std::move(info);
    records.push_back(record);
    if (refuse_opens) {
      live.push_back(nullptr);
      return sdk::complete_later(io_.get_executor(), std::move(handler),
                                 sdk::make_error_code(sdk::errc::backend_refused), sdk::DatagramFlowPtr{});
    }
    auto flow = std::make_unique<FakeFlow>(io_.get_executor(), record);
    live.push_back(flow.get());
    sdk::complete_later(io_.get_executor(), std::move(handler), sdk::error_code(),
                        sdk::DatagramFlowPtr(std::move(flow)));
  }

  boost::asio::io_context& io_;
};

}  // namespace warren::test
