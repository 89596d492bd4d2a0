// Metrics in the Prometheus text exposition format (version 0.0.4): counters, gauges and
// histograms with labels, registered once and updated from any thread. Output is deterministic:
// families in registration order, series sorted by label values.
//
// Label values are whatever the caller passes, so callers keep their cardinality bounded (route
// templates, not paths; status codes; kinds). The registry does no I/O; a transport serves
// expose() (the service's GET /metrics).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace common::metrics {

using Labels = std::vector<std::string>; // values, in the order of the family's label names

class Family {
public:
  virtual ~Family() = default;
  virtual void expose(std::string& out) const = 0;
};

class Counter final : public Family {
public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names);
  void inc(const Labels& labels, double by = 1);
  double value(const Labels& labels) const; // 0 for a series never touched
  void expose(std::string& out) const override;

private:
  std::string m_name, m_help;
  std::vector<std::string> m_label_names;
  mutable std::mutex m_mutex;
  std::map<Labels, double> m_values;
};

class Gauge final : public Family {
public:
  Gauge(std::string name, std::string help, std::vector<std::string> label_names);
  void set(const Labels& labels, double value);
  void add(const Labels& labels, double by);
  double value(const Labels& labels) const;
  void expose(std::string& out) const override;

private:
  std::string m_name, m_help;
  std::vector<std::string> m_label_names;
  mutable std::mutex m_mutex;
  std::map<Labels, double> m_values;
};

class Histogram final : public Family {
public:
  // `bounds`: the upper bounds of the buckets, increasing; +Inf is implied.
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  void observe(const Labels& labels, double value);
  std::size_t count(const Labels& labels) const;
  void expose(std::string& out) const override;

private:
  struct Series {
    std::vector<std::size_t> buckets; // per bound, not cumulative
    std::size_t count = 0;
    double sum = 0;
  };
  std::string m_name, m_help;
  std::vector<std::string> m_label_names;
  std::vector<double> m_bounds;
  mutable std::mutex m_mutex;
  std::map<Labels, Series> m_series;
};

// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> latency_buckets();

class Registry {
public:
  // The families live as long as the registry; the references stay valid.
  Counter& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Gauge& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Histogram& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds);
  // The whole exposition, "text/plain; version=0.0.4".
  std::string expose() const;

private:
  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<Family>> m_families;
};

inline constexpr const char* k_content_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace common::metrics
