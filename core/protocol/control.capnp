# warren's control protocol. On every transport connection the first
# bidirectional stream is the control stream: both sides write framed
# ControlMessage values on it (Cap'n Proto standard stream framing). Every
# other stream is a data stream the edge opens; it starts with exactly one
# framed StreamHeader, followed by the public client's raw bytes.
#
# Evolution: add fields and union members at the end only. A reader refuses
# a ControlMessage whose union member it does not know (a protocol error),
# so a new message kind needs a protocolVersion bump.
#
# Versions: 1 = the first six messages; 2 adds UnregisterAck and a promise
# that the connector keeps heartbeating while it drains. An edge accepts
# connectors of versions 1 and 2 (it sends UnregisterAck only to 2); a
# connector of version 2 is refused by an edge of version 1, so upgrade
# edges first.
#
# Stream replies came later too, without a version bump: a connector offers
# them (RegisterConnection.streamReplies) and sends them only when the edge
# says it reads them (Registered.streamReplies). An older peer on either side
# leaves the flag false, and data streams carry raw bytes as before.
#
# RegisterConnection.connectorId came later without a version bump: a new
# field is read as empty from an older connector (the edge treats all such
# connectors of a tunnel as one replica, as before), and an older edge
# ignores it (replicas then contend for leg indexes, as before). Nothing
# breaks either way, so no side needs to refuse the other.
@0xa63cb7b0021cbb77;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("warren::core::protocol::wire");

# Why the edge refused a registration. Mirrors warren::sdk::errc; the
# numbers here are the wire contract, independent of the C++ enum's.
enum RejectCode {
  unspecified @0;
  authFailed @1;
  duplicateRegistration @2;
  tunnelUnknown @3;
  tunnelLimit @4;
  streamLimit @5;
  rateLimited @6;
  portInUse @7;
  protocolError @8;
  protocolVersion @9;
  shuttingDown @10;
  configInvalid @11;
}

# Connector -> edge, first message on a connection's control stream.
struct RegisterConnection {
  protocolVersion @0 :UInt32;
  tunnelId @1 :Text;            # empty for a quick tunnel
  token @2 :Text;               # empty for a quick tunnel
  connIndex @3 :UInt8;          # which HA leg (0 .. ha_connections-1)
  replaceExisting @4 :Bool;     # a reconnect: evict a stale leg with this index
  clientVersion @5 :Text;       # "warren 0.1.0", for the edge's logs
  requestedPublicPort @6 :UInt16;  # 0: let the edge assign one
  quickTunnel @7 :Bool;         # with no id and token: ask the edge to assign id, token and
                                # address; with the assigned ones: join that quick tunnel
  connectorId @8 :Text;         # which connector process (replica) this leg belongs to;
                                # empty from connectors before replicas
  streamReplies @9 :Bool;       # this connector can answer each data stream with a
                                # StreamReply (sent only if Registered.streamReplies)
}

# Edge -> connector: the registration was accepted.
struct Registered {
  edgeId @0 :Text;
  location @1 :Text;            # region or site, for logs and leg spreading
  publicAddress @2 :Text;       # "host:port" public clients reach
  heartbeatIntervalMs @3 :UInt32;  # 0: the connector keeps its own default
  tunnelId @4 :Text;            # assigned for a quick tunnel; else the id sent
  token @5 :Text;               # assigned for a quick tunnel; else empty
  streamReplies @6 :Bool;       # the edge reads a StreamReply on every data stream of
                                # this leg: the connector must send one (see StreamReply)
  kind @7 :StreamKind;          # what the tunnel carries; an edge from before UDP
                                # tunnels sends nothing and reads as tcp (issue 13)
  flowIdleTimeoutMs @8 :UInt32; # udp: the edge ends a flow quiet this long (and says so
                                # with a close frame); the connector ends its half a little
                                # later should that frame be lost. 0 for tcp.
}

# Edge -> connector: the registration was refused.
struct Rejected {
  code @0 :RejectCode;
  message @1 :Text;
  fatal @2 :Bool;               # retrying cannot help (bad credentials …)
  retryAfterMs @3 :UInt32;      # a lower bound on the connector's next delay
}

# Either side; the peer answers with a HeartbeatAck echoing both fields,
# so the sender measures the round trip against its own clock.
struct Heartbeat {
  sequence @0 :UInt64;
  sentAtNs @1 :Int64;           # the sender's monotonic clock; opaque to the peer
}

struct HeartbeatAck {
  sequence @0 :UInt64;
  sentAtNs @1 :Int64;           # copied from the Heartbeat
}

# Connector -> edge: stop sending new streams on this leg; open ones may
# drain for the grace period before the connection closes.
struct Unregister {
  gracePeriodMs @0 :UInt32;
}

# Edge -> connector (protocol 2): the Unregister arrived, the edge opens no
# more streams on this leg, and every stream it opened on it has ended at the
# edge (it has the connector's last byte of each). `streamsOpened` counts
# them all (header written), so the connector knows when the last one has
# reached it; once its own side of each has ended too it closes the
# connection, and nothing in flight is lost.
struct UnregisterAck {
  streamsOpened @0 :UInt64;
}

struct ControlMessage {
  union {
    registerConnection @0 :RegisterConnection;
    registered @1 :Registered;
    rejected @2 :Rejected;
    heartbeat @3 :Heartbeat;
    heartbeatAck @4 :HeartbeatAck;
    unregister @5 :Unregister;
    unregisterAck @6 :UnregisterAck;   # protocol 2
  }
}

enum StreamKind {
  tcp @0;
  udp @1;
}

# Edge -> connector: the first frame on every data stream. A udp tunnel's leg
# has one data stream of kind udp, opened by the edge right after Registered:
# it carries flow frames as 2-byte length-prefixed records (core/datagram,
# core/udp/flow_frame.hpp) beside or instead of QUIC DATAGRAM frames, its
# clientAddress is empty, and no StreamReply is written on it.
struct StreamHeader {
  clientAddress @0 :Text;       # the public client's "address:port"
  listener @1 :Text;            # which public listener accepted it
  kind @2 :StreamKind;
}

# Why a connector refused a data stream. Mirrors warren::sdk::errc.
enum StreamRefusal {
  unspecified @0;
  backendRefused @1;
  backendTimeout @2;
  remoteNotAllowed @3;
  shuttingDown @4;
  kindUnsupported @5;
}

# Connector -> edge, the first frame on a data stream when both sides set
# streamReplies: written once the backend connection is up (accepted) or
# has failed (refused), before any backend byte. Until it arrives the edge
# keeps the client's bytes, so it can replay them on another leg if this
# stream dies unanswered.
struct StreamReply {
  union {
    accepted @0 :Void;
    refused @1 :StreamRefusal;
  }
}
