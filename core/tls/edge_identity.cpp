#include "core/tls/edge_identity.hpp"

#include "core/tls/self_signed.hpp"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace warren::core {
namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// Writes atomically (temp file + rename) with `mode`, so a crash never leaves half a key.
void write_file(const std::filesystem::path& file, const std::string& data, mode_t mode) {
  auto temp = file;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + temp.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), file.c_str()) != 0)
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno));
}

}  // namespace

std::optional<sdk::CertificatePin> pin_of_pem(const std::string& pem) {
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0) return std::nullopt;
  gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                    static_cast<unsigned>(pem.size())};
  std::optional<sdk::CertificatePin> pin;
  gnutls_datum_t der{};
  if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) >= 0 &&
      gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) >= 0) {
    sdk::CertificatePin digest{};
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest.data()) >= 0) pin = digest;
    gnutls_free(der.data);
  }
  gnutls_x509_crt_deinit(crt);
  return pin;
}

EdgeIdentity load_identity(const std::filesystem::path& cert, const std::filesystem::path& key) {
  EdgeIdentity id;
  id.cert_pem = read_file(cert);
  id.key_pem = read_file(key);
  id.cert_file = cert;
  auto pin = pin_of_pem(id.cert_pem);
  if (!pin) throw std::runtime_error(cert.string() + " holds no PEM certificate that GnuTLS can read");
  id.pin = *pin;
  return id;
}

EdgeIdentity load_or_make_identity(const std::filesystem::path& state_dir, const std::string& common_name,
                                   const std::vector<std::string>& names) {
  auto cert = state_dir / "edge.crt";
  auto key = state_dir / "edge.key";
  if (std::filesystem::exists(cert) && std::filesystem::exists(key)) return load_identity(cert, key);

  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw std::runtime_error("cannot create state_dir " + state_dir.string() + ": " + ec.message());
  ::chmod(state_dir.c_str(), 0700);
  auto pair = make_self_signed(common_name, names);
  write_file(key, pair.key_pem, 0600);
  write_file(cert, pair.cert_pem, 0644);
  EdgeIdentity id{pair.cert_pem, pair.key_pem, pair.pin_sha256, cert, true};
  return id;
}

}  // namespace warren::core
