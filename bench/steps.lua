-- wrk script: each connection drives one project through the same two steps in turn,
-- "return" (as the agency) and "submit" (as the enterprise), carrying the version each answer
-- gives back. The clients are read from the file named by JIGAI_CLIENTS, one per line:
--   path <TAB> version <TAB> status <TAB> kind <TAB> agency token <TAB> enterprise token
-- kind "api" posts {"trigger", "version", "comment"} with a bearer token; kind "bare" posts
-- {"version", "status"} to the bare endpoint. At the end every client's state is printed
-- (for the next run) with the counts of answers by status.

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
      path, version, status, kind, agency, enterprise = f[1], tonumber(f[2]), f[3], f[4], f[5], f[6]
    end
  end
  answers = {}
end

function request()
  local headers = {["Content-Type"] = "application/json"}
  local body
  if kind == "api" then
    headers["Prefer"] = os.getenv("JIGAI_PREFER") or "return=minimal"
    if status == "declared" then
      headers["Authorization"] = "Bearer " .. agency
      body = string.format('{"trigger":"return","version":%d,"comment":"请补充设备清单"}', version)
    else
      headers["Authorization"] = "Bearer " .. enterprise
      body = string.format('{"trigger":"submit","version":%d}', version)
    end
  else
    body = string.format('{"version":%d,"status":"%s"}', version, status)
  end
  return wrk.format("POST", path, headers, body)
end

function response(code, headers, body)
  answers[code] = (answers[code] or 0) + 1
  if code == 200 then
    version = tonumber(string.match(body, '"version":%s*(%d+)'))
    status = string.match(body, '"status":%s*"([%w_]+)"')
  end
end

function done(summary, latency, requests)
  io.write(string.format("duration\t%d\n", summary.duration))
  io.write(string.format("p50\t%d\np95\t%d\n", latency:percentile(50), latency:percentile(95)))
  for _, thread in ipairs(threads) do
    io.write(string.format("client\t%d\t%d\t%s\n", thread:get("slot"), thread:get("version"),
                           thread:get("status")))
    for code, count in pairs(thread:get("answers")) do
      io.write(string.format("answers\t%d\t%d\n", code, count))
    end
  end
end
