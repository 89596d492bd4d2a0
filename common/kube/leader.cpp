#include "common/kube/leader.hpp"

#include <cstdio>
#include <ctime>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace common::kube {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr double k_jitter_factor = 1.2; // client-go's leaderelection.JitterFactor

json spec_of(const auto& record) {
  return {{"holderIdentity", record.holder},
          {"leaseDurationSeconds", record.lease_duration_seconds},
          {"acquireTime", record.acquire_time},
          {"renewTime", record.renew_time},
          {"leaseTransitions", record.transitions}};
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

} // namespace

util::Result<void> validate(const LeaderElectionOptions& o) {
  auto bad = [](std::string what) { return util::fail(util::ErrorKind::invalid_input, what); };
  if (o.namespace_.empty() || o.name.empty()) {
    return bad("leader election: the Lease's namespace and name are required");
  }
  if (o.lease_duration <= 0ms || o.renew_deadline <= 0ms || o.retry_period <= 0ms) {
    return bad("leader election: lease duration, renew deadline and retry period must be positive");
  }
  if (o.lease_duration <= o.renew_deadline) {
    return bad("leader election: the lease duration must be greater than the renew deadline");
  }
  if (static_cast<double>(o.renew_deadline.count()) <=
      k_jitter_factor * static_cast<double>(o.retry_period.count())) {
    return bad("leader election: the renew deadline must be greater than 1.2 times the retry "
               "period");
  }
  return {};
}

std::string default_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "unknown");
  }
  std::random_device device;
  std::uniform_int_distribution<unsigned> hex(0, 15);
  std::string uuid;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) {
      uuid += '-';
    }
    unsigned v = i == 12 ? 4u : i == 16 ? (8u | (hex(device) & 3u)) : hex(device); // version 4
    uuid += "0123456789abcdef"[v];
  }
  return std::string(host) + "_" + uuid;
}

std::string format_micro_time(std::chrono::system_clock::time_point t) {
  auto micros = std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  long fraction = static_cast<long>(micros % 1'000'000);
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  return out;
}

util::Result<std::unique_ptr<LeaderElector>>
LeaderElector::create(Api& api, LeaderElectionOptions options, LeaderCallbacks callbacks,
                      util::Clock& clock, log::Logger* logger) {
  if (auto valid = validate(options); !valid) {
    return std::unexpected(valid.error());
  }
  if (options.identity.empty()) {
    options.identity = default_identity();
  }
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(api, std::move(options), std::move(callbacks), clock, logger));
}

LeaderElector::LeaderElector(Api& api, LeaderElectionOptions options, LeaderCallbacks callbacks,
                             util::Clock& clock, log::Logger* logger)
    : m_api(api), m_options(std::move(options)), m_callbacks(std::move(callbacks)), m_clock(clock),
      m_logger(logger), m_stop(m_options.wait_scale),
      m_random(m_options.jitter_seed != 0 ? m_options.jitter_seed : std::random_device{}()) {}

LeaderElector::~LeaderElector() {
  stop();
}

void LeaderElector::start() {
  if (m_started) {
    return;
  }
  m_started = true;
  m_thread = std::thread([this] { run(); });
}

void LeaderElector::stop() {
  m_stop.stop();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool LeaderElector::is_leader() const {
  std::lock_guard lock(m_mutex);
  return m_leading && m_holder == m_options.identity;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(m_mutex);
  return m_holder;
}

void LeaderElector::set_leading(bool leading) {
  std::lock_guard lock(m_mutex);
  m_leading = leading;
}

bool LeaderElector::observed_self() const {
  return m_observed.holder == m_options.identity;
}

void LeaderElector::warn(const char* what, const util::Error& error) {
  if (m_logger != nullptr) {
    m_logger->warn(what, {{"lease", m_options.namespace_ + "/" + m_options.name},
                          {"kind", util::to_string(error.kind)},
                          {"error", error.message}});
  }
}

void LeaderElector::run() {
  auto lease = m_options.namespace_ + "/" + m_options.name;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!m_stop.stopped()) {
    // Acquire: until we hold the Lease.
    bool acquired = false;
    while (!m_stop.stopped()) {
      if (try_acquire_or_renew()) {
        acquired = true;
        break;
      }
      auto jitter = std::chrono::duration_cast<std::chrono::nanoseconds>(
          m_options.retry_period * (k_jitter_factor * unit(m_random)));
      m_stop.wait_for(m_options.retry_period + jitter);
    }
    if (!acquired) {
      break;
    }
    set_leading(true);
    if (m_logger != nullptr) {
      m_logger->info("leader election: acquired the lease",
                     {{"lease", lease}, {"identity", m_options.identity}});
    }
    if (m_callbacks.on_started_leading) {
      m_callbacks.on_started_leading();
    }
    // Renew every retry period; each round may retry until the renew deadline.
    bool lost = false;
    while (!lost && m_stop.wait_for(m_options.retry_period)) {
      auto round = m_clock.steady_now();
      for (;;) {
        if (try_acquire_or_renew()) {
          break;
        }
        if (m_clock.steady_now() - round >= m_options.renew_deadline ||
            !m_stop.wait_for(m_options.retry_period) ||
            m_clock.steady_now() - round >= m_options.renew_deadline) {
          lost = !m_stop.stopped();
          break;
        }
      }
    }
    set_leading(false);
    if (m_callbacks.on_stopped_leading) {
      m_callbacks.on_stopped_leading();
    }
    if (m_stop.stopped()) {
      release();
      break;
    }
    if (m_logger != nullptr) {
      m_logger->warn("leader election: lost the lease",
                     {{"lease", lease}, {"identity", m_options.identity}});
    }
  }
}

void LeaderElector::observe(const Record& record, std::chrono::steady_clock::time_point when) {
  m_observed = record;
  m_observed_time = when;
  {
    std::lock_guard lock(m_mutex);
    m_holder = record.holder;
  }
  if (record.holder != m_reported) {
    m_reported = record.holder;
    if (!record.holder.empty()) {
      if (m_logger != nullptr) {
        m_logger->info(
            "leader election: new leader",
            {{"lease", m_options.namespace_ + "/" + m_options.name}, {"leader", record.holder}});
      }
      if (m_callbacks.on_new_leader) {
        m_callbacks.on_new_leader(record.holder);
      }
    }
  }
}

bool LeaderElector::write(const Record& record) {
  util::Result<std::string> answer;
  if (m_lease.empty()) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", m_options.name}, {"namespace", m_options.namespace_}}},
                  {"spec", spec_of(record)}};
    answer = m_api.create(leases(), m_options.namespace_, lease.dump());
  } else {
    json lease = json::parse(m_lease, nullptr, false);
    if (!lease.is_object()) {
      return false;
    }
    // The other spec fields (strategy, preferredHolder) are kept; ours are replaced.
    json spec = spec_of(record);
    for (auto& [key, value] : spec.items()) {
      lease["spec"][key] = value;
    }
    answer = m_api.update(leases(), m_options.namespace_, m_options.name, lease.dump());
  }
  if (!answer) {
    warn(m_lease.empty() ? "leader election: cannot create the lease"
                         : "leader election: cannot update the lease",
         answer.error());
    return false;
  }
  m_lease = std::move(*answer);
  return true;
}

bool LeaderElector::try_acquire_or_renew() {
  auto wall = m_clock.now();
  auto now = m_clock.steady_now();
  Record desired{m_options.identity,
                 std::chrono::duration_cast<std::chrono::seconds>(m_options.lease_duration).count(),
                 format_micro_time(wall), format_micro_time(wall), 0};

  auto current = m_api.get(leases(), m_options.namespace_, m_options.name);
  if (!current) {
    if (current.error().kind != util::ErrorKind::not_found) {
      warn("leader election: cannot read the lease", current.error());
      return false;
    }
    m_lease.clear();
    if (!write(desired)) {
      return false;
    }
    observe(desired, now);
    return true;
  }
  json lease = json::parse(*current, nullptr, false);
  if (!lease.is_object()) {
    warn("leader election: the lease is not JSON",
         util::Error(util::ErrorKind::invalid_input, "unreadable Lease"));
    return false;
  }
  json spec = lease.value("spec", json::object());
  Record old{string_at(spec, "holderIdentity"), int_at(spec, "leaseDurationSeconds"),
             string_at(spec, "acquireTime"), string_at(spec, "renewTime"),
             int_at(spec, "leaseTransitions")};
  m_lease = std::move(*current);
  if (old != m_observed) {
    // The record changed since we last looked: its lease runs from now, by our clock.
    observe(old, now);
  }
  if (!old.holder.empty() &&
      m_observed_time + std::chrono::seconds(old.lease_duration_seconds) > now &&
      !observed_self()) {
    return false; // held by another replica, not yet expired
  }
  if (observed_self()) {
    desired.acquire_time = old.acquire_time;
    desired.transitions = old.transitions;
  } else {
    desired.transitions = old.transitions + 1;
  }
  if (!write(desired)) {
    return false;
  }
  observe(desired, now);
  return true;
}

void LeaderElector::release() {
  if (!observed_self() || m_lease.empty()) {
    return;
  }
  auto wall = format_micro_time(m_clock.now());
  Record released{"", 1, wall, wall, m_observed.transitions};
  if (write(released)) {
    observe(released, m_clock.steady_now());
    if (m_logger != nullptr) {
      m_logger->info("leader election: released the lease",
                     {{"lease", m_options.namespace_ + "/" + m_options.name}});
    }
  }
}

} // namespace common::kube
