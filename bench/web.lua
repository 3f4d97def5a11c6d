-- wrk script: web decisions as a clerk and an enterprise make them in the browser. Each
-- connection drives one project through "return" (the agency's form, with its comment) and
-- "submit" (the enterprise's form) in turn; a decision is the form POST (CSRF token, the
-- version the page showed), the step, the redirect it answers with and the project page it
-- leads to, rendered. Cookies follow Set-Cookie as a browser's do (the flash message travels
-- in the session). Clients are read from the file named by JIGAI_CLIENTS, one per line:
--   project id <TAB> version <TAB> status <TAB> agency cookie <TAB> agency CSRF token
--   <TAB> enterprise cookie <TAB> enterprise CSRF token
-- JIGAI_COMMENT holds the return's comment, form-encoded. A decision's latency runs from its
-- POST to the page's last byte (wrk's own figures are per request), on the monotonic clock.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } jigai_timespec;
  int clock_gettime(int clock, jigai_timespec *ts);
]]
local clock = ffi.new("jigai_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("slot", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local n = 0
  for line in io.lines(os.getenv("JIGAI_CLIENTS")) do
    n = n + 1
    if n == slot then
      local f = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(f, field) end
      project, version, status = f[1], tonumber(f[2]), f[3]
      cookies = {agency = f[4], enterprise = f[6]}
      tokens = {agency = f[5], enterprise = f[7]}
    end
  end
  comment = os.getenv("JIGAI_COMMENT")
  phase, actor, started, location = "post", nil, 0, nil
  answers, latencies, decisions = {}, {}, 0
end

function request()
  if phase == "get" then
    return wrk.format("GET", location, {Cookie = cookies[actor]})
  end
  started = now_ms()
  local trigger, body
  if status == "declared" then
    actor, trigger = "agency", "return"
    body = string.format("csrf_token=%s&version=%d&comment=%s", tokens.agency, version, comment)
  else
    actor, trigger = "enterprise", "submit"
    body = string.format("csrf_token=%s&version=%d", tokens.enterprise, version)
  end
  return wrk.format("POST", "/projects/" .. project .. "/act/" .. trigger,
                    {Cookie = cookies[actor],
                     ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

local function keep_cookie(headers)
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set then
    cookies[actor] = string.match(set, "^([^;]+)")
  end
end

function response(code, headers, body)
  local key = phase .. " " .. code
  answers[key] = (answers[key] or 0) + 1
  keep_cookie(headers)
  if phase == "post" then
    if code == 302 then  -- done: the step moved the version on by one
      version = version + 1
      status = (status == "declared") and "returned" or "declared"
      location = string.gsub(headers["Location"] or headers["location"], "^https?://[^/]+", "")
      phase = "get"
    end
  else
    if code == 200 then
      decisions = decisions + 1
      latencies[decisions] = now_ms() - started
    end
    phase = "post"
  end
end

function done(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    for _, ms in ipairs(thread:get("latencies")) do table.insert(all, ms) end
    io.write(string.format("client\t%d\t%d\t%s\n", thread:get("slot"), thread:get("version"),
                           thread:get("status")))
    for key, count in pairs(thread:get("answers")) do
      io.write(string.format("answers\t%s\t%d\n", key, count))
    end
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    return all[math.max(1, math.min(#all, math.floor(p / 100 * (#all - 1) + 0.5) + 1))]
  end
  io.write(string.format("duration\t%d\ndecisions\t%d\n", summary.duration, #all))
  io.write(string.format("p50\t%.3f\np95\t%.3f\n", pct(50), pct(95)))
end
