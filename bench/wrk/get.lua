-- wrk script for GETs of a page (bench/agents_page.py): the URL and headers (-H) come from wrk's
-- command line; each thread counts the answers' statuses, and done() prints wrk's figures with those
-- counts as one JSON line (bench/wrk.py's `get` reads it).
local figures = require("figures")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write("WRK_JSON " .. figures.json(summary, latency, ', "statuses": {' .. table.concat(parts, ", ") .. "}")
           .. "\n")
end
