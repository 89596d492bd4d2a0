#include "common/metrics/registry.hpp"

#include <cmath>
#include <cstdio>
#include <utility>

namespace common::metrics {

namespace {

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
void append_escaped(std::string& out, const std::string& s, bool quote) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string number(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(v)) {
    return "NaN";
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
    return buffer;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE " + name + ' ' + type + '\n';
}

// `{a="x",b="y"}` (with `extra` appended, e.g. le="0.5"), "" when there are no labels.
std::string label_set(const std::vector<std::string>& names, const Labels& values,
                      const std::string& extra = "") {
  if (names.empty() && extra.empty()) {
    return "";
  }
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i] + "=\"";
    append_escaped(out, i < values.size() ? values[i] : std::string(), true);
    out += '"';
  }
  if (!extra.empty()) {
    out += names.empty() ? "" : ",";
    out += extra;
  }
  out += '}';
  return out;
}

void expose_values(std::string& out, const std::string& name, const std::string& help,
                   const char* type, const std::vector<std::string>& label_names,
                   const std::map<Labels, double>& values) {
  header(out, name, help, type);
  for (const auto& [labels, value] : values) {
    out += name + label_set(label_names, labels) + ' ' + number(value) + '\n';
  }
}

} // namespace

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names)
    : m_name(std::move(name)), m_help(std::move(help)), m_label_names(std::move(label_names)) {}

void Counter::inc(const Labels& labels, double by) {
  const std::lock_guard lock(m_mutex);
  m_values[labels] += by;
}

double Counter::value(const Labels& labels) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_values.find(labels);
  return it == m_values.end() ? 0 : it->second;
}

void Counter::expose(std::string& out) const {
  const std::lock_guard lock(m_mutex);
  expose_values(out, m_name, m_help, "counter", m_label_names, m_values);
}

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names)
    : m_name(std::move(name)), m_help(std::move(help)), m_label_names(std::move(label_names)) {}

void Gauge::set(const Labels& labels, double value) {
  const std::lock_guard lock(m_mutex);
  m_values[labels] = value;
}

void Gauge::add(const Labels& labels, double by) {
  const std::lock_guard lock(m_mutex);
  m_values[labels] += by;
}

double Gauge::value(const Labels& labels) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_values.find(labels);
  return it == m_values.end() ? 0 : it->second;
}

void Gauge::expose(std::string& out) const {
  const std::lock_guard lock(m_mutex);
  expose_values(out, m_name, m_help, "gauge", m_label_names, m_values);
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : m_name(std::move(name)), m_help(std::move(help)), m_label_names(std::move(label_names)),
      m_bounds(std::move(bounds)) {}

void Histogram::observe(const Labels& labels, double value) {
  const std::lock_guard lock(m_mutex);
  Series& series = m_series[labels];
  if (series.buckets.empty()) {
    series.buckets.assign(m_bounds.size(), 0);
  }
  for (std::size_t i = 0; i < m_bounds.size(); ++i) {
    if (value <= m_bounds[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.sum += value;
}

std::size_t Histogram::count(const Labels& labels) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_series.find(labels);
  return it == m_series.end() ? 0 : it->second.count;
}

void Histogram::expose(std::string& out) const {
  const std::lock_guard lock(m_mutex);
  header(out, m_name, m_help, "histogram");
  for (const auto& [labels, series] : m_series) {
    std::size_t cumulative = 0;
    for (std::size_t i = 0; i < m_bounds.size(); ++i) {
      cumulative += series.buckets[i];
      out += m_name + "_bucket" +
             label_set(m_label_names, labels, "le=\"" + number(m_bounds[i]) + "\"") + ' ' +
             std::to_string(cumulative) + '\n';
    }
    out += m_name + "_bucket" + label_set(m_label_names, labels, "le=\"+Inf\"") + ' ' +
           std::to_string(series.count) + '\n';
    out += m_name + "_sum" + label_set(m_label_names, labels) + ' ' + number(series.sum) + '\n';
    out += m_name + "_count" + label_set(m_label_names, labels) + ' ' +
           std::to_string(series.count) + '\n';
  }
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Counter& Registry::counter(std::string name, std::string help,
                           std::vector<std::string> label_names) {
  auto family = std::make_unique<Counter>(std::move(name), std::move(help), std::move(label_names));
  Counter& ref = *family;
  const std::lock_guard lock(m_mutex);
  m_families.push_back(std::move(family));
  return ref;
}

Gauge& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  auto family = std::make_unique<Gauge>(std::move(name), std::move(help), std::move(label_names));
  Gauge& ref = *family;
  const std::lock_guard lock(m_mutex);
  m_families.push_back(std::move(family));
  return ref;
}

Histogram& Registry::histogram(std::string name, std::string help,
                               std::vector<std::string> label_names, std::vector<double> bounds) {
  auto family = std::make_unique<Histogram>(std::move(name), std::move(help),
                                            std::move(label_names), std::move(bounds));
  Histogram& ref = *family;
  const std::lock_guard lock(m_mutex);
  m_families.push_back(std::move(family));
  return ref;
}

std::string Registry::expose() const {
  std::string out;
  const std::lock_guard lock(m_mutex);
  for (const auto& family : m_families) {
    family->expose(out);
  }
  return out;
}

} // namespace common::metrics
