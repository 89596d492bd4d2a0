-- wrk script for a mixed create/update load on the collection URL on wrk's command line
-- (.../namespaces/NS/imageupdaters):
--   wrk ... -s bench/api/mixed.lua URL -- [PUT_SHARE]      (default 0.5)
-- Each request is, with probability PUT_SHARE, a PUT (replace) of an object this wrk thread
-- created earlier, else a POST of a new object with a unique name (t<thread>-<n>). No request
-- can get a 409: names carry the thread id, and a thread's objects sit in a FIFO pool with
-- their current resourceVersion (read from the 201/200 response body); an object leaves the
-- pool when a PUT of it is sent and comes back with its new resourceVersion when the response
-- arrives, so one object never has two requests in flight. While the pool is empty (the
-- start), requests are POSTs. Objects use a closed loopback registry (127.0.0.1:9).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

local put_share = 0.5
local headers = {["Content-Type"] = "application/json"}
local pool, head, tail = {}, 1, 0 -- FIFO of {name, resource_version}
created, updates = 0, 0 -- requests sent; globals, so that report.lua's done() can sum them

local function body(name, resource_version, minor)
  local rv = resource_version and string.format(',"resourceVersion":"%s"', resource_version) or ""
  return string.format(
    '{"apiVersion":"gitops.kubesphere.io/v1alpha1","kind":"ImageUpdater",' ..
    '"metadata":{"name":"%s"%s},"spec":{"kind":"argocd",' ..
    '"images":["app=127.0.0.1:9/demo/app:^1.%d"],"argocd":{"app":{"name":"web"}}}}',
    name, rv, minor)
end

function init(args)
  if args[1] then
    put_share = tonumber(args[1])
  end
  math.randomseed(thread_id or 1)
end

function request()
  if head <= tail and math.random() < put_share then
    local o = pool[head]
    pool[head] = nil
    head = head + 1
    updates = updates + 1
    return wrk.format("PUT", wrk.path .. "/" .. o[1], headers,
                      body(o[1], o[2], updates % 10))
  end
  created = created + 1
  return wrk.format("POST", wrk.path, headers,
                    body(string.format("t%d-%d", thread_id or 0, created), nil, 0))
end

function response(status, headers_, text)
  count_status(status)
  if status == 200 or status == 201 then
    -- JSON keys are sorted: metadata.name is the first "name" (spec.argocd.app.name follows).
    local name = text:match('"name":"([^"]+)"')
    local rv = text:match('"resourceVersion":"(%d+)"')
    if name and rv then
      tail = tail + 1
      pool[tail] = {name, rv}
    end
  end
end
