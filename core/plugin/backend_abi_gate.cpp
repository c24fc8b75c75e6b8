#include "core/plugin/backend_abi_gate.hpp"

namespace warren::core {
namespace {

/// A 1.4 plugin's flow: every call forwarded but receive_drops, which it
/// does not have.
class FlowWithoutDropCount final : public sdk::DatagramFlow {
 public:
  explicit FlowWithoutDropCount(sdk::DatagramFlowPtr inner) : inner_(std::move(inner)) {}
  bool send(std::span<const std::byte> payload) override { return inner_->send(payload); }
  std::uint64_t receive_drops() const override { return 0; }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override {
    inner_->async_receive(
        [h = std::move(handler)](sdk::error_code ec, sdk::Datagram d) mutable { std::move(h)(ec, std::move(d)); });
  }

  sdk::DatagramFlowPtr inner_;
};

/// A backend of an older minor, as core calls it.
class OlderAbiBackend final : public sdk::Backend {
 public:
  OlderAbiBackend(PluginPtr<sdk::Backend> inner, std::uint16_t abi_minor)
      : inner_(std::move(inner)), abi_minor_(abi_minor) {}

  Carries carries() const override { return abi_minor_ >= abi_minor_datagrams ? inner_->carries() : Carries::streams; }

 private:
  void async_connect_impl(
      sdk::StreamInfo info,
      boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler) override {
    inner_->async_connect(std::move(info), [h = std::move(handler)](sdk::error_code ec, sdk::ByteStreamPtr s) mutable {
      std::move(h)(ec, std::move(s));
    });
  }

  void async_open_flow_impl(sdk::StreamInfo info, sdk::DatagramFlowHandler handler) override {
    // Core opens flows only on a backend that carries datagrams: never on
    // one older than 1.4 (carries() above), whose vtable has no such slot.
    if (abi_minor_ < abi_minor_datagrams) return;
    inner_->async_open_flow(std::move(info),
                            [h = std::move(handler)](sdk::error_code ec, sdk::DatagramFlowPtr flow) mutable {
                              if (flow) flow = std::make_unique<FlowWithoutDropCount>(std::move(flow));
                              std::move(h)(ec, std::move(flow));
                            });
  }

  PluginPtr<sdk::Backend> inner_;
  std::uint16_t abi_minor_;
};

}  // namespace

PluginPtr<sdk::Backend> gate_backend_abi(PluginPtr<sdk::Backend> backend, std::uint16_t abi_minor) {
  if (!backend || abi_minor >= abi_minor_receive_drops) return backend;
  // The wrapper is core's code; the deleter still holds the plugin's library
  // (the inner object's own deleter does too).
  auto deleter = backend.get_deleter();
  return PluginPtr<sdk::Backend>(new OlderAbiBackend(std::move(backend), abi_minor), std::move(deleter));
}

}  // namespace warren::core
