#!/usr/bin/python3
"""Measurement harness of bench/identity (Python standard library only; run with /usr/bin/python3).

Runs wrk (or a timed command) against one server while sampling that server's processes -- the
root pid and all its descendants: the sum of VmRSS every 0.2 s (peak and end), the sum of
VmHWM and of PSS at the end, their CPU time -- and the whole machine's CPU, so that a run
disturbed by other work on the machine is flagged `noisy` and retried. Every run appends one
JSON object to the --out file (JSON lines).

  bench.py wrk   --out F --name W --target T --pids SPEC --url URL --script X.lua
                 [--conc 1,8,32] [--duration 10] [--warmup S --warmup-conc C] [--env K=V ...]
  bench.py pair  --out F --name W --target T --pids SPEC --url URL --bg-script A.lua --bg-conc 8
                 --script B.lua --conc 8 [--duration 10] [--env K=V ...]
                 (A runs in the background from 2 s before B until 2 s after; B is measured)
  bench.py cmd   --out F --name W -- command ...   (the command prints one JSON object)
  bench.py idle  --out F --target T --pids SPEC     (memory of an idle server)
  bench.py facts --out F [--env K=V ...]            (machine, versions, load)
  bench.py quiet [--busy 30] [--max-wait 120]       (wait for the machine to be idle)
  bench.py settle --pids SPEC [--max-wait 120]      (wait for one server to be idle)

SPEC: pidfile:/path/x.pid | pid:1234 | none
"""
import argparse, json, os, platform, re, subprocess, sys, threading, time

ID_DIR = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def proc_table(names=None):
    """pid -> (ppid, utime+stime ticks); fills names[pid] = comm when given"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        s = _read(f"/proc/{d}/stat")
        if not s:
            continue
        rest = s[s.rfind(")") + 2:].split()
        out[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
        if names is not None:
            names[int(d)] = s[s.find("(") + 1:s.rfind(")")]
    return out


def root_pids(spec):
    """the root processes named by spec: "pid:N", "pidfile:/a.pid[,/b.pid ...]" (a server made
    of several processes, e.g. Swift's proxy, account, container, object servers), or none"""
    if not spec or spec == "none":
        return []
    if spec.startswith("pid:"):
        return [int(spec[4:])]
    if spec.startswith("pidfile:"):
        out = []
        for f in spec[8:].split(","):
            s = _read(f)
            if s and s.strip().isdigit():
                out.append(int(s.strip()))
        return out
    raise SystemExit(f"bad --pids {spec!r}")


def root_pid(spec):
    r = root_pids(spec)
    return r[0] if r else None


def service_pids(spec, table):
    """the root processes of spec and all their descendants (that are alive in table)"""
    pids = {r for r in root_pids(spec) if r in table}
    changed = bool(pids)
    while changed:
        changed = False
        for p, (pp, _) in table.items():
            if pp in pids and p not in pids:
                pids.add(p)
                changed = True
    return pids


def status_kb(pid, field):
    s = _read(f"/proc/{pid}/status")
    m = re.search(rf"^{field}:\s+(\d+) kB", s or "", re.M)
    return int(m.group(1)) if m else 0


def pss_kb(pid):
    s = _read(f"/proc/{pid}/smaps_rollup")
    m = re.search(r"^Pss:\s+(\d+) kB", s or "", re.M)
    return int(m.group(1)) if m else 0


def mem_snapshot(spec):
    pids = service_pids(spec, proc_table())
    return {
        "svc_nprocs": len(pids),
        "svc_rss_mib": round(sum(status_kb(p, "VmRSS") for p in pids) / 1024, 1),
        "svc_hwm_mib": round(sum(status_kb(p, "VmHWM") for p in pids) / 1024, 1),
        "svc_pss_mib": round(sum(pss_kb(p) for p in pids) / 1024, 1),
        "svc_threads": sum(int(re.search(r"^Threads:\s+(\d+)", _read(f"/proc/{p}/status") or
                                         "Threads: 0", re.M).group(1)) for p in pids),
    }


def cpu_stat():
    v = list(map(int, _read("/proc/stat").splitlines()[0].split()[1:9]))
    return sum(v), v[3] + v[4], v[5] + v[6], v[7]   # total, idle+iowait, irq+softirq, steal


class RssSampler(threading.Thread):
    """every 0.2 s: the sum of VmRSS over the server's processes (keeps the peak), and their CPU
    time, to find stalls: stretches in which the server used (almost) no CPU although the load
    generator keeps requests outstanding all the time (closed loop)"""

    def __init__(self, spec):
        super().__init__(daemon=True)
        self.spec, self.peak_kb, self.halt = spec, 0, threading.Event()
        self.stall_s = 0.0          # longest stretch with <= 1 tick of server CPU a sample

    def run(self):
        t_start, last_ticks, idle_since = time.time(), None, None
        while not self.halt.is_set():
            tab = proc_table()
            pids = service_pids(self.spec, tab)
            self.peak_kb = max(self.peak_kb, sum(status_kb(p, "VmRSS") for p in pids))
            ticks, now = sum(tab[p][1] for p in pids), time.time()
            if pids and last_ticks is not None and now - t_start > 1.0:
                if ticks - last_ticks <= 1:
                    idle_since = idle_since or now
                    self.stall_s = max(self.stall_s, now - idle_since)
                else:
                    idle_since = None
            last_ticks = ticks
            self.halt.wait(0.2)


def svc_ticks(spec):
    t = proc_table()
    return sum(t[p][1] for p in service_pids(spec, t))


def quiesce(spec, max_wait=90.0):
    """wait until the server uses < 10 % of a core over 0.5 s: requests still queued from the
    previous run must not leak into the next one"""
    if root_pid(spec) is None:
        return 0.0
    t0 = time.time()
    while time.time() - t0 < max_wait:
        a = svc_ticks(spec)
        time.sleep(0.5)
        if 100.0 * (svc_ticks(spec) - a) / HZ / 0.5 < 10.0:
            return round(time.time() - t0, 1)
    print("warning: server did not quiesce", file=sys.stderr)
    return round(time.time() - t0, 1)


def measure(spec, fn):
    """run fn() -> dict while sampling the server and the machine; returns the merged dict"""
    quiet_s = quiesce(spec)
    names0 = {}
    tab0 = proc_table(names0)
    pids0 = service_pids(spec, tab0)
    c0 = {p: tab0[p][1] for p in pids0}
    tot0, idle0, irq0, steal0 = cpu_stat()
    ch0, me0 = os.times(), os.times()
    load0 = _read("/proc/loadavg").split()[0]
    samp = RssSampler(spec)
    samp.start()
    t0 = time.time()
    res = fn()
    wall = time.time() - t0
    samp.halt.set()
    samp.join()
    names = {}
    tab1 = proc_table(names)
    pids1 = service_pids(spec, tab1)
    tot1, idle1, irq1, steal1 = cpu_stat()
    t1 = os.times()
    me = os.getpid()
    svc = sum(tab1[p][1] - c0.get(p, 0) for p in pids1) / HZ
    gen = (t1.children_user - ch0.children_user) + (t1.children_system - ch0.children_system)
    own = (t1.user - me0.user) + (t1.system - me0.system)
    busy = ((tot1 - tot0) - (idle1 - idle0)) / HZ
    irq, steal = (irq1 - irq0) / HZ, (steal1 - steal0) / HZ
    kthreads = {p for p, v in tab1.items() if p == 2 or v[0] == 2}
    kern, foreign = 0, {}
    for p, (pp, ticks) in tab1.items():
        if p in pids1 or p == me:
            continue
        d = ticks - (tab0[p][1] if p in tab0 and names0.get(p) == names.get(p) else 0)
        if d <= 0:
            continue
        if p in kthreads:
            kern += d
        else:
            foreign[names.get(p, "?")] = foreign.get(names.get(p, "?"), 0) + d
    pct = lambda sec: round(100.0 * sec / wall, 1)   # % of one core
    other = sum(foreign.values()) / HZ
    residual = busy - steal - irq - kern / HZ - svc - gen - own
    mem = mem_snapshot(spec)
    res.update({
        "wall_s": round(wall, 2), "quiesce_s": quiet_s,
        "svc_cpu_pct": pct(svc), "loadgen_cpu_pct": pct(gen), "harness_cpu_pct": pct(own),
        "machine_busy_pct": pct(busy), "irq_softirq_pct": pct(irq), "steal_pct": pct(steal),
        "kthread_cpu_pct": pct(kern / HZ),
        # other processes on the machine (alive at the end), and what is left of the machine's
        # busy time after everything we can name (includes short-lived processes, e.g. compilers)
        "other_cpu_pct": pct(other), "unaccounted_cpu_pct": pct(max(0.0, residual)),
        "other_top": sorted(((round(100.0 * t / HZ / wall, 1), n) for n, t in foreign.items()),
                            reverse=True)[:3],
        "ncpu": os.cpu_count(), "load1_start": float(load0),
        "load1_end": float(_read("/proc/loadavg").split()[0]),
        "stall_s": round(samp.stall_s, 1),
        "svc_rss_peak_mib": round(samp.peak_kb / 1024, 1), "svc_rss_end_mib": mem["svc_rss_mib"],
        "svc_hwm_sum_mib": mem["svc_hwm_mib"], "svc_pss_end_mib": mem["svc_pss_mib"],
        "svc_nprocs": mem["svc_nprocs"], "svc_threads": mem["svc_threads"],
    })
    return res


def wrk_cmd(url, script, conc, duration, threads=None):
    threads = threads or (1 if conc == 1 else 2)
    return threads, ["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{duration}s",
                     "--timeout", "30s", "--latency", "-s", os.path.join(ID_DIR, "wrk", script),
                     url]


def wrk_env(env):
    return dict(os.environ, WRK_DIR=os.path.join(ID_DIR, "wrk"), **env)


def parse_wrk(out, err, rc, threads, prefix=""):
    m = re.search(r"^WRKJSON (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError(f"wrk failed rc={rc}\n{out}\n{err}")
    j = json.loads(m.group(1))
    dur = j["duration_us"] / 1e6
    # A server that closes the connection after each response (Keystone's uwsgi drops
    # Content-Length) makes wrk count one read error a request: not counted as an error.
    errs = sum(j[k] for k in ("err_connect", "err_write", "err_status", "err_timeout"))
    r = {
        "threads": threads, "requests": j["requests"], "duration_s": round(dur, 3),
        "rps": round(j["requests"] / dur, 2) if dur else 0.0,
        "p50_ms": j["p50"] / 1000.0, "p90_ms": j["p90"] / 1000.0, "p99_ms": j["p99"] / 1000.0,
        "p999_ms": j["p999"] / 1000.0, "max_ms": j["lat_max"] / 1000.0,
        "mean_ms": round(j["lat_mean"] / 1000.0, 3), "errors": errs,
        "err_status": j["err_status"], "err_timeout": j["err_timeout"],
        "err_connect": j["err_connect"], "err_read_or_close": j["err_read"], "rx_bytes": j["bytes"],
    }
    return {prefix + k: v for k, v in r.items()}


def run_wrk(url, script, conc, duration, env):
    threads, cmd = wrk_cmd(url, script, conc, duration)
    p = subprocess.run(cmd, env=wrk_env(env), capture_output=True, text=True)
    return parse_wrk(p.stdout, p.stderr, p.returncode, threads)


def run_pair(a, env):
    """background load (bg script) for duration+4 s; the measured wrk starts after 2 s"""
    bthreads, bcmd = wrk_cmd(a.url, a.bg_script, a.bg_conc, a.duration + 4)
    bg = subprocess.Popen(bcmd, env=wrk_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    fg = run_wrk(a.url, a.script, a.conc, a.duration, env)
    out, err = bg.communicate()
    fg.update(parse_wrk(out, err, bg.returncode, bthreads, prefix="bg_"))
    fg["bg_script"], fg["bg_conc"] = a.bg_script, a.bg_conc
    return fg


def append(path, rec):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def fmt(r):
    s = f"{r['target']:<9} {r['name']:<16} c={r.get('conc', '-')!s:<3}"
    if "rps" in r:
        s += (f" {r['rps']:>9.1f}/s p50={r['p50_ms']:.2f}ms p99={r['p99_ms']:.2f}ms"
              f" err={r['errors']}")
    if "bg_rps" in r:
        s += f" [bg {r['bg_rps']:.1f}/s p99={r['bg_p99_ms']:.0f}ms err={r['bg_errors']}]"
    if "per_s" in r:
        s += f" {r['impl']} x{r['threads']}: {r['per_s']}/s, {r['cpu_ms_each']} ms CPU each"
    s += (f" svcCPU={r['svc_cpu_pct']}% wrkCPU={r['loadgen_cpu_pct']}% other={r['other_cpu_pct']}%"
          f" RSS={r['svc_rss_peak_mib']}MiB load={r['load1_start']}")
    return s


def run_with_retry(a, base, fn, warm=None):
    """A run during which other processes (or hypervisor steal) used more than --max-other % of
    a core is kept, flagged noisy, and retried (at most --retries times, and not after
    --deadline, a Unix time)."""
    for attempt in range(a.retries + 1):
        rec = dict(base, attempt=attempt, ts=time.strftime("%Y-%m-%dT%H:%M:%S"))
        try:
            rec.update(measure(a.pids, fn))
        except RuntimeError as e:
            rec.update({"failed": str(e)[:2000]})
            append(a.out, rec)
            print(f"{base['target']} {base['name']} c={base.get('conc')}: FAILED {e}", flush=True)
            return
        rec["noisy"] = (rec["other_cpu_pct"] + rec["steal_pct"] > a.max_other
                        or rec["unaccounted_cpu_pct"] > 2 * a.max_other)
        # a server that sat idle for 3 s or more while wrk waited on it: stalled (kept, repeated)
        rec["stalled"] = base.get("kind") in ("wrk", "pair") and rec["stall_s"] >= 3.0
        append(a.out, rec)
        print(fmt(rec) + (" NOISY" if rec["noisy"] else "") +
              (f" STALLED {rec['stall_s']} s" if rec["stalled"] else ""), flush=True)
        if (not (rec["noisy"] or rec["stalled"]) or attempt == a.retries
                or (a.deadline and time.time() > a.deadline)):
            return
        if rec["stalled"] and a.on_stall:
            # e.g. restart the server: a stalled Keystone can stay stuck for tens of seconds
            print(f"stalled: running {a.on_stall!r}", flush=True)
            subprocess.run(a.on_stall, shell=True, check=False)
            if warm:
                warm()
        else:
            time.sleep(a.retry_wait)


def cmd_wrk(a):
    env = dict(kv.split("=", 1) for kv in a.env)

    def warm():
        if a.warmup > 0:
            quiesce(a.pids)
            try:
                run_wrk(a.url, a.script, a.warmup_conc, a.warmup, env)
            except RuntimeError as e:
                print(f"warm-up failed: {e}", file=sys.stderr)
    warm()
    for c in [int(x) for x in a.conc.split(",")]:
        base = {"kind": "wrk", "name": a.name, "target": a.target, "url": a.url,
                "script": a.script, "conc": c}
        run_with_retry(a, base, lambda c=c: run_wrk(a.url, a.script, c, a.duration, env), warm)


def cmd_pair(a):
    env = dict(kv.split("=", 1) for kv in a.env)
    base = {"kind": "pair", "name": a.name, "target": a.target, "url": a.url,
            "script": a.script, "conc": int(a.conc)}
    a.conc = int(a.conc)
    run_with_retry(a, base, lambda: run_pair(a, env))


def cmd_cmd(a):
    argv = a.command[1:] if a.command and a.command[0] == "--" else a.command
    base = {"kind": "cmd", "name": a.name, "target": a.target, "cmd": " ".join(argv)}

    def fn():
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"rc={p.returncode}: {p.stdout}\n{p.stderr}")
        return json.loads(p.stdout.strip().splitlines()[-1])
    run_with_retry(a, base, fn)


def cmd_idle(a):
    rec = {"kind": "idle", "name": "idle", "target": a.target,
           "ts": time.strftime("%Y-%m-%dT%H:%M:%S")}
    rec.update(mem_snapshot(a.pids))
    append(a.out, rec)
    print(f"{a.target:<9} idle: {rec['svc_nprocs']} processes, {rec['svc_threads']} threads, "
          f"RSS {rec['svc_rss_mib']} MiB, PSS {rec['svc_pss_mib']} MiB", flush=True)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except Exception:   # facts are best effort
        return ""


def cmd_quiet(a):
    """wait (at most --max-wait s) until the whole machine is less than --busy % of a core busy
    over 3 s, so a load run does not start while something else (a build) is running"""
    t0 = time.time()
    while True:
        tot0, idle0, _, _ = cpu_stat()
        time.sleep(3.0)
        tot1, idle1, _, _ = cpu_stat()
        busy = 100.0 * ((tot1 - tot0) - (idle1 - idle0)) / HZ / 3.0
        if busy < a.busy or time.time() - t0 > a.max_wait:
            break
        print(f"machine busy {busy:.0f}% of a core; waiting", flush=True)
    print(f"machine busy {busy:.0f}% of a core, load {_read('/proc/loadavg').split()[0]}"
          f" (waited {time.time() - t0:.0f} s)", flush=True)


def cmd_facts(a):
    cpuinfo = _read("/proc/cpuinfo") or ""
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo") or "", re.M)
    tot0, idle0, _, steal0 = cpu_stat()
    time.sleep(2.0)
    tot1, idle1, _, steal1 = cpu_stat()
    rec = {
        "kind": "facts", "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "hostname": platform.node(), "nproc": os.cpu_count(),
        "cpu_model": model.group(1) if model else "?",
        "mem_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "kernel": platform.release(), "os": sh(". /etc/os-release; echo $PRETTY_NAME"),
        "virt": sh("systemd-detect-virt 2>/dev/null || true"),
        "loadavg": _read("/proc/loadavg").strip(),
        "busy_pct_2s": round(100.0 * ((tot1 - tot0) - (idle1 - idle0)) / HZ / 2.0, 1),
        "steal_pct_2s": round(100.0 * (steal1 - steal0) / HZ / 2.0, 1),
        "top_cpu": sh("ps -eo pcpu,comm --sort=-pcpu --no-headers | head -5"),
        "packages": sh("dpkg-query -W -f='${Package} ${Version}\\n' keystone nginx-light wrk "
                       "python3-bcrypt libcrypt1 uwsgi-core uwsgi-plugin-python3 "
                       "libmicrohttpd12 libjansson4 libsqlite3-0 2>/dev/null"),
    }
    rec.update(dict(kv.split("=", 1) for kv in a.env))
    append(a.out, rec)
    print(json.dumps(rec, indent=1), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, load=True):
        p.add_argument("--out", required=True)
        p.add_argument("--target", default="none")
        p.add_argument("--pids", default="none")
        if load:
            p.add_argument("--name", required=True)
            p.add_argument("--max-other", type=float, default=25.0)
            p.add_argument("--retries", type=int, default=2)
            p.add_argument("--retry-wait", type=float, default=10.0)
            p.add_argument("--deadline", type=float, default=0.0)
            p.add_argument("--env", action="append", default=[])
            p.add_argument("--on-stall", default="",
                           help="shell command run before repeating a stalled run")

    w = sub.add_parser("wrk")
    common(w)
    w.add_argument("--url", required=True)
    w.add_argument("--script", required=True)
    w.add_argument("--conc", default="1,8,32")
    w.add_argument("--duration", type=int, default=10)
    w.add_argument("--warmup", type=int, default=0)
    w.add_argument("--warmup-conc", type=int, default=8)
    p = sub.add_parser("pair")
    common(p)
    p.add_argument("--url", required=True)
    p.add_argument("--script", required=True)
    p.add_argument("--conc", default="8")
    p.add_argument("--bg-script", required=True)
    p.add_argument("--bg-conc", type=int, default=8)
    p.add_argument("--duration", type=int, default=10)
    c = sub.add_parser("cmd")
    common(c)
    c.add_argument("command", nargs=argparse.REMAINDER)
    i = sub.add_parser("idle")
    common(i, load=False)
    f = sub.add_parser("facts")
    common(f, load=False)
    f.add_argument("--env", action="append", default=[])
    st = sub.add_parser("settle")
    st.add_argument("--pids", required=True)
    st.add_argument("--max-wait", type=float, default=120.0)
    q = sub.add_parser("quiet")
    q.add_argument("--busy", type=float, default=30.0)
    q.add_argument("--max-wait", type=float, default=120.0)
    a = ap.parse_args()
    {"wrk": cmd_wrk, "pair": cmd_pair, "cmd": cmd_cmd, "idle": cmd_idle,
     "facts": cmd_facts, "quiet": cmd_quiet,
     "settle": lambda a: print(f"server idle after {quiesce(a.pids, a.max_wait)} s")}[a.cmd](a)


if __name__ == "__main__":
    main()
