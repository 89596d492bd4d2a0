// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does
// it with a LeaseLock and ReleaseOnCancel:
//   - acquire: create the Lease when it is absent; take it over when its holder is empty, or when
//     the holder's lease ran out by OUR clock: the record (holder, times, duration, transitions)
//     has not changed for leaseDurationSeconds since we last saw it change. The remote
//     timestamps are never compared with the local clock (clocks of replicas may disagree).
//     Tries every retry_period plus up to 1.2 times that again (client-go's JitterFactor);
//   - renew: every retry_period; leadership is lost when no renew succeeded for renew_deadline
//     (or another holder is seen): on_stopped_leading is called and the elector goes back to
//     acquiring;
//   - a takeover increments spec.leaseTransitions; a renewal keeps acquireTime;
//   - stop() while leading: on_stopped_leading first (so the guarded work has stopped), then the
//     Lease is released (holderIdentity "", leaseDurationSeconds 1) so a standby takes over at
//     its next try instead of waiting out the lease.
// Times in the Lease are MicroTime: RFC 3339 UTC with exactly six fraction digits.
// Callbacks run on the elector's thread and must return promptly (start or stop work elsewhere).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "common/kube/api.hpp"
#include "common/kube/retry.hpp"
#include "common/log/logger.hpp"
#include "common/util/clock.hpp"

namespace common::kube {

struct LeaderElectionOptions {
  std::string namespace_;
  std::string name;
  std::string identity; // "" = default_identity()
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
  // Tests: below 1 shortens every real wait; the durations above are measured on the Clock.
  double wait_scale = 1.0;
  std::uint64_t jitter_seed = 0; // 0 = from std::random_device
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading; // only after on_started_leading
  // The holder seen changed (ourselves included); never called with "" (a released Lease).
  std::function<void(const std::string& identity)> on_new_leader;
};

// invalid_input naming the rule unless: namespace and name are set, every duration is positive,
// lease_duration > renew_deadline > 1.2 * retry_period (client-go's checks).
util::Result<void> validate(const LeaderElectionOptions& options);

// "<hostname>_<random UUID>", client-go's usual identity.
std::string default_identity();

// "2024-01-02T03:04:05.123456Z" (metav1.MicroTime).
std::string format_micro_time(std::chrono::system_clock::time_point t);

class LeaderElector {
public:
  // Fails as validate() does. `api` (thread-safe), `clock` and `logger` (may be null) must
  // outlive the elector. `clock` must be safe to read from the elector's thread.
  static util::Result<std::unique_ptr<LeaderElector>>
  create(Api& api, LeaderElectionOptions options, LeaderCallbacks callbacks, util::Clock& clock,
         log::Logger* logger = nullptr);
  ~LeaderElector(); // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void start(); // starts the thread (once)
  void stop();  // ends the loop, releases a held Lease, joins; idempotent

  // Whether this replica leads now: between on_started_leading and on_stopped_leading, and the
  // last Lease record seen names us.
  bool is_leader() const;
  const std::string& identity() const { return m_options.identity; }
  std::string leader() const; // the holder last seen ("" unknown or released)

private:
  struct Record {
    std::string holder;
    std::int64_t lease_duration_seconds = 0;
    std::string acquire_time;
    std::string renew_time;
    std::int64_t transitions = 0;
    bool operator==(const Record&) const = default;
  };

  LeaderElector(Api& api, LeaderElectionOptions options, LeaderCallbacks callbacks,
                util::Clock& clock, log::Logger* logger);
  void run();
  bool try_acquire_or_renew();
  void release();
  void observe(const Record& record, std::chrono::steady_clock::time_point when);
  bool observed_self() const;
  bool write(const Record& record); // create or update the Lease (m_lease: last seen)
  void set_leading(bool leading);
  void warn(const char* what, const util::Error& error);

  Api& m_api;
  LeaderElectionOptions m_options;
  LeaderCallbacks m_callbacks;
  util::Clock& m_clock;
  log::Logger* m_logger;
  StopSignal m_stop;
  std::thread m_thread;
  bool m_started = false;
  std::mt19937_64 m_random;

  // Elector thread only.
  Record m_observed;
  std::chrono::steady_clock::time_point m_observed_time{};
  std::string m_lease; // the Lease JSON last read or written ("" = none seen)
  std::string m_reported;

  mutable std::mutex m_mutex; // guards the two below, read by is_leader() and leader()
  bool m_leading = false;
  std::string m_holder;
};

} // namespace common::kube
