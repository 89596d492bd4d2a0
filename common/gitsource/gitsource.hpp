// Getting the files of one path of one Git ref, for a service that renders them every interval
// (the "source" half of a Flux GitRepository), with libgit2 1.5.
//
// How: one bare mirror per URL under the cache directory (directory name = SHA-256 of the URL,
// see mirror_name()), created on first use. Every fetch() connects to the remote (so the caller's
// credentials are checked every time, also when the mirror already has what is asked for), lists
// its refs, picks the target (refs.hpp: Flux's precedence commit > name > semver > tag > branch,
// default = the remote's HEAD), and downloads only when the mirror lacks the target's commit,
// with a refspec for that one ref ("+refs/heads/main:refs/heads/main"), so updates are
// incremental: the mirror's refs tell the server what is already there. libgit2 1.5 has no
// shallow fetch, so the first fetch of a ref downloads its whole history. libgit2 cannot repack
// either: every download adds a pack, and a mirror with more than 64 packs is recreated by the
// next fetch (one full download). max_bytes and max_files bound what fetch() returns, not what
// the mirror downloads.
// The files are read from the commit's tree object, never from a checkout: there is no working
// tree to be seen half-updated, and what a fetch returns is exactly that commit.
//
// Transports and auth (remote_url.hpp for the URL policy): https (basic, bearer token, extra
// CA), ssh (private key, known_hosts required), and on loopback only http and git://.
//
// Thread safety: fetch() may be called from any number of threads. Fetches of the same URL are
// serialised (an in-process mutex per URL, plus an flock(2) on "<mirror>.lock" against other
// processes sharing the cache directory); different URLs proceed in parallel.
//
// Timeout (FetchRequest::timeout): libgit2 1.5 has no connect or read timeouts (they arrived in
// 1.7). The deadline is enforced while waiting for the URL's lock, by a TCP connect to the
// server bounded by the deadline before libgit2 connects (an unreachable or black-holed host
// fails as transient within the timeout), and in libgit2's callbacks (credentials, certificate,
// transfer and sideband progress), which fail the fetch once the deadline has passed. A server
// that accepts the connection and then sends nothing at all still blocks a fetch, without end
// (and later fetches of the same URL then fail as transient at their own deadlines, waiting for
// it); name resolution is bounded only by the resolver.
//
// Errors (kinds a caller can branch on; messages name the URL as canonical_url() writes it,
// which never holds a credential, and never echo a password, token or key):
//   invalid_input  bad URL or scheme, bad ref field, conflicting auth, bad path, unreadable CA,
//                  a redirect libgit2 refuses to follow (the URL must change)
//   not_found      repository, branch, tag, ref, commit, semver match or path not there
//   auth           401/403, rejected credentials, untrusted TLS certificate, unknown or changed
//                  ssh host key, unusable ssh key, credentials asked for but none given,
//                  credentials asked for by another origin after a redirect
//   transient      unreachable server, connection errors, 5xx, the timeout, a busy mirror
//   too_large      the files under path exceed max_files or max_bytes
//   internal       the mirror cannot be created or read
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/gitsource/refs.hpp"
#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::gitsource {

// At most one kind of credentials; all empty = anonymous.
struct Auth {
  // https basic auth: username and password. A password alone is sent with the user name
  // "git" (GitHub, GitLab and Gitea accept any user name with a personal access token; GitHub
  // App tokens want "x-access-token", GitLab OAuth tokens "oauth2": set those explicitly).
  std::string username;
  std::string password;
  // https: sent as "Authorization: Bearer <token>" on every request, like Flux's
  // `bearerToken` (libgit2's custom headers). A redirect to another host is then refused
  // (invalid_input), so the header never leaves the URL's host; libgit2 follows redirects on the
  // same host. Basic credentials, which libgit2 asks for per request, are given to the URL's
  // origin only (scheme, host and port): a redirect elsewhere gets none (auth).
  std::string bearer_token;
  // ssh: the private key's text (PEM or OpenSSH format, as in a key file) and its passphrase.
  // The user is the URL's ("ssh://git@host/..."), else "git".
  std::string ssh_private_key;
  std::string ssh_passphrase;
  // ssh: known_hosts text; required for ssh URLs (no trust on first use). known_hosts.hpp.
  std::string ssh_known_hosts;
  // https: path of a PEM file with extra CA certificates (tls_verify.hpp), read on every
  // fetch. The system CAs stay trusted. Ignored for other schemes.
  std::string ca_file;
};

struct FetchRequest {
  std::string url;
  Ref ref;
  Auth auth;
  // The directory of the tree to return, '/'-separated and relative to the repository root;
  // "" or "." = the root. No "..", no empty segments; leading "./" and a trailing '/' are
  // dropped.
  std::string path;
  std::chrono::milliseconds timeout{60000};
  std::size_t max_bytes = std::size_t{256} << 20; // total size of the files returned
  std::size_t max_files = 20000;                  // entries under path other than directories
  // A revision the caller already has the files of ("main@sha1:<commit>"): when the ref still
  // resolves to it, the tree is not read (Snapshot::unchanged, no files). A caller whose other
  // inputs did not change either has nothing to do.
  std::string known_revision;
};

struct Snapshot {
  std::string commit;   // 40 hex, lower case
  std::string revision; // Flux's format: "main@sha1:<commit>", "v1.0.0@sha1:<commit>",
                        // "refs/pull/1/head@sha1:<commit>", "sha1:<commit>" (a commit alone)
  // The regular files under path (modes 100644 and 100755; executable = 100755), paths relative
  // to path, sorted by path (byte order).
  util::Tree files;
  // The ref still names FetchRequest::known_revision: `files` was not read (is empty).
  bool unchanged = false;
  // Skipped entries (symlinks, submodules, names unsafe on disk such as ".git"), ignored ref
  // fields, a mirror that had to be recreated: one line each, in a deterministic order, at most
  // 100 lines (then one line counting the rest).
  std::vector<std::string> warnings;
};

// Checks everything that needs no network or disk: URL policy, ref fields, auth consistency
// (one kind; ssh auth only with ssh URLs and known_hosts present; basic and bearer only with
// http(s)), path, limits. The errors fetch() would return first, all invalid_input.
util::Result<void> validate_request(const FetchRequest& request);

// The path of a request in normal form ("" for the root), or invalid_input.
util::Result<std::string> normalize_path(std::string_view path);

class GitSource {
public:
  // `cache_dir` holds the mirrors; created (0700) on first use. libgit2 is initialised here and
  // shut down in the destructor (reference counted by libgit2, so several GitSources coexist).
  explicit GitSource(std::string cache_dir);
  ~GitSource();
  GitSource(const GitSource&) = delete;
  GitSource& operator=(const GitSource&) = delete;

  // The files of `request.path` at the commit `request.ref` names, see the top of this file.
  util::Result<Snapshot> fetch(const FetchRequest& request);

  const std::string& cache_dir() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::gitsource
