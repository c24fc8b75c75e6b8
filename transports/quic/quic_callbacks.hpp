#pragma once
// The ngtcp2 callback tables: one-line trampolines to QuicConnection members.

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace warren::quic {

const ngtcp2_callbacks& client_callbacks();
const ngtcp2_callbacks& server_callbacks();
/// For ngtcp2_crypto_conn_ref: finds the ngtcp2_conn of a QuicConnection.
ngtcp2_conn* conn_from_ref(ngtcp2_crypto_conn_ref* ref);

}  // namespace warren::quic
