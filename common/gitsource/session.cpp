#include "common/gitsource/session.hpp"

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <git2.h>

#include "common/gitsource/known_hosts.hpp"
#include "common/gitsource/stream.hpp"
#include "common/gitsource/tls_verify.hpp"
#include "common/util/deadline.hpp"

namespace common::gitsource::detail {

namespace {

// libgit2 asks again after every rejection: each kind of credential is handed out once, and
// the callback answers at most this often in one session (an ssh user name plus a key).
constexpr int k_max_credential_calls = 2;

long long ms_left(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count();
}

} // namespace

struct Session::State {
  SessionConfig config;
  std::vector<std::string> header_storage;
  std::vector<char*> header_ptrs;
  int credential_calls = 0;
  unsigned handed_out = 0; // GIT_CREDENTIAL_* bits already given
  std::optional<util::Error> error;

  // Records the first failure a callback decides on; libgit2 gets GIT_EUSER.
  int fail(util::ErrorKind kind, std::string message) {
    if (!error) {
      error = util::Error{kind, redact(std::move(message), config.secrets)};
    }
    return GIT_EUSER;
  }

  bool expired() {
    if (ms_left(config.deadline) > 0) {
      return false;
    }
    fail(util::ErrorKind::transient, "timed out after " + std::to_string(config.timeout.count()) +
                                         " ms fetching " + config.display);
    return true;
  }
};

namespace {

using State = Session::State;

const char* credential_names(unsigned allowed) {
  if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    return "a user name and password";
  }
  if (allowed & (GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_SSH_MEMORY)) {
    return "an ssh key";
  }
  return "credentials";
}

int credentials_cb(git_credential** out, const char* url, const char* user_from_url,
                   unsigned int allowed, void* payload) {
  auto& st = *static_cast<State*>(payload);
  if (st.expired()) {
    return GIT_EUSER;
  }
  const SessionConfig& c = st.config;
  const Auth& a = c.auth;
  // Credentials go to the URL's own origin only (libgit2 asks again after a redirect).
  auto asked = parse_remote_url(url != nullptr ? url : "");
  if (!asked || origin(*asked) != origin(c.url)) {
    return st.fail(util::ErrorKind::auth, "refusing to send the credentials for " + c.display +
                                              " to another origin after a redirect");
  }
  if (++st.credential_calls > k_max_credential_calls) {
    return st.fail(util::ErrorKind::auth, c.display + " rejected the credentials");
  }
  std::string user = user_from_url != nullptr && *user_from_url != '\0' ? user_from_url
                     : !c.url.user.empty()                              ? c.url.user
                                                                        : "git";
  auto give = [&](unsigned kind, int rc) {
    if (rc < 0) {
      auto f = last_failure(rc);
      return st.fail(util::ErrorKind::auth,
                     "unusable credentials for " + c.display + ": " + f.message);
    }
    st.handed_out |= kind;
    return 0;
  };
  bool has_basic = !a.password.empty() || !a.username.empty();
  bool has_key = !a.ssh_private_key.empty();
  if ((allowed & GIT_CREDENTIAL_SSH_MEMORY) && has_key) {
    if (st.handed_out & GIT_CREDENTIAL_SSH_MEMORY) {
      return st.fail(util::ErrorKind::auth,
                     c.display + " rejected the ssh key (user \"" + user + "\")");
    }
    const char* pass = a.ssh_passphrase.empty() ? nullptr : a.ssh_passphrase.c_str();
    return give(GIT_CREDENTIAL_SSH_MEMORY,
                git_credential_ssh_key_memory_new(out, user.c_str(), nullptr,
                                                  a.ssh_private_key.c_str(), pass));
  }
  if ((allowed & GIT_CREDENTIAL_USERNAME) && c.url.scheme == Scheme::ssh) {
    if (st.handed_out & GIT_CREDENTIAL_USERNAME) {
      return st.fail(util::ErrorKind::auth, c.display + " rejected the user \"" + user + "\"");
    }
    return give(GIT_CREDENTIAL_USERNAME, git_credential_username_new(out, user.c_str()));
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && has_basic) {
    if (st.handed_out & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
      return st.fail(util::ErrorKind::auth, c.display + " rejected the credentials (user \"" +
                                                (a.username.empty() ? "git" : a.username) + "\")");
    }
    std::string u = a.username.empty() ? "git" : a.username;
    return give(GIT_CREDENTIAL_USERPASS_PLAINTEXT,
                git_credential_userpass_plaintext_new(out, u.c_str(), a.password.c_str()));
  }
  if (!a.bearer_token.empty()) {
    return st.fail(util::ErrorKind::auth, c.display + " rejected the bearer token");
  }
  return st.fail(util::ErrorKind::auth, c.display + " requires authentication (" +
                                            credential_names(allowed) +
                                            "), and none of that kind was given");
}

int certificate_cb(git_cert* cert, int valid, const char* host, void* payload) {
  auto& st = *static_cast<State*>(payload);
  if (st.expired()) {
    return GIT_EUSER;
  }
  const SessionConfig& c = st.config;
  std::string h = host != nullptr ? host : c.url.host;
  if (cert->cert_type == GIT_CERT_X509) {
    if (valid != 0) {
      return 0; // the system CAs vouch for it, host name included
    }
    if (c.ca_pem.empty()) {
      return st.fail(util::ErrorKind::auth, "TLS certificate of " + h +
                                                " not trusted by the system CAs (fetching " +
                                                c.display + "; a private CA goes in auth.ca_file)");
    }
    const auto* x509 = reinterpret_cast<const git_cert_x509*>(cert);
    auto ok = verify_server_certificate(
        std::string_view(static_cast<const char*>(x509->data), x509->len), c.ca_pem, h);
    if (!ok) {
      return st.fail(ok.error().kind, ok.error().message + " (fetching " + c.display + ")");
    }
    return 0;
  }
  if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
    const auto* hk = reinterpret_cast<const git_cert_hostkey*>(cert);
    HostKey key;
    if ((hk->type & GIT_CERT_SSH_RAW) && hk->hostkey != nullptr) {
      key.blob.assign(hk->hostkey, hk->hostkey_len);
    }
    if (hk->type & GIT_CERT_SSH_SHA256) {
      key.sha256.assign(reinterpret_cast<const char*>(hk->hash_sha256), sizeof hk->hash_sha256);
    }
    auto verdict = check_host_key(c.auth.ssh_known_hosts, c.url.host, c.url.port, key);
    if (!verdict) {
      return st.fail(verdict.error().kind, "auth.ssh_known_hosts: " + verdict.error().message);
    }
    std::string who = "ssh host key of " + c.url.host + ":" + std::to_string(c.url.port);
    switch (*verdict) {
    case HostKeyVerdict::trusted:
      return 0;
    case HostKeyVerdict::mismatch:
      return st.fail(util::ErrorKind::auth,
                     who + " does not match auth.ssh_known_hosts (changed or spoofed)");
    case HostKeyVerdict::unknown_host:
      return st.fail(util::ErrorKind::auth, who + " is unknown: no line of auth.ssh_known_hosts "
                                                  "names the host");
    case HostKeyVerdict::revoked:
      return st.fail(util::ErrorKind::auth, who + " is revoked in auth.ssh_known_hosts");
    }
  }
  return st.fail(util::ErrorKind::auth, "unexpected kind of server certificate from " + h);
}

int transfer_cb(const git_indexer_progress*, void* payload) {
  return static_cast<State*>(payload)->expired() ? GIT_EUSER : 0;
}

int sideband_cb(const char*, int, void* payload) {
  return static_cast<State*>(payload)->expired() ? GIT_EUSER : 0;
}

git_remote_callbacks make_callbacks(State* st) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = credentials_cb;
  cb.certificate_check = certificate_cb;
  cb.transfer_progress = transfer_cb;
  cb.sideband_progress = sideband_cb;
  cb.payload = st;
  return cb;
}

git_strarray headers_of(State* st) {
  return git_strarray{st->header_ptrs.data(), st->header_ptrs.size()};
}

git_remote_redirect_t redirects_of(const State* st) {
  // libgit2 sends custom headers after a redirect too: with a bearer header, allow no redirect
  // to another host (NONE still follows same-host redirects)
  return st->config.auth.bearer_token.empty() ? GIT_REMOTE_REDIRECT_INITIAL
                                              : GIT_REMOTE_REDIRECT_NONE;
}

} // namespace

Session::Session(std::unique_ptr<State> state, GitPtr<git_remote> remote)
    : m_state(std::move(state)), m_remote(std::move(remote)) {}
Session::Session(Session&&) noexcept = default;
Session::~Session() {
  if (m_remote) {
    git_remote_disconnect(m_remote.get());
  }
}

util::Error Session::failure(int code, std::string_view what) {
  auto f = last_failure(code);
  if (m_state->error) {
    return *m_state->error;
  }
  if (std::chrono::steady_clock::now() >= m_state->config.deadline) {
    // The socket was cut at the deadline: say so, whatever libgit2 made of it.
    return util::Error{util::ErrorKind::transient,
                       "timed out after " + std::to_string(m_state->config.timeout.count()) +
                           " ms " + std::string(what) + " " + m_state->config.display};
  }
  return to_error(f, what, m_state->config.display, m_state->config.secrets);
}

util::Result<Session> Session::connect(git_repository* repo, SessionConfig config) {
  const util::ThreadDeadline sockets(config.deadline);
  auto state = std::make_unique<State>();
  state->config = std::move(config);
  if (!state->config.auth.bearer_token.empty()) {
    state->header_storage.push_back("Authorization: Bearer " + state->config.auth.bearer_token);
  }
  for (auto& h : state->header_storage) {
    state->header_ptrs.push_back(h.data());
  }

  git_remote_create_options create = GIT_REMOTE_CREATE_OPTIONS_INIT;
  create.repository = repo;
  create.name = nullptr; // in memory: nothing written to the mirror's config
  create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  git_remote* raw = nullptr;
  if (int rc = git_remote_create_with_opts(&raw, state->config.display.c_str(), &create); rc < 0) {
    auto f = last_failure(rc);
    return util::fail(
        util::ErrorKind::invalid_input,
        redact("git URL " + state->config.display + ": " + f.message, state->config.secrets));
  }
  Session session(std::move(state), GitPtr<git_remote>(raw));

  git_remote_connect_options opts = GIT_REMOTE_CONNECT_OPTIONS_INIT;
  opts.callbacks = make_callbacks(session.m_state.get());
  opts.proxy_opts.type = GIT_PROXY_NONE;
  opts.follow_redirects = redirects_of(session.m_state.get());
  opts.custom_headers = headers_of(session.m_state.get());
  if (int rc = git_remote_connect_ext(session.m_remote.get(), GIT_DIRECTION_FETCH, &opts); rc < 0) {
    return std::unexpected(session.failure(rc, "connecting to"));
  }
  return session;
}

util::Result<Advertisement> Session::list() {
  const util::ThreadDeadline sockets(m_state->config.deadline);
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  if (int rc = git_remote_ls(&heads, &count, m_remote.get()); rc < 0) {
    return std::unexpected(failure(rc, "listing the refs of"));
  }
  Advertisement ad;
  std::vector<std::pair<std::string, std::string>> peeled;
  for (size_t i = 0; i < count; ++i) {
    const git_remote_head* h = heads[i];
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &h->oid);
    std::string name = h->name;
    if (name.ends_with("^{}")) {
      peeled.emplace_back(name.substr(0, name.size() - 3), hex);
      continue;
    }
    if (name == "HEAD" && h->symref_target != nullptr) {
      ad.head_target = h->symref_target;
    }
    ad.refs.push_back(RemoteRef{std::move(name), hex, {}});
  }
  for (auto& [name, oid] : peeled) {
    for (auto& r : ad.refs) {
      if (r.name == name) {
        r.peeled = oid;
      }
    }
  }
  return ad;
}

util::Result<void> Session::download(const std::vector<std::string>& refspecs) {
  const util::ThreadDeadline sockets(m_state->config.deadline);
  std::vector<char*> ptrs;
  std::vector<std::string> storage = refspecs;
  for (auto& s : storage) {
    ptrs.push_back(s.data());
  }
  git_strarray specs{ptrs.data(), ptrs.size()};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks = make_callbacks(m_state.get());
  opts.prune = GIT_FETCH_NO_PRUNE;
  opts.update_fetchhead = 0;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.proxy_opts.type = GIT_PROXY_NONE;
  opts.follow_redirects = redirects_of(m_state.get());
  opts.custom_headers = headers_of(m_state.get());
  if (int rc = git_remote_fetch(m_remote.get(), &specs, &opts, "imageupdater fetch"); rc < 0) {
    return std::unexpected(failure(rc, "fetching"));
  }
  return {};
}

util::Result<void> check_reachable(const std::string& host, std::uint16_t port, Deadline deadline,
                                   std::chrono::milliseconds timeout, const std::string& display) {
  auto timed_out = [&] {
    return util::fail(util::ErrorKind::transient, "timed out after " +
                                                      std::to_string(timeout.count()) +
                                                      " ms connecting to " + display);
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return util::fail(util::ErrorKind::transient,
                      "cannot resolve the host of " + display + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(res, freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        long long left = ms_left(deadline);
        int n = left > 0 ? poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30))) : 0;
        if (n == 0) {
          ::close(fd);
          return timed_out();
        }
        socklen_t len = sizeof err;
        if (n < 0) {
          err = errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    ::close(fd);
    if (err == 0) {
      return {};
    }
    last = std::strerror(err);
    if (ms_left(deadline) <= 0) {
      return timed_out();
    }
  }
  return util::fail(util::ErrorKind::transient, "cannot connect to " + display + ": " + last);
}

} // namespace common::gitsource::detail
