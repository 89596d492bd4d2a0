// The OpenAPI 3.0 document of the ImageUpdater API (what GET /openapi.json serves and
// docs/openapi.json holds): every route, its parameters, bodies, responses and the schemas of
// ImageUpdater, ImageUpdaterList and Status. Pure and deterministic (keys sorted, compact
// unless `indent` >= 0).
#pragma once

#include <string>

namespace common::api {

std::string openapi_document(int indent = -1);

} // namespace common::api
