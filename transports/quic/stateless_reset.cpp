#include "stateless_reset.hpp"

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace warren::quic {
namespace {

using Secret = std::array<std::uint8_t, StatelessReset::secret_size>;

std::string errno_text(int error) { return std::strerror(error); }

bool write_all(int fd, const std::uint8_t* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

/// Reads the secret at `file`; false with `why` set if it cannot.
bool read_secret(const std::filesystem::path& file, Secret& secret, std::string& why, std::string& note) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    why = "cannot read the QUIC stateless reset secret " + file.string() + ": " + errno_text(errno);
    return false;
  }
  struct stat st {};
  ::fstat(fd, &st);
  std::uint8_t buffer[StatelessReset::secret_size + 1];
  std::size_t got = 0;
  while (got < sizeof(buffer)) {
    ssize_t n = ::read(fd, buffer + got, sizeof(buffer) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = "cannot read the QUIC stateless reset secret " + file.string() + ": " + errno_text(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != secret.size()) {
    why = "the QUIC stateless reset secret " + file.string() + " holds " + std::to_string(got) +
          (got > secret.size() ? "+" : "") + " bytes, not " + std::to_string(secret.size()) +
          ": delete it and the edge makes a new one (connectors then wait out their timeouts once)";
    return false;
  }
  std::memcpy(secret.data(), buffer, secret.size());
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    note = "the QUIC stateless reset secret " + file.string() +
           " is readable by others, who could end this edge's connections: chmod 600 " + file.string();
  return true;
}

/// Writes a new secret to `file` without ever exposing a partial one: a
/// private temporary file, linked into place only if `file` is still absent
/// (an edge starting beside us may have made it first; then theirs wins).
bool create_secret(const std::filesystem::path& file, Secret& secret, std::string& why, std::string& note) {
  if (gnutls_rnd(GNUTLS_RND_KEY, secret.data(), secret.size()) != 0) {
    why = "no random bytes for the QUIC stateless reset secret";
    return false;
  }
  std::random_device random;
  auto temporary = file;
  temporary += ".new-" + std::to_string(::getpid()) + "-" + std::to_string(random());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    why = "cannot create the QUIC stateless reset secret in " + file.parent_path().string() + ": " + errno_text(errno);
    return false;
  }
  bool written = write_all(fd, secret.data(), secret.size()) && ::fsync(fd) == 0;
  int write_error = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    why = "cannot write the QUIC stateless reset secret " + temporary.string() + ": " + errno_text(write_error);
    return false;
  }
  int linked = ::link(temporary.c_str(), file.c_str());
  int link_error = errno;
  ::unlink(temporary.c_str());
  if (linked == 0) return true;
  if (link_error == EEXIST) return read_secret(file, secret, why, note);
  why = "cannot create the QUIC stateless reset secret " + file.string() + ": " + errno_text(link_error);
  return false;
}

}  // namespace

StatelessReset::Ptr StatelessReset::load_or_create(const std::filesystem::path& state_dir, std::string& why,
                                                   std::string& note) {
  Secret secret{};
  if (state_dir.empty()) {
    if (gnutls_rnd(GNUTLS_RND_KEY, secret.data(), secret.size()) != 0) {
      why = "no random bytes for the QUIC stateless reset secret";
      return nullptr;
    }
    return std::make_shared<const StatelessReset>(secret);
  }
  std::error_code ec;
  if (!std::filesystem::exists(state_dir, ec)) {
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
      why = "cannot create state_dir " + state_dir.string() + " for the QUIC stateless reset secret: " + ec.message();
      return nullptr;
    }
    ::chmod(state_dir.c_str(), 0700);
  }
  auto file = state_dir / file_name;
  bool ok =
      std::filesystem::exists(file, ec) ? read_secret(file, secret, why, note) : create_secret(file, secret, why, note);
  if (!ok) return nullptr;
  return std::make_shared<const StatelessReset>(secret);
}

bool StatelessReset::token(const ngtcp2_cid& cid, std::uint8_t* token) const {
  return ngtcp2_crypto_generate_stateless_reset_token(token, secret_.data(), secret_.size(), &cid) == 0;
}

std::size_t StatelessReset::write(std::uint8_t* out, std::size_t trigger_len, const ngtcp2_cid& dcid) const {
  if (trigger_len < min_trigger(dcid.datalen)) return 0;
  // RFC 9000 §10.3: one byte shorter than a small trigger, else as long as
  // the longest connection ID plus the least a packet adds (ngtcp2's example).
  constexpr std::size_t max_random = max_size - NGTCP2_STATELESS_RESET_TOKENLEN;
  std::size_t random_len = trigger_len <= max_size + 1 ? trigger_len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN : max_random;
  std::uint8_t token_bytes[NGTCP2_STATELESS_RESET_TOKENLEN];
  std::uint8_t random[max_random];
  if (!token(dcid, token_bytes) || gnutls_rnd(GNUTLS_RND_NONCE, random, random_len) != 0) return 0;
  ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(out, max_size, token_bytes, random, random_len);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace warren::quic
