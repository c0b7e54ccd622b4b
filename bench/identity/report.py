#!/usr/bin/python3
"""Turn one run of bench/identity/run.sh (a JSON-lines file) into the markdown report.

  report.py RESULTS.jsonl [--md docs/benchmarks.md] [--summary bench/results/identity-summary.md]

The identity section of docs/benchmarks.md is the text between the markers
<!-- identity:begin --> and <!-- identity:end -->; the rest of that file is kept. Without
--md/--summary the section is printed. Standard library only."""
import json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mdsection  # noqa: E402

WORKLOADS = [("validate", "token validation (GET /v3/auth/tokens)"),
             ("issue_password", "token issue, password method (POST /v3/auth/tokens)"),
             ("issue_token", "token issue, token method (POST /v3/auth/tokens)")]


def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def pick(recs):
    """the run to report among the attempts of one measurement: the last one not flagged noisy,
    else the least disturbed one (marked with *)"""
    ok = [r for r in recs if not r.get("failed")]
    if not ok:
        return recs[-1] if recs else None
    clean = [r for r in ok if not r.get("noisy") and not r.get("stalled")]
    if clean:
        return clean[-1]
    unstalled = [r for r in ok if not r.get("stalled")] or ok
    return dict(min(unstalled, key=lambda r: r["other_cpu_pct"] + r["steal_pct"]), _flag="*")


def index(recs):
    runs = {}
    for r in recs:
        if r.get("kind") in ("wrk", "pair"):
            runs.setdefault((r["target"], r["name"], r["conc"]), []).append(r)
        elif r.get("kind") == "cmd":
            runs.setdefault(("bcrypt", r["name"], r.get("threads", 0)), []).append(r)
    out = {k: pick(v) for k, v in runs.items()}
    # the floor is measured twice (start and end of the run): the better undisturbed one counts
    for k, v in runs.items():
        if k[0] == "nginx":
            clean = [r for r in v if not r.get("failed") and not r.get("noisy")
                     and not r.get("stalled")]
            if clean:
                out[k] = max(clean, key=lambda r: r["rps"])
    return out


def num(x, nd=1):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.{nd}f}"


def ms(x):
    if x is None:
        return "—"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def pct(a, b):
    return f"{100.0 * a / b:.0f} %" if a is not None and b else "—"


def times(a, b):
    if a is None or not b:
        return "—"
    r = a / b
    return f"{r:,.0f}×".replace(",", " ") if r >= 10 else f"{r:.1f}×"


def g(run, k):
    return run.get(k) if run and not run.get("failed") else None


def rps_cell(run):
    if not run:
        return "—"
    if run.get("failed"):
        return "failed"
    s = num(run["rps"]) + run.get("_flag", "")
    if run["errors"]:
        s += f" ({run['errors']} err)"
    return s


def yes(ok):
    return "**met**" if ok else "**not met**"


def build(recs, src):
    facts = next((r for r in recs if r.get("kind") == "facts"), {})
    R = index(recs)
    concs = [int(c) for c in str(facts.get("concs", "1,8,32")).split(",")]
    have_os = str(facts.get("have_onestack", "1")) == "1" and any(k[0] == "onestack" for k in R)
    idle = {}
    for r in recs:
        if r.get("kind") == "idle":
            idle.setdefault(r["target"], []).append(r)
    hashcost = {r["target"]: r["bcrypt_costs"] for r in recs if r.get("kind") == "hashcost"}
    bc = {(k[1], k[2]): v for k, v in R.items() if k[0] == "bcrypt" and v and not v.get("failed")}
    # the ceiling from undisturbed runs only: other work on the machine lowers it
    ceil1 = max((v["per_s"] for (n, t), v in bc.items() if t == 1 and not v.get("_flag")),
                default=max((v["per_s"] for (n, t), v in bc.items() if t == 1), default=None))
    ceil2 = max((v["per_s"] for (n, t), v in bc.items() if t == 2 and not v.get("_flag")),
                default=None)
    ceil2_note = ""
    if ceil2 is None and ceil1:
        ceil2, ceil2_note = 2 * ceil1, " (twice the one-core rate: every 2-core run was disturbed)"
    floor = {c: R.get(("nginx", "floor_200", c)) for c in concs}
    os_runs = [v for k, v in R.items() if k[0] == "onestack" and v and not v.get("failed")]
    ks_runs = [v for k, v in R.items() if k[0] == "keystone" and v and not v.get("failed")]
    all_runs = [v for k, v in R.items() if v and not v.get("failed") and "other_cpu_pct" in v]
    L = []
    w = L.append

    w(f"## Identity (Keystone v3 tokens)\n")
    w(f"Measured {facts.get('date_utc', '?')} by `bench/identity/run.sh` (raw data: "
      f"`bench/results/{os.path.basename(src)}`, kept locally). onestack commit "
      f"`{facts.get('onestack_commit', '?')}`. Machine: {facts.get('os', '?')}, "
      f"{facts.get('nproc', '?')} vCPU ({facts.get('cpu_model', '?')}), "
      f"{facts.get('mem_gib', '?')} GiB RAM, kernel {facts.get('kernel', '?')}"
      f"{', ' + facts['virt'] if facts.get('virt') and facts['virt'] != 'none' else ''}. "
      f"Load average when the run started: {facts.get('loadavg', '?').split()[0]}. "
      f"One run of {facts.get('duration_s', 10)} s for each row, all traffic on 127.0.0.1; wrk "
      f"runs on the same 2 cores as the server it loads.\n")
    w("To reproduce (as root, about 10 minutes, leaves nothing running): `bench/identity/run.sh`. "
      "It installs Debian's `keystone`, `wrk`, `nginx-light` and `python3-bcrypt` if missing, "
      "sets up Keystone on 127.0.0.1:5000, nginx on 127.0.0.1:8088 and onestack (`make`, "
      "`onestack init` + `serve` on a free port, temporary data directory), creates the same "
      "`bench` project and user (member role) on both servers through the Keystone v3 API, and "
      "runs wrk (`-t1` at c=1, else `-t2`, `--latency`, the Lua scripts in "
      "`bench/identity/wrk/`). This section is generated by `bench/identity/report.py`.\n")

    # ---- targets ----
    w("### Targets\n")
    w("| target (from the issue) | measured | result |")
    w("|---|---|---|")
    v8, f8 = R.get(("onestack", "validate", 8)), floor.get(8)
    if have_os and g(v8, "rps") is not None and g(f8, "rps"):
        ratio = v8["rps"] / f8["rps"]
        w(f"| validation at c=8 ≥ 50 % of the nginx floor's req/s, p99 < 5 ms | "
          f"{num(v8['rps'])} req/s = {ratio * 100:.0f} % of {num(f8['rps'])}; "
          f"p99 {ms(v8['p99_ms'])} ms | "
          f"{yes(ratio >= 0.5 and v8['p99_ms'] < 5 and not v8['errors'])} |")
    else:
        w("| validation at c=8 ≥ 50 % of the nginx floor, p99 < 5 ms | not measured | — |")
    ip8, ip32 = R.get(("onestack", "issue_password", 8)), R.get(("onestack", "issue_password", 32))
    if have_os and g(ip8, "rps") is not None and ceil2:
        r8 = ip8["rps"] / ceil2
        extra = (f"; c=32: {num(ip32['rps'])}/s = {pct(ip32['rps'], ceil2)}"
                 if g(ip32, "rps") is not None else "")
        w(f"| password issue ≥ 90 % of what bcrypt alone allows on 2 cores "
          f"({ceil2:.2f} verifies/s) | c=8: {num(ip8['rps'])} tokens/s = {r8 * 100:.0f} %{extra} | "
          f"{yes(r8 >= 0.9 and not ip8['errors'])} (judged at c=8) |")
    else:
        w("| password issue ≥ 90 % of the bcrypt ceiling | not measured | — |")
    pr = R.get(("onestack", "validate_under_login", 8))
    if have_os and g(pr, "p99_ms") is not None:
        w(f"| validation p99 < 10 ms while password logins load the CPU | p99 {ms(pr['p99_ms'])} ms "
          f"(p50 {ms(pr['p50_ms'])} ms, {num(pr['rps'])} req/s) with {num(pr['bg_rps'])} logins/s "
          f"at c=8; onestack CPU {pr['svc_cpu_pct']:.0f} %, machine {pr['machine_busy_pct']:.0f} % "
          f"of one core | {yes(pr['p99_ms'] < 10 and not pr['errors'])} |")
    else:
        w("| validation p99 < 10 ms during password logins | not measured | — |")
    if have_os and os_runs:
        peak = max(r["svc_rss_peak_mib"] for r in os_runs)
        hwm = max(r["svc_hwm_sum_mib"] for r in os_runs)
        w(f"| onestack RSS < 30 MiB | peak {peak:.1f} MiB sampled during the runs (VmHWM "
          f"{hwm:.1f} MiB) | {yes(max(peak, hwm) < 30)} |")
    else:
        w("| onestack RSS < 30 MiB | not measured | — |")
    w("")

    # ---- main table ----
    w("### Results\n")
    w("Throughput is wrk's completed requests per second; latencies are wrk's percentiles. "
      "\"vs floor\" compares with nginx `return 200` at the same concurrency (measured at the start and at "
      "the end of the run; the better of the two); \"vs bcrypt\" with "
      "the bcrypt cost-12 ceiling at the same number of cores in use (c=1: one core, "
      f"{num(ceil1, 2)}/s; c≥8: two cores, {num(ceil2, 2)}/s).\n")
    w("| workload | c | onestack req/s | p50 ms | p99 ms | Keystone req/s | p50 ms | p99 ms | "
      "onestack / Keystone | onestack vs floor | onestack vs bcrypt |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for wl, title in WORKLOADS:
        for i, c in enumerate(concs):
            o, k = R.get(("onestack", wl, c)), R.get(("keystone", wl, c))
            vs_floor = pct(g(o, "rps"), g(floor.get(c), "rps")) if wl == "validate" else ""
            ceil = ceil1 if c == 1 else ceil2
            vs_bc = pct(g(o, "rps"), ceil) if wl == "issue_password" else ""
            w(f"| {title if i == 0 else ''} | {c} | {rps_cell(o)} | {ms(g(o, 'p50_ms'))} | "
              f"{ms(g(o, 'p99_ms'))} | {rps_cell(k)} | {ms(g(k, 'p50_ms'))} | {ms(g(k, 'p99_ms'))} | "
              f"{times(g(o, 'rps'), g(k, 'rps'))} | {vs_floor} | {vs_bc} |")
    for i, c in enumerate(concs):
        f = floor.get(c)
        w(f"| {'floor: nginx GET /200 (keep-alive)' if i == 0 else ''} | {c} | | | | | | | | "
          f"{rps_cell(f)} req/s, p50 {ms(g(f, 'p50_ms'))}, p99 {ms(g(f, 'p99_ms'))} ms | |")
    w("")
    w("Validation while password logins run (both at c=8, separate connections; the logins "
      "start 2 s before the measured validation run and stop 2 s after it):\n")
    w("| server | validation req/s | p50 ms | p99 ms | logins/s meanwhile | login p99 ms | "
      "server CPU % | machine busy % |")
    w("|---|---|---|---|---|---|---|---|")
    for t, label in (("onestack", "onestack"), ("keystone", "Keystone")):
        p = R.get((t, "validate_under_login", 8))
        if p and not p.get("failed"):
            w(f"| {label} | {rps_cell(p)} | {ms(p['p50_ms'])} | {ms(p['p99_ms'])} | "
              f"{num(p['bg_rps'])} | {ms(p['bg_p99_ms'])} | {p['svc_cpu_pct']:.0f} | "
              f"{p['machine_busy_pct']:.0f} |")
        else:
            w(f"| {label} | {'failed' if p else 'not measured'} | | | | | | |")
    w("")
    w("CPU % is of one core (200 % = both cores).\n")

    # ---- CPU per request ----
    w("Server CPU per request (CPU time of all the server's processes ÷ requests):\n")
    w("| workload | c | onestack CPU % | onestack CPU ms/req | Keystone CPU % | Keystone CPU ms/req |")
    w("|---|---|---|---|---|---|")
    for wl, title in WORKLOADS:
        for c in concs:
            o, k = R.get(("onestack", wl, c)), R.get(("keystone", wl, c))
            cells = []
            for r in (o, k):
                if g(r, "rps"):
                    per = (r['svc_cpu_pct'] * 10.0 * r['wall_s'] / r['requests']
                           if r["requests"] else None)
                    cells += [f"{r['svc_cpu_pct']:.0f}",
                              "—" if per is None else f"{per:.3f}" if per < 1 else
                              f"{per:.2f}" if per < 10 else f"{per:.0f}"]
                else:
                    cells += ["—", "—"]
            w(f"| {wl} | {c} | " + " | ".join(cells) + " |")
    w("")

    # ---- memory ----
    w("### Memory\n")
    w("RSS is the sum of VmRSS over the server's processes (the root process and all its "
      "descendants), sampled every 0.2 s; VmHWM is the sum of the processes' own peaks; PSS "
      "counts pages shared between processes once. MiB = 2^20 bytes.\n")
    w("| server | processes / threads | idle after setup: RSS / PSS MiB | peak RSS under load MiB "
      "| VmHWM sum MiB | idle after the runs: RSS MiB |")
    w("|---|---|---|---|---|---|")
    for t, label, runs in (("onestack", "onestack", os_runs), ("keystone", "Keystone", ks_runs),
                           ("nginx", "nginx floor", [v for k, v in R.items()
                                                     if k[0] == "nginx" and v and not v.get("failed")])):
        ids = idle.get(t, [])
        if not ids and not runs:
            w(f"| {label} | not measured | | | | |")
            continue
        i0, i1 = (ids[0], ids[-1]) if ids else ({}, {})
        peak = max((r["svc_rss_peak_mib"] for r in runs), default=None)
        hwm = max((r["svc_hwm_sum_mib"] for r in runs), default=None)
        w(f"| {label} | {i0.get('svc_nprocs', '?')} / {i0.get('svc_threads', '?')} | "
          f"{num(i0.get('svc_rss_mib'))} / {num(i0.get('svc_pss_mib'))} | {num(peak)} | {num(hwm)} | "
          f"{num(i1.get('svc_rss_mib')) if len(ids) > 1 else '—'} |")
    if have_os and ks_runs and os_runs:
        kp = max(r["svc_rss_peak_mib"] for r in ks_runs)
        op = max(r["svc_rss_peak_mib"] for r in os_runs)
        w(f"\nPeak RSS: Keystone / onestack = {times(kp, op)}.")
    w("")

    # ---- bcrypt ----
    w("### bcrypt ceiling\n")
    w("Password issue costs one bcrypt verify at cost 12 on both servers (checked in their "
      "databases after the run: " + "; ".join(
          f"{t}: " + (", ".join(f"{n}× cost {c}" for c, n in sorted(v.items())) or "no bcrypt hashes")
          for t, v in sorted(hashcost.items())) + "). A token cannot be issued faster than "
      "the CPU verifies the password; this is the ceiling, measured alone:\n")
    w("| implementation | cores (threads/processes) | verifies/s | CPU ms per verify |")
    w("|---|---|---|---|")
    for (n, t), v in sorted(bc.items()):
        w(f"| {v['impl']} | {t} | {v['per_s']:.2f}{v.get('_flag', '')} | {v['cpu_ms_each']:.0f} |")
    w(f"\n\"What bcrypt alone allows on 2 cores\" is the faster of the two: **{num(ceil2, 2)}/s**"
      f"{ceil2_note} (one core: {num(ceil1, 2)}/s). The 2-core figure is what two busy cores give; "
      "during the password runs wrk and the server's own work share those cores too.\n")

    # ---- conditions ----
    w("### Run conditions\n")
    noisy = [v for v in all_runs if v.get("noisy") or v.get("_flag")]
    retried = sum(1 for r in recs if r.get("kind") in ("wrk", "pair", "cmd") and r.get("attempt", 0) > 0)
    if all_runs:
        oth = [v["other_cpu_pct"] for v in all_runs]
        loads = [v["load1_start"] for v in all_runs] + [v["load1_end"] for v in all_runs]
        w(f"- Other processes on the machine used {min(oth):.0f}–{max(oth):.0f} % of a core during "
          f"the reported runs (median {sorted(oth)[len(oth) // 2]:.0f} %); hypervisor steal up to "
          f"{max(v['steal_pct'] for v in all_runs):.0f} %. 1-minute load average "
          f"{min(loads):.2f}–{max(loads):.2f}.")
        w(f"- A run is flagged noisy when other processes plus steal used more than 25 % of a core; "
          f"it is then repeated (at most twice). Retries in this run: {retried}. Reported rows still "
          f"noisy (marked *): {len(noisy)}.")
    for t, label in (("onestack", "onestack"), ("keystone", "Keystone"), ("nginx", "nginx")):
        att = [r for r in recs if r.get("kind") in ("wrk", "pair") and r.get("target") == t
               and not r.get("failed")]
        st = [r for r in att if r.get("stalled")]
        if att:
            w(f"- {label}: {len(st)} of {len(att)} load runs stalled (the server used no CPU for "
              f"3 s or more while wrk waited for responses" +
              (f"; longest {max(r['stall_s'] for r in st):.0f} s or more; such a run is kept in the raw "
               "data and repeated" + (" after restarting Keystone" if t == "keystone" else "") +
               ", and the repeat is reported)" if st else ")") + ".")
    w(f"- Packages: " + ", ".join(facts.get("packages", "").splitlines()) + ".")
    w(f"- Keystone: uwsgi with the Debian-packaged settings ({facts.get('keystone_workers', '8x32')} "
      "processes × threads, lazy-apps, no keep-alive: it drops Content-Length and closes the "
      "connection after each response), SQLite, Fernet tokens, `password_hash_rounds = 12`, no "
      "cache. onestack: `onestack serve` with SQLite in a fresh data directory, "
      "`ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS=12`. nginx: `worker_processes auto`, access_log off, "
      "keep-alive (100 000 requests a connection).")
    w("- Each server gets a warm-up before its validation (20 s), password (4 s) and token (3 s) "
      "runs; Keystone's fresh uwsgi workers are several times slower for their first ~150 requests. "
      "Before each run the harness waits until the server is idle (queued requests of the previous "
      "run drained).")
    w("- Validation: the admin's token validates the bench user's project-scoped token. Token "
      "method: the bench user's unscoped token is exchanged for a project-scoped one. Issue "
      "responses include the service catalog.")
    w("")
    return "\n".join(L)


if __name__ == "__main__":
    mdsection.main("identity", lambda path: build(load(path), path))
