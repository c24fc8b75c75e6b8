#include "core/protocol/wire_convert.hpp"

#include <utility>

namespace warren::core::protocol {
namespace {

using sdk::errc;

struct CodePair {
  errc code;
  wire::RejectCode wire;
};

// The wire numbers are the contract; sdk::errc numbering may change freely.
// Keep in step with is_rejection_code().
constexpr CodePair kRejectCodes[] = {
    {errc::auth_failed, wire::RejectCode::AUTH_FAILED},
    {errc::duplicate_registration, wire::RejectCode::DUPLICATE_REGISTRATION},
    {errc::tunnel_unknown, wire::RejectCode::TUNNEL_UNKNOWN},
    {errc::tunnel_limit, wire::RejectCode::TUNNEL_LIMIT},
    {errc::stream_limit, wire::RejectCode::STREAM_LIMIT},
    {errc::rate_limited, wire::RejectCode::RATE_LIMITED},
    {errc::port_in_use, wire::RejectCode::PORT_IN_USE},
    {errc::protocol_error, wire::RejectCode::PROTOCOL_ERROR},
    {errc::protocol_version, wire::RejectCode::PROTOCOL_VERSION},
    {errc::shutting_down, wire::RejectCode::SHUTTING_DOWN},
    {errc::config_invalid, wire::RejectCode::CONFIG_INVALID},
};

wire::RejectCode to_wire_code(errc code) {
  for (const auto& pair : kRejectCodes)
    if (pair.code == code) return pair.wire;
  return wire::RejectCode::UNSPECIFIED;
}

// A code this build does not know (a newer edge) still reads as a refusal;
// the fatal flag, not the code, decides whether to retry.
errc from_wire_code(wire::RejectCode code) {
  for (const auto& pair : kRejectCodes)
    if (pair.wire == code) return pair.code;
  return errc::protocol_error;
}

struct RefusalPair {
  errc code;
  wire::StreamRefusal wire;
};

// Keep in step with is_stream_refusal_code().
constexpr RefusalPair kStreamRefusals[] = {
    {errc::backend_refused, wire::StreamRefusal::BACKEND_REFUSED},
    {errc::backend_timeout, wire::StreamRefusal::BACKEND_TIMEOUT},
    {errc::remote_not_allowed, wire::StreamRefusal::REMOTE_NOT_ALLOWED},
    {errc::shutting_down, wire::StreamRefusal::SHUTTING_DOWN},
    {errc::protocol_error, wire::StreamRefusal::KIND_UNSUPPORTED},
};

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::uint32_t millis32(std::chrono::milliseconds d) { return static_cast<std::uint32_t>(d.count()); }

struct ToWire {
  wire::ControlMessage::Builder out;

  void operator()(const RegisterConnection& m) {
    auto b = out.initRegisterConnection();
    b.setProtocolVersion(m.protocol_version);
    b.setTunnelId(m.tunnel_id);
    b.setToken(m.token);
    b.setConnIndex(m.conn_index);
    b.setReplaceExisting(m.replace_existing);
    b.setClientVersion(m.client_version);
    b.setRequestedPublicPort(m.requested_public_port);
    b.setQuickTunnel(m.quick_tunnel);
    b.setConnectorId(m.connector_id);
    b.setStreamReplies(m.stream_replies);
  }
  void operator()(const Registered& m) {
    auto b = out.initRegistered();
    b.setEdgeId(m.edge_id);
    b.setLocation(m.location);
    b.setPublicAddress(m.public_address);
    b.setHeartbeatIntervalMs(millis32(m.heartbeat_interval));
    b.setTunnelId(m.tunnel_id);
    b.setToken(m.token);
    b.setStreamReplies(m.stream_replies);
    b.setKind(m.kind == StreamKind::udp ? wire::StreamKind::UDP : wire::StreamKind::TCP);
    b.setFlowIdleTimeoutMs(millis32(m.flow_idle_timeout));
  }
  void operator()(const Rejected& m) {
    auto b = out.initRejected();
    b.setCode(to_wire_code(m.code));
    b.setMessage(m.message);
    b.setFatal(m.fatal);
    b.setRetryAfterMs(millis32(m.retry_after));
  }
  void operator()(const Heartbeat& m) {
    auto b = out.initHeartbeat();
    b.setSequence(m.sequence);
    b.setSentAtNs(m.sent_at_ns);
  }
  void operator()(const HeartbeatAck& m) {
    auto b = out.initHeartbeatAck();
    b.setSequence(m.sequence);
    b.setSentAtNs(m.sent_at_ns);
  }
  void operator()(const Unregister& m) { out.initUnregister().setGracePeriodMs(millis32(m.grace_period)); }
  void operator()(const UnregisterAck& m) { out.initUnregisterAck().setStreamsOpened(m.streams_opened); }
};

}  // namespace

void to_wire(wire::ControlMessage::Builder out, const ControlMessage& message) { std::visit(ToWire{out}, message); }

void to_wire(wire::StreamHeader::Builder out, const StreamHeader& header) {
  out.setClientAddress(header.client_address);
  out.setListener(header.listener);
  out.setKind(header.kind == StreamKind::udp ? wire::StreamKind::UDP : wire::StreamKind::TCP);
}

std::optional<ControlMessage> from_wire(wire::ControlMessage::Reader in, std::string& why) {
  using std::chrono::milliseconds;
  switch (in.which()) {
    case wire::ControlMessage::REGISTER_CONNECTION: {
      auto r = in.getRegisterConnection();
      RegisterConnection m;
      m.protocol_version = r.getProtocolVersion();
      m.tunnel_id = text(r.getTunnelId());
      m.token = text(r.getToken());
      m.conn_index = r.getConnIndex();
      m.replace_existing = r.getReplaceExisting();
      m.client_version = text(r.getClientVersion());
      m.requested_public_port = r.getRequestedPublicPort();
      m.quick_tunnel = r.getQuickTunnel();
      m.connector_id = text(r.getConnectorId());
      m.stream_replies = r.getStreamReplies();
      return m;
    }
    case wire::ControlMessage::REGISTERED: {
      auto r = in.getRegistered();
      Registered m;
      m.edge_id = text(r.getEdgeId());
      m.location = text(r.getLocation());
      m.public_address = text(r.getPublicAddress());
      m.heartbeat_interval = milliseconds(r.getHeartbeatIntervalMs());
      m.tunnel_id = text(r.getTunnelId());
      m.token = text(r.getToken());
      m.stream_replies = r.getStreamReplies();
      m.flow_idle_timeout = milliseconds(r.getFlowIdleTimeoutMs());
      switch (r.getKind()) {
        case wire::StreamKind::TCP: m.kind = StreamKind::tcp; return m;
        case wire::StreamKind::UDP: m.kind = StreamKind::udp; return m;
      }
      // A kind we do not know cannot be served: refuse the answer, not guess tcp.
      why = "unknown tunnel kind " + std::to_string(static_cast<unsigned>(r.getKind()));
      return std::nullopt;
    }
    case wire::ControlMessage::REJECTED: {
      auto r = in.getRejected();
      Rejected m;
      m.code = from_wire_code(r.getCode());
      m.message = text(r.getMessage());
      m.fatal = r.getFatal();
      m.retry_after = milliseconds(r.getRetryAfterMs());
      return m;
    }
    case wire::ControlMessage::HEARTBEAT: {
      auto r = in.getHeartbeat();
      return Heartbeat{r.getSequence(), r.getSentAtNs()};
    }
    case wire::ControlMessage::HEARTBEAT_ACK: {
      auto r = in.getHeartbeatAck();
      return HeartbeatAck{r.getSequence(), r.getSentAtNs()};
    }
    case wire::ControlMessage::UNREGISTER:
      return Unregister{milliseconds(in.getUnregister().getGracePeriodMs())};
    case wire::ControlMessage::UNREGISTER_ACK:
      return UnregisterAck{in.getUnregisterAck().getStreamsOpened()};
  }
  why = "unknown control message kind " + std::to_string(static_cast<unsigned>(in.which()));
  return std::nullopt;
}

std::optional<StreamHeader> from_wire(wire::StreamHeader::Reader in, std::string& why) {
  StreamHeader h;
  h.client_address = text(in.getClientAddress());
  h.listener = text(in.getListener());
  switch (in.getKind()) {
    case wire::StreamKind::TCP: h.kind = StreamKind::tcp; return h;
    case wire::StreamKind::UDP: h.kind = StreamKind::udp; return h;
  }
  // Unlike a rejection code, a stream kind we do not know cannot be served.
  why = "unknown stream kind " + std::to_string(static_cast<unsigned>(in.getKind()));
  return std::nullopt;
}

void to_wire(wire::StreamReply::Builder out, const StreamReply& reply) {
  if (!reply.refused) return out.setAccepted();
  auto code = wire::StreamRefusal::UNSPECIFIED;
  for (const auto& pair : kStreamRefusals)
    if (pair.code == *reply.refused) code = pair.wire;
  out.setRefused(code);
}

std::optional<StreamReply> from_wire(wire::StreamReply::Reader in, std::string& why) {
  switch (in.which()) {
    case wire::StreamReply::ACCEPTED: return StreamReply{};
    case wire::StreamReply::REFUSED: {
      // A refusal this build cannot name is still a refusal.
      for (const auto& pair : kStreamRefusals)
        if (pair.wire == in.getRefused()) return StreamReply{pair.code};
      return StreamReply{errc::backend_refused};
    }
  }
  why = "unknown stream reply kind " + std::to_string(static_cast<unsigned>(in.which()));
  return std::nullopt;
}

}  // namespace warren::core::protocol
