#include "initial_template.hpp"

#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace warren::tools {
namespace {

constexpr std::array<std::uint8_t, 20> initial_salt_v1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                                          0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::size_t dcid_length = 16;
constexpr std::size_t pn_length = 4;
constexpr std::size_t tag_length = 16;
constexpr char alpn[] = "warren/1";
constexpr char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE";

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("cannot make the Initial template: ") + what);
}

// ngtcp2's encrypt callback has no user data; this tool is single threaded
// and captures one packet, so a file-scope slot is enough.
std::vector<std::uint8_t>* capture_slot = nullptr;

int capture_encrypt(std::uint8_t* dest, const ngtcp2_crypto_aead* aead, const ngtcp2_crypto_aead_ctx* ctx,
                    const std::uint8_t* plaintext, std::size_t len, const std::uint8_t* nonce, std::size_t noncelen,
                    const std::uint8_t* aad, std::size_t aadlen) {
  if (capture_slot && capture_slot->empty()) capture_slot->assign(plaintext, plaintext + len);
  return ngtcp2_crypto_encrypt(dest, aead, ctx, plaintext, len, nonce, noncelen, aad, aadlen);
}

void rand_cb(std::uint8_t* dest, std::size_t len, const ngtcp2_rand_ctx*) {
  (void)gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}
int new_cid_cb(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token, std::size_t len, void*) {
  cid->datalen = len;
  return gnutls_rnd(GNUTLS_RND_NONCE, cid->data, len) == 0 &&
                 gnutls_rnd(GNUTLS_RND_NONCE, token, NGTCP2_STATELESS_RESET_TOKENLEN) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

struct Client {
  ngtcp2_conn* conn = nullptr;
  gnutls_session_t session = nullptr;
  gnutls_certificate_credentials_t credentials = nullptr;
  ngtcp2_crypto_conn_ref ref{};
  ~Client() {
    if (conn) ngtcp2_conn_del(conn);
    if (session) gnutls_deinit(session);
    if (credentials) gnutls_certificate_free_credentials(credentials);
  }
};

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) { return static_cast<Client*>(ref->user_data)->conn; }

// RFC 9001 §5: Initial keys come from the client's first DCID alone.
struct InitialKeys {
  std::array<std::uint8_t, 16> key;
  std::array<std::uint8_t, 12> iv;
  std::array<std::uint8_t, 16> hp;
};

InitialKeys derive_client_keys(const std::uint8_t* dcid, std::size_t dcidlen) {
  ngtcp2_crypto_md md;
  ngtcp2_crypto_md_init(&md, reinterpret_cast<void*>(static_cast<std::intptr_t>(GNUTLS_MAC_SHA256)));
  std::array<std::uint8_t, 32> initial_secret, client_secret;
  InitialKeys keys;
  auto label = [](const char* text) { return reinterpret_cast<const std::uint8_t*>(text); };
  check(ngtcp2_crypto_hkdf_extract(initial_secret.data(), &md, dcid, dcidlen, initial_salt_v1.data(),
                                   initial_salt_v1.size()) == 0 &&
            ngtcp2_crypto_hkdf_expand_label(client_secret.data(), client_secret.size(), &md, initial_secret.data(),
                                            initial_secret.size(), label("client in"), 9) == 0 &&
            ngtcp2_crypto_hkdf_expand_label(keys.key.data(), keys.key.size(), &md, client_secret.data(),
                                            client_secret.size(), label("quic key"), 8) == 0 &&
            ngtcp2_crypto_hkdf_expand_label(keys.iv.data(), keys.iv.size(), &md, client_secret.data(),
                                            client_secret.size(), label("quic iv"), 7) == 0 &&
            ngtcp2_crypto_hkdf_expand_label(keys.hp.data(), keys.hp.size(), &md, client_secret.data(),
                                            client_secret.size(), label("quic hp"), 7) == 0,
        "HKDF");
  return keys;
}

}  // namespace

InitialTemplate::InitialTemplate() {
  Client client;
  client.ref = {get_conn, &client};
  check(gnutls_certificate_allocate_credentials(&client.credentials) == 0, "credentials");
  check(gnutls_init(&client.session, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) == 0,
        "gnutls_init");
  check(ngtcp2_crypto_gnutls_configure_client_session(client.session) == 0, "configure session");
  check(gnutls_priority_set_direct(client.session, priority, nullptr) == 0, "priority");
  check(gnutls_credentials_set(client.session, GNUTLS_CRD_CERTIFICATE, client.credentials) == 0, "credentials");
  gnutls_session_set_ptr(client.session, &client.ref);
  gnutls_datum_t proto{reinterpret_cast<unsigned char*>(const_cast<char*>(alpn)), sizeof(alpn) - 1};
  check(gnutls_alpn_set_protocols(client.session, &proto, 1, GNUTLS_ALPN_MANDATORY) == 0, "ALPN");
  gnutls_server_name_set(client.session, GNUTLS_NAME_DNS, "localhost", 9);

  ngtcp2_callbacks callbacks{};
  callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
  callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  callbacks.encrypt = capture_encrypt;
  callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
  callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
  callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
  callbacks.update_key = ngtcp2_crypto_update_key_cb;
  callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  callbacks.rand = rand_cb;
  callbacks.get_new_connection_id = new_cid_cb;

  ngtcp2_cid dcid;
  dcid.datalen = dcid_length;
  scid_.datalen = 8;
  check(gnutls_rnd(GNUTLS_RND_NONCE, dcid.data, dcid.datalen) == 0 &&
            gnutls_rnd(GNUTLS_RND_NONCE, scid_.data, scid_.datalen) == 0,
        "random");
  sockaddr_in local{}, remote{};
  local.sin_family = remote.sin_family = AF_INET;
  local.sin_addr.s_addr = remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  remote.sin_port = htons(443);
  ngtcp2_path path{{reinterpret_cast<ngtcp2_sockaddr*>(&local), sizeof(local)},
                   {reinterpret_cast<ngtcp2_sockaddr*>(&remote), sizeof(remote)},
                   nullptr};
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_data = 1 << 20;
  params.initial_max_stream_data_bidi_local = 1 << 20;
  params.initial_max_streams_bidi = 16;
  params.max_idle_timeout = 30 * NGTCP2_SECONDS;
  check(ngtcp2_conn_client_new(&client.conn, &dcid, &scid_, &path, NGTCP2_PROTO_VER_V1, &callbacks, &settings,
                               &params, nullptr, &client) == 0,
        "ngtcp2_conn_client_new");
  ngtcp2_conn_set_tls_native_handle(client.conn, client.session);

  std::array<std::uint8_t, 1500> packet;
  capture_slot = &plaintext_;
  ngtcp2_ssize n =
      ngtcp2_conn_write_pkt(client.conn, nullptr, nullptr, packet.data(), packet.size(), settings.initial_ts);
  capture_slot = nullptr;
  check(n > 0 && !plaintext_.empty(), "the first packet");
  // Our header differs in length from ngtcp2's; trailing zero bytes are
  // PADDING frames, so trimming or adding them changes nothing else.
  std::size_t header = 1 + 4 + 1 + dcid_length + 1 + scid_.datalen + 1 + 2 + pn_length;
  plaintext_.resize(datagram_size - header - tag_length, 0);
}

std::size_t InitialTemplate::write_junk(std::uint8_t* out, std::uint64_t& random) {
  auto next = [&random] {  // xorshift64: speed, not secrecy
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return random;
  };
  std::size_t at = 0;
  out[at++] = 0xc0 | (pn_length - 1);
  std::uint32_t version = htonl(NGTCP2_PROTO_VER_V1);
  std::memcpy(out + at, &version, 4);
  at += 4;
  out[at++] = static_cast<std::uint8_t>(dcid_length);
  for (std::size_t i = 0; i < dcid_length; i += 8) {
    std::uint64_t r = next();
    std::memcpy(out + at + i, &r, 8);
  }
  at += dcid_length;
  out[at++] = static_cast<std::uint8_t>(scid_.datalen);
  std::memcpy(out + at, scid_.data, scid_.datalen);
  at += scid_.datalen;
  out[at++] = 0;
  std::size_t length = datagram_size - at - 2;
  out[at++] = static_cast<std::uint8_t>(0x40 | (length >> 8));
  out[at++] = static_cast<std::uint8_t>(length & 0xff);
  for (; at + 8 <= datagram_size; at += 8) {
    std::uint64_t r = next();
    std::memcpy(out + at, &r, 8);
  }
  return datagram_size;
}

std::size_t InitialTemplate::write(std::uint8_t* out) {
  std::uint8_t dcid[dcid_length];
  check(gnutls_rnd(GNUTLS_RND_NONCE, dcid, sizeof(dcid)) == 0, "random");
  InitialKeys keys = derive_client_keys(dcid, sizeof(dcid));

  std::size_t at = 0;
  out[at++] = 0xc0 | (pn_length - 1);  // long header, fixed bit, Initial, 4-byte packet number
  std::uint32_t version = htonl(NGTCP2_PROTO_VER_V1);
  std::memcpy(out + at, &version, 4);
  at += 4;
  out[at++] = static_cast<std::uint8_t>(dcid_length);
  std::memcpy(out + at, dcid, dcid_length);
  at += dcid_length;
  out[at++] = static_cast<std::uint8_t>(scid_.datalen);
  std::memcpy(out + at, scid_.data, scid_.datalen);
  at += scid_.datalen;
  out[at++] = 0;  // no token
  std::size_t length = pn_length + plaintext_.size() + tag_length;
  out[at++] = static_cast<std::uint8_t>(0x40 | (length >> 8));  // two-byte varint
  out[at++] = static_cast<std::uint8_t>(length & 0xff);
  std::size_t pn_offset = at;
  std::memset(out + at, 0, pn_length);  // packet number 0
  at += pn_length;

  ngtcp2_crypto_aead aead{reinterpret_cast<void*>(static_cast<std::intptr_t>(GNUTLS_CIPHER_AES_128_GCM)), tag_length};
  ngtcp2_crypto_aead_ctx ctx{};
  check(ngtcp2_crypto_aead_ctx_encrypt_init(&ctx, &aead, keys.key.data(), keys.iv.size()) == 0, "AEAD key");
  // Packet number 0: the nonce is the IV itself.
  int rv = ngtcp2_crypto_encrypt(out + at, &aead, &ctx, plaintext_.data(), plaintext_.size(), keys.iv.data(),
                                 keys.iv.size(), out, at);
  ngtcp2_crypto_aead_ctx_free(&ctx);
  check(rv == 0, "AEAD");
  std::size_t size = at + plaintext_.size() + tag_length;

  // Header protection (RFC 9001 §5.4): AES-ECB of a sample, done as one
  // CBC block with a zero IV.
  std::uint8_t zero_iv[16] = {};
  std::uint8_t mask[16];
  gnutls_datum_t key{keys.hp.data(), static_cast<unsigned>(keys.hp.size())};
  gnutls_datum_t iv{zero_iv, sizeof(zero_iv)};
  gnutls_cipher_hd_t hp;
  check(gnutls_cipher_init(&hp, GNUTLS_CIPHER_AES_128_CBC, &key, &iv) == 0, "HP key");
  rv = gnutls_cipher_encrypt2(hp, out + pn_offset + 4, 16, mask, sizeof(mask));
  gnutls_cipher_deinit(hp);
  check(rv == 0, "HP");
  out[0] ^= mask[0] & 0x0f;
  for (std::size_t i = 0; i < pn_length; ++i) out[pn_offset + i] ^= mask[1 + i];
  return size;
}

}  // namespace warren::tools
