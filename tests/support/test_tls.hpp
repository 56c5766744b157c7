#pragma once
// Certificates made at test time, so TLS tests need no files in the repository
// that expire or leak: a throwaway CA, and server certificates it signs for the
// names a test chooses, written as PEM files into a directory.
//
//   TempDir dir;
//   TestCertificateAuthority ca(dir.path(), "Test CA");
//   TlsFiles server = ca.issue("server", {"localhost", "127.0.0.1"});
//   // server.cert_file / server.key_file for the server, ca.ca_file() for the client
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sluice::test {

struct TlsFiles {
  std::filesystem::path cert_file;  // PEM: the certificate, then its issuer's
  std::filesystem::path key_file;   // PEM: its private key
};

class TestCertificateAuthority {
 public:
  // Makes the CA's key and self-signed certificate, valid from an hour ago for
  // a day; writes the certificate to dir/<file-safe name>-ca.pem.
  TestCertificateAuthority(const std::filesystem::path& dir, const std::string& name);
  ~TestCertificateAuthority();
  TestCertificateAuthority(const TestCertificateAuthority&) = delete;
  TestCertificateAuthority& operator=(const TestCertificateAuthority&) = delete;

  // The CA certificate, for a client's trust store.
  const std::filesystem::path& ca_file() const;

  // A server certificate (serverAuth) for `names`: each an IP address (an IP
  // subjectAltName) or a host name (a DNS one); the first is also the common
  // name. Files: dir/<stem>-cert.pem and dir/<stem>-key.pem.
  TlsFiles issue(const std::string& stem, const std::vector<std::string>& names) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::test
