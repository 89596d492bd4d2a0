// Jsonnet for directory applications, as Argo CD's directory source evaluates `.jsonnet` files
// (external variables, top-level arguments, library paths), confined to the application's
// repository: every import must resolve, symlinks followed, inside the repository root (go-jsonnet
// as Argo CD runs it would read any file of the repo-server, mounted secrets included).
//
// Evaluation is CPU- and memory-hungry on hostile input (unbounded recursion with tailstrict,
// huge arrays), so the renderer runs it in a child process it can kill at a deadline:
// `imageupdater-cmp jsonnet-eval` reads a JsonnetJob as JSON on stdin and prints the result.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::render {

struct JsonnetJob {
  std::string file;              // the .jsonnet file, canonical, inside `root`
  std::string root;              // canonical repository root: no import leaves it
  std::string app_dir;           // canonical application directory (searched last)
  std::vector<std::string> libs; // canonical library directories, in the order given
  std::map<std::string, std::string> ext_vars, ext_code, tlas, tla_code;
  std::size_t max_import_bytes = std::size_t{16} << 20; // per imported file
};

// The job as JSON (for the child's stdin) and back. job_from_json fails (invalid_input) on
// anything that is not such an object.
std::string to_json(const JsonnetJob& job);
util::Result<JsonnetJob> job_from_json(std::string_view text);

// Evaluates job.file in this process; the JSON text of the result. Imports are looked up as
// go-jsonnet's FileImporter does (the importing file's directory, then the libraries from last to
// first, then the application directory) and refused when they resolve outside job.root or are
// absolute paths outside it. Fails with invalid_input carrying Jsonnet's own message (file, line,
// column) for evaluation errors and refused imports.
util::Result<std::string> evaluate_jsonnet(const JsonnetJob& job);

// Argo CD's reading of a Jsonnet result: an array of objects (null items skipped) or one object.
// Returns them as a YAML stream of JSON documents, each after a "---" line. Fails (invalid_input,
// naming `file`) when the result is neither.
util::Result<std::string> jsonnet_documents(std::string_view json, std::string_view file);

} // namespace common::render
