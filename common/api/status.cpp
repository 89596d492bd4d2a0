#include "common/api/status.hpp"

#include <nlohmann/json.hpp>

#include "common/util/outcome.hpp"

namespace common::api {
namespace {

nlohmann::json details_json(const StatusDetails& d) {
  nlohmann::json out = nlohmann::json::object();
  if (!d.name.empty()) {
    out["name"] = d.name;
  }
  if (!d.group.empty()) {
    out["group"] = d.group;
  }
  if (!d.kind.empty()) {
    out["kind"] = d.kind;
  }
  if (!d.uid.empty()) {
    out["uid"] = d.uid;
  }
  if (!d.causes.empty()) {
    nlohmann::json causes = nlohmann::json::array();
    for (const Cause& c : d.causes) {
      nlohmann::json cause = {{"reason", c.reason}, {"message", c.message}};
      if (!c.field.empty()) {
        cause["field"] = c.field;
      }
      causes.push_back(std::move(cause));
    }
    out["causes"] = std::move(causes);
  }
  return out;
}

HttpResponse make(int code, nlohmann::json status) {
  HttpResponse r;
  r.status = code;
  r.content_type = "application/json";
  // Messages may quote client bytes that are not UTF-8: replace them rather than throw.
  r.body = status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

} // namespace

HttpResponse status_response(int code, const std::string& reason, const std::string& message,
                             const StatusDetails& details) {
  nlohmann::json s = {
      {"apiVersion", "v1"},  {"kind", "Status"},   {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
  nlohmann::json d = details_json(details);
  if (!d.empty()) {
    s["details"] = std::move(d);
  }
  return make(code, std::move(s));
}

HttpResponse success_response(const StatusDetails& details) {
  nlohmann::json s = {{"apiVersion", "v1"},
                      {"kind", "Status"},
                      {"metadata", nlohmann::json::object()},
                      {"status", "Success"},
                      {"details", details_json(details)}};
  return make(200, std::move(s));
}

HttpResponse error_response(const util::Error& error, const StatusDetails& details,
                            bool callers_credentials) {
  if (callers_credentials && error.kind == util::ErrorKind::auth) {
    return status_response(403, "Forbidden", error.message, details);
  }
  const util::Outcome& o = util::outcome(error.kind);
  return status_response(o.http_status, std::string(o.http_reason), error.message, details);
}

} // namespace common::api
