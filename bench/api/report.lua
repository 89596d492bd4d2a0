-- Shared by bench/api/*.lua (loaded with dofile): counts the responses that are not 2xx in each
-- wrk thread and, in done(), prints one machine-readable line that bench/api.sh turns into a
-- table row:
--   wrk-result requests=N duration_s=X rps=X p50_ms=X p90_ms=X p99_ms=X max_ms=X non2xx=N
--              connect=N read=N write=N timeout=N posts=N puts=N
-- (posts and puts: requests mixed.lua sent, 0 for the other scripts.)
-- Latencies are wrk's (after its coordinated-omission correction).
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

non2xx = 0

function count_status(status)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function response(status, headers, body)
  count_status(status)
end

function done(summary, latency, requests)
  local bad, posts, puts = 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    posts = posts + (t:get("created") or 0)
    puts = puts + (t:get("updates") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f " ..
    "max_ms=%.2f non2xx=%d connect=%d read=%d write=%d timeout=%d posts=%d puts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / summary.duration * 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, bad, e.connect, e.read, e.write, e.timeout, posts, puts))
end
