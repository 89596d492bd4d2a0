-- wrk script for a plain GET of the URL on wrk's command line (one object, or a list): the
-- request is static (wrk builds it once); report.lua counts non-2xx responses and prints the
-- result line.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
