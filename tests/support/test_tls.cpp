#include "tests/support/test_tls.hpp"

#include <arpa/inet.h>

#include <atomic>
#include <cctype>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sluice::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char reason[256] = "no OpenSSL error";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  throw std::runtime_error("test TLS: " + what + ": " + reason);
}

void check(int ok, const std::string& what) {
  if (ok != 1) fail(what);
}

Key new_key() {
  // P-256: generated in microseconds, unlike RSA, and accepted at OpenSSL's default level.
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot generate a key");
  return key;
}

bool is_ip_address(const std::string& name) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, name.c_str(), bytes) == 1 ||
         inet_pton(AF_INET6, name.c_str(), bytes) == 1;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) fail("cannot make extension " + value);
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  check(added, "cannot add extension " + value);
}

// A certificate for `subject_key`, named `common_name`, signed by `issuer_key`
// (self-signed when `issuer` is null), without extensions yet.
Cert new_certificate(EVP_PKEY* subject_key, const std::string& common_name, X509* issuer) {
  static std::atomic<long> serial{1};
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "X509_set_version");  // v3: extensions
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++), "serial");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr) fail("notBefore");
  if (X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) == nullptr) fail("notAfter");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0),
        "subject name");
  check(X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name),
        "issuer name");
  check(X509_set_pubkey(cert.get(), subject_key), "public key");
  return cert;
}

void sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) fail("cannot sign");
}

Bio open_for_writing(const std::filesystem::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) fail("cannot write " + path.string());
  return bio;
}

std::string file_safe(const std::string& text) {
  std::string safe;
  for (char c : text) safe += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return safe;
}

}  // namespace

struct TestCertificateAuthority::Impl {
  std::filesystem::path dir;
  std::filesystem::path ca_file;
  Key key;
  Cert cert;
};

TestCertificateAuthority::TestCertificateAuthority(const std::filesystem::path& dir,
                                                   const std::string& name)
    : impl_(std::make_unique<Impl>()) {
  impl_->dir = dir;
  impl_->ca_file = dir / (file_safe(name) + "-ca.pem");
  impl_->key = new_key();
  impl_->cert = new_certificate(impl_->key.get(), name, nullptr);
  X509* cert = impl_->cert.get();
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  sign(cert, impl_->key.get());
  check(PEM_write_bio_X509(open_for_writing(impl_->ca_file).get(), cert), "write CA");
}

TestCertificateAuthority::~TestCertificateAuthority() = default;

const std::filesystem::path& TestCertificateAuthority::ca_file() const {
  return impl_->ca_file;
}

TlsFiles TestCertificateAuthority::issue(const std::string& stem,
                                         const std::vector<std::string>& names) const {
  if (names.empty()) throw std::invalid_argument("a server certificate needs a name");
  Key key = new_key();
  Cert cert = new_certificate(key.get(), names.front(), impl_->cert.get());
  std::string alt_names;
  for (const auto& name : names) {
    if (!alt_names.empty()) alt_names += ",";
    alt_names += (is_ip_address(name) ? "IP:" : "DNS:") + name;
  }
  X509* issuer = impl_->cert.get();
  add_extension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), issuer, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), issuer, NID_subject_alt_name, alt_names);
  add_extension(cert.get(), issuer, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  sign(cert.get(), impl_->key.get());

  TlsFiles files{impl_->dir / (stem + "-cert.pem"), impl_->dir / (stem + "-key.pem")};
  {
    Bio out = open_for_writing(files.cert_file);
    check(PEM_write_bio_X509(out.get(), cert.get()), "write certificate");
    check(PEM_write_bio_X509(out.get(), issuer), "write issuer");
  }
  Bio out = open_for_writing(files.key_file);
  check(PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "write key");
  return files;
}

}  // namespace sluice::test
