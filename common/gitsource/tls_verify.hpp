// Verifying an https server's certificate against an extra CA (Auth::ca_file), per request.
//
// Why not libgit2's own option: GIT_OPT_SET_SSL_CERT_LOCATIONS is process-wide and, in 1.5 with
// mbedTLS, replaces (frees) the CA chain that other connections may be using, so it can serve
// neither two CAs at once nor concurrent fetches. Instead libgit2 keeps verifying against the
// system CAs (/etc/ssl/certs/ca-certificates.crt), and when that fails its certificate_check
// callback hands the server's certificate to this function.
// libgit2 1.5 passes only the server's own (leaf) certificate, not the chain it sent: the CA
// file must hold the certificate that signed it (an intermediate is enough: partial chains are
// accepted as trust anchors).
#pragma once

#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::gitsource {

// Checks that `der` (an X.509 certificate, DER) is signed by a certificate of `ca_pem` (PEM
// text, one or more certificates), is within its validity period, may serve TLS, and names
// `host` (a DNS name, or an IP address matched against IP SANs). Fails with auth naming `host`
// and OpenSSL's reason; invalid_input when `ca_pem` holds no certificate.
util::Result<void> verify_server_certificate(std::string_view der, std::string_view ca_pem,
                                             std::string_view host);

} // namespace common::gitsource
