// ngtcp2 calls C functions with our QuicConnection as user_data and the
// StreamState as stream_user_data; each trampoline just forwards.

#include "quic_callbacks.hpp"
#include "quic_connection.hpp"

#include <gnutls/crypto.h>

#include <cstring>

namespace warren::quic {
namespace {

QuicConnection& self(void* user_data) { return *static_cast<QuicConnection*>(user_data); }
StreamState* stream(void* stream_user_data) { return static_cast<StreamState*>(stream_user_data); }

int handshake_completed(ngtcp2_conn*, void* u) { return self(u).on_handshake_completed(); }
int stream_open(ngtcp2_conn*, std::int64_t id, void* u) { return self(u).on_stream_open(id); }
int recv_stream_data(ngtcp2_conn*, std::uint32_t flags, std::int64_t id, std::uint64_t, const std::uint8_t* data,
                     std::size_t len, void* u, void* s) {
  return self(u).on_recv_stream_data(flags, id, data, len, stream(s));
}
int acked_stream_data_offset(ngtcp2_conn*, std::int64_t, std::uint64_t offset, std::uint64_t len, void* u, void* s) {
  return self(u).on_acked_stream_data(offset, len, stream(s));
}
int stream_close(ngtcp2_conn*, std::uint32_t, std::int64_t id, std::uint64_t, void* u, void* s) {
  return self(u).on_stream_close(id, stream(s));
}
int stream_reset(ngtcp2_conn*, std::int64_t, std::uint64_t, std::uint64_t, void* u, void* s) {
  return self(u).on_stream_reset(stream(s));
}
int stream_stop_sending(ngtcp2_conn*, std::int64_t, std::uint64_t, void* u, void* s) {
  return self(u).on_stream_stop_sending(stream(s));
}
int extend_max_local_streams_bidi(ngtcp2_conn*, std::uint64_t, void* u) {
  return self(u).on_extend_max_local_streams();
}
int extend_max_stream_data(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* u, void*) {
  return self(u).on_extend_max_stream_data(id);
}
int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen, void* u) {
  return self(u).on_new_connection_id(cid, token, cidlen);
}
int remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* u) { return self(u).on_remove_connection_id(cid); }
int dcid_status(ngtcp2_conn*, int type, std::uint64_t, const ngtcp2_cid*, const std::uint8_t* token, void* u) {
  return self(u).on_dcid_status(type, token);
}
int recv_datagram(ngtcp2_conn*, std::uint32_t, const std::uint8_t* data, std::size_t len, void* u) {
  return self(u).on_recv_datagram(data, len);
}
int recv_stateless_reset(ngtcp2_conn*, const ngtcp2_pkt_stateless_reset*, void* u) {
  return self(u).on_stateless_reset();
}
void random_bytes(std::uint8_t* dest, std::size_t len, const ngtcp2_rand_ctx*) {
  (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

ngtcp2_callbacks common_callbacks() {
  ngtcp2_callbacks cb{};
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.handshake_completed = handshake_completed;
  cb.stream_open = stream_open;
  cb.recv_stream_data = recv_stream_data;
  cb.acked_stream_data_offset = acked_stream_data_offset;
  cb.stream_close = stream_close;
  cb.stream_reset = stream_reset;
  cb.stream_stop_sending = stream_stop_sending;
  cb.extend_max_local_streams_bidi = extend_max_local_streams_bidi;
  cb.extend_max_stream_data = extend_max_stream_data;
  cb.get_new_connection_id = get_new_connection_id;
  cb.remove_connection_id = remove_connection_id;
  // No ack_datagram / lost_datagram: a datagram is never retransmitted, and
  // tracking each one would cost ngtcp2 an allocation per datagram.
  cb.recv_datagram = recv_datagram;
  cb.rand = random_bytes;
  return cb;
}

}  // namespace

const ngtcp2_callbacks& client_callbacks() {
  static const ngtcp2_callbacks cb = [] {
    ngtcp2_callbacks c = common_callbacks();
    c.client_initial = ngtcp2_crypto_client_initial_cb;
    c.recv_retry = ngtcp2_crypto_recv_retry_cb;
    c.dcid_status = dcid_status;
    c.recv_stateless_reset = recv_stateless_reset;
    return c;
  }();
  return cb;
}

const ngtcp2_callbacks& server_callbacks() {
  static const ngtcp2_callbacks cb = [] {
    ngtcp2_callbacks c = common_callbacks();
    c.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    return c;
  }();
  return cb;
}

ngtcp2_conn* conn_from_ref(ngtcp2_crypto_conn_ref* ref) { return self(ref->user_data).native(); }

int QuicConnection::on_handshake_completed() {
  if (!server_ && !tls_->alpn_agreed()) {
    callback_failure_ = sdk::make_error_code(sdk::errc::tls_failed);
    logger_.error("edge at " + remote_address() + " did not agree on ALPN " + alpn_protocol);
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  handshake_completed_ = true;
  traffic_at_handshake_ = HandshakeTraffic{bytes_sent_, bytes_received_};
  // Told from a fresh handler, not from inside ngtcp2: whoever waits may
  // take the connection and start using it at once.
  post_handshake_done();
  return 0;
}

int QuicConnection::on_new_connection_id(ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen) {
  if (!random_cid(*cid, cidlen)) return NGTCP2_ERR_CALLBACK_FAILURE;
  // An edge's tokens come from its static secret, so that after a restart
  // it can still prove a reset for this ID; a connector never sends resets.
  bool made = reset_secret_ ? reset_secret_->token(*cid, token)
                            : gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) == 0;
  if (!made) return NGTCP2_ERR_CALLBACK_FAILURE;
  endpoint_->add_route(*cid, weak_from_this());
  return 0;
}

int QuicConnection::on_remove_connection_id(const ngtcp2_cid* cid) {
  endpoint_->remove_route(*cid, this);
  return 0;
}

}  // namespace warren::quic

namespace warren::quic {

int QuicConnection::on_dcid_status(int type, const std::uint8_t* token) {
  if (!token || failed_) return 0;
  std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> key;
  std::memcpy(key.data(), token, key.size());
  if (type == NGTCP2_CONNECTION_ID_STATUS_TYPE_ACTIVATE) {
    endpoint_->add_reset_token(key.data(), weak_from_this());
    reset_tokens_.push_back(key);
  } else {
    endpoint_->remove_reset_token(key.data(), this);
    std::erase(reset_tokens_, key);
  }
  return 0;
}

int QuicConnection::on_stateless_reset() {
  reset_by_peer_ = true;
  return 0;
}

}  // namespace warren::quic
