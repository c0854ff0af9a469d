-- wrk's figures as one JSON object, for the done() of bench/wrk's scripts; they find it with
-- require("figures") on the LUA_PATH bench/wrk.py gives wrk (this folder).
local figures = {}

-- `extra`: more JSON members, each starting with ", ".
function figures.json(summary, latency, extra)
  local e = summary.errors
  return string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "non_2xx_3xx": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f%s}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    extra or "")
end

return figures
