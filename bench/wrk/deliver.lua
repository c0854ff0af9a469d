-- One signed webhook delivery per request, as GitHub sends it, for bench/intake.py.
--
--   wrk ... -s bench/wrk/deliver.lua URL -- BODY_FILE SIGNATURE PREFIX [close|keepalive] [unique|duplicate]
--
-- The body is signed once (a Lua script cannot compute an HMAC); X-GitHub-Delivery is outside the
-- signature, so every request gets a fresh id PREFIX-<thread>-<n> (the bot dedupes by it). With
-- "duplicate" every request repeats one id: the duplicate path. With "close" every request asks for
-- its own TCP connection (GitHub opens one per delivery). done() prints one JSON line for the caller.

local figures = require("figures")
local thread_number = 0
local counter = 0
local prefix = ""
local fixed = false

function setup(thread)
  thread_number = thread_number + 1
  thread:set("tid", thread_number)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["User-Agent"] = "GitHub-Hookshot/bench"
  wrk.headers["X-GitHub-Event"] = "issue_comment"
  wrk.headers["X-GitHub-Hook-ID"] = "424242"
  wrk.headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
  wrk.headers["X-GitHub-Hook-Installation-Target-ID"] = "1234"
  wrk.headers["X-Hub-Signature-256"] = args[2]
  if args[4] == "close" then
    wrk.headers["Connection"] = "close"
  end
  if args[5] == "duplicate" then
    fixed = true
    wrk.headers["X-GitHub-Delivery"] = args[3] .. "-dup"
  end
  prefix = args[3] .. "-" .. tostring(tid) .. "-"
end

function request()
  if not fixed then
    counter = counter + 1
    wrk.headers["X-GitHub-Delivery"] = prefix .. counter
  end
  return wrk.format()
end

function done(summary, latency, requests)
  io.write("WRK_JSON " .. figures.json(summary, latency) .. "\n")
end
