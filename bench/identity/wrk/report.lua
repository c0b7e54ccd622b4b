-- Shared by every workload: at the end wrk prints one line "WRKJSON {...}" for bench.py
-- (latencies in microseconds; err_* are wrk's error counters; status = non-2xx/3xx replies).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"lat_min":%d,"lat_mean":%.1f,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"lat_max":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.min, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
