// Bounded parallelism for independent work items (registry requests for several images or
// tags): no thread pool, no global state, threads live for one call.
#pragma once

#include <cstddef>
#include <functional>

namespace common::util {

// Calls fn(i) once for every i in [0, n), on at most `jobs` threads (the calling thread is one
// of them; jobs 0 or 1 runs everything on the calling thread, in order). Items are taken in
// increasing order; callers keep output deterministic by writing result i to slot i. Returns
// when every call has returned. If a call throws, the remaining items are not started and the
// first exception is rethrown here after all threads have joined. `fn` must be safe to call
// concurrently.
void parallel_for(std::size_t n, std::size_t jobs, const std::function<void(std::size_t)>& fn);

} // namespace common::util
