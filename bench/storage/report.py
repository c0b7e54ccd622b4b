#!/usr/bin/python3
"""Storage benchmark results (JSON lines from run.sh) -> the storage section of
docs/benchmarks.md (between <!-- storage:begin --> and <!-- storage:end -->; the rest of the
file is kept) and bench/results/storage-summary.md. Standard library only.

  report.py RESULTS.jsonl [--md docs/benchmarks.md] [--summary bench/results/storage-summary.md]

Several runs of one workload (reps, retries) are summarised by their median, leaving out runs
flagged noisy (another process or hypervisor steal took > 25 % of a core) when a clean one
exists."""
import json, os, statistics, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mdsection  # noqa: E402



def load(path):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    return [r for r in recs if not r.get("failed")]


def pick(recs, kind, name, target, conc=None):
    rs = [r for r in recs if r.get("kind") == kind and r.get("name") == name
          and r.get("target") == target and (conc is None or r.get("conc") == conc)]
    clean = [r for r in rs if not r.get("noisy")]
    return clean or rs


def med(rs, key):
    v = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(v) if v else None


def n(v, d=0):
    if v is None:
        return "–"
    return f"{v:,.{d}f}".replace(",", " ")


def ratio(a, b):
    return f"{a / b:.1f}×" if a and b else "–"


def pct(a, b):
    return f"{100.0 * a / b:.0f} %" if a and b else "–"


def rss_growth(recs, name, target):
    """peak RSS during each run of name minus the idle RSS sampled just before it"""
    out, last_idle = [], None
    for r in recs:
        if r.get("target") != target:
            continue
        if r.get("kind") == "idle":
            last_idle = r["svc_rss_mib"]
        elif r.get("kind") == "cmd" and r.get("name") == name and last_idle is not None:
            out.append(r["svc_rss_peak_mib"] - last_idle)
    return max(out) if out else None


def build(recs, src):
    facts = next((r for r in recs if r.get("kind") == "facts"), {})
    disk = pick(recs, "cmd", "disk_1g", "disk")
    dw, dr = med(disk, "write_mb_s"), med(disk, "read_mb_s")
    md5 = med(pick(recs, "cmd", "hash", "cpu"), "md5_mb_s")
    sha = med(pick(recs, "cmd", "hash", "cpu"), "sha512_mb_s")
    ngx = med(pick(recs, "cmd", "get256m", "nginx"), "mb_s")
    L = []
    L.append("## Object storage (Swift API) and images (Glance API)\n")
    L.append(f"Measured {facts.get('date_utc', '?')} by `bench/storage/run.sh` (raw data: "
             f"`bench/results/{os.path.basename(src)}`, kept locally). onestack commit "
             f"`{facts.get('onestack_commit', '?')}`. Machine: {facts.get('os', '?')}, "
             f"{facts.get('nproc', '?')} vCPU, {facts.get('mem_gib', '?')} GiB RAM. "
             f"Packages: {facts.get('versions', '?')}. Load average at the start: "
             f"{facts.get('loadavg', '?').split(' ')[0]}.\n")
    L.append(f"All three servers keep their bytes on one file system: "
             f"{facts.get('store', '?')}. Swift 2.30 runs its proxy, account, container and "
             "object servers (workers = auto, one replica, tempauth, memcached; no replicators "
             "or auditors); Glance 25 its API (2 workers, SQLite, file store, no Keystone); "
             "onestack one `serve` process with its data directory on the same mount. wrk "
             "(`-t1` at c=1, else `-t2`, 10 s a run, `bench/storage/wrk/*.lua`) and curl run "
             "on the same 2 cores. Big GETs start with the page cache dropped, so their bytes "
             "come from the disk, like the raw read they are compared with. MB = 10^6 bytes.\n")
    L.append("To reproduce (as root, about 15 minutes, leaves nothing running): "
             "`bench/storage/run.sh`.\n")

    # ---- targets
    rows = []
    ok_small = []
    for name, label in (("put4k", "PUT 4 KiB"), ("get4k", "GET 4 KiB")):
        for c in (1, 8, 32):
            a = med(pick(recs, "wrk", name, "onestack", c), "rps")
            b = med(pick(recs, "wrk", name, "swift", c), "rps")
            if a and b:
                ok_small.append((label, c, a, b, a / b >= 10))
    if ok_small:
        worst = min(ok_small, key=lambda x: x[2] / x[3])
        rows.append(("small-object ops/s ≥ 10× Swift's (PUT and GET 4 KiB, c = 1, 8, 32)",
                     "lowest: " + f"{worst[0]} c={worst[1]}: {n(worst[2])} vs {n(worst[3])} "
                     f"ops/s = {worst[2] / worst[3]:.1f}×",
                     all(x[4] for x in ok_small)))
    for name, label, lim, lname in (("put256m", "256 MiB object PUT", dw, "write"),
                                    ("get256m", "256 MiB object GET", dr, "read"),
                                    ("image_put1g", "1 GiB image upload", dw, "write"),
                                    ("image_get1g", "1 GiB image download", dr, "read")):
        v = med(pick(recs, "cmd", name, "onestack"), "mb_s")
        g = rss_growth(recs, name, "onestack")
        if not (v and lim):
            continue
        # what else bounds one stream on this machine, for the reader
        ctx = ""
        if lname == "write" and md5:
            ctx = f"; MD5 alone on one core: {n(md5)} MB/s ({pct(v, md5)})"
        if lname == "read" and ngx:
            ctx = f"; nginx sendfile of the same 256 MiB: {n(ngx)} MB/s ({pct(v, ngx)})"
        rows.append((f"{label} ≥ 80 % of the raw disk {lname} ({n(lim)} MB/s), "
                     "RSS growth < 50 MiB",
                     f"{n(v)} MB/s = {pct(v, lim)}{ctx}; RSS +{n(g, 1)} MiB",
                     v >= 0.8 * lim and g is not None and g < 50))
    lst = pick(recs, "wrk", "list10k", "onestack", 1)
    if lst:
        p50, p99 = med(lst, "p50_ms"), med(lst, "p99_ms")
        rows.append(("listing of 10,000 objects < 30 ms", f"c=1: p50 {p50:.1f} ms, p99 "
                     f"{p99:.1f} ms", p99 < 30))
    L.append("### Targets\n")
    L.append("| target (from the issue) | measured | result |\n|---|---|---|")
    for t, m, ok in rows:
        L.append(f"| {t} | {m} | {'**met**' if ok else '**not met**'} |")
    L.append("")

    # ---- results
    L.append("### Results\n")
    L.append("| workload | c | onestack ops/s | p50 ms | p99 ms | Swift ops/s | p50 ms | p99 ms "
             "| onestack / Swift |\n|---|---|---|---|---|---|---|---|---|")
    for name, label in (("put4k", "PUT 4 KiB object (new names)"),
                        ("get4k", "GET 4 KiB object (random of 1000)"),
                        ("list10k", "GET listing of 10,000 objects (JSON)")):
        for c in (1, 8, 32):
            a, b = pick(recs, "wrk", name, "onestack", c), pick(recs, "wrk", name, "swift", c)
            if not a and not b:
                continue
            ar, br = med(a, "rps"), med(b, "rps")
            L.append(f"| {label if c == 1 else ''} | {c} | {n(ar, 0 if (ar or 0) > 100 else 1)} "
                     f"| {n(med(a, 'p50_ms'), 2)} | {n(med(a, 'p99_ms'), 2)} | "
                     f"{n(br, 0 if (br or 0) > 100 else 1)} | {n(med(b, 'p50_ms'), 2)} | "
                     f"{n(med(b, 'p99_ms'), 2)} | {ratio(ar, br)} |")
    L.append("")
    L.append("| transfer | onestack MB/s | vs disk | RSS growth MiB | other MB/s | vs disk | "
             "RSS growth MiB | onestack / other |\n|---|---|---|---|---|---|---|---|")
    for name, label, other, lim in (("put256m", "PUT 256 MiB object (Swift)", "swift", dw),
                                    ("get256m", "GET 256 MiB object (Swift)", "swift", dr),
                                    ("image_put1g", "upload 1 GiB image (Glance)", "glance", dw),
                                    ("image_get1g", "download 1 GiB image (Glance)", "glance", dr)):
        a = med(pick(recs, "cmd", name, "onestack"), "mb_s")
        b = med(pick(recs, "cmd", name, other), "mb_s")
        if not a and not b:
            continue
        L.append(f"| {label} | {n(a)} | {pct(a, lim)} | {n(rss_growth(recs, name, 'onestack'), 1)} "
                 f"| {n(b)} | {pct(b, lim)} | {n(rss_growth(recs, name, other), 1)} | "
                 f"{ratio(a, b)} |")
    L.append(f"| raw disk (dd 1 GiB, write with fdatasync / direct read; median of "
             f"{len(disk)}) | write {n(dw)}, read {n(dr)} | | | | | | |")
    if ngx:
        L.append(f"| nginx sendfile GET of the 256 MiB object from the same mount (HTTP floor) "
                 f"| {n(ngx)} | {pct(ngx, dr)} | | | | | |")
    if md5:
        L.append(f"| hashing on one core (OpenSSL): MD5 / SHA-512 | {n(md5)} / {n(sha)} | | | | "
                 "| | |")
    L.append("")
    L.append("Memory (RSS of all the server's processes, MiB): idle at the start / peak over "
             "the whole run:\n")
    L.append("| server | idle | peak |\n|---|---|---|")
    for t in ("onestack", "swift", "glance"):
        idle = [r for r in recs if r.get("kind") == "idle" and r.get("target") == t]
        peak = [r.get("svc_rss_peak_mib", 0) for r in recs
                if r.get("target") == t and r.get("kind") in ("wrk", "cmd")]
        if idle:
            L.append(f"| {t} | {n(idle[0]['svc_rss_mib'], 1)} | {n(max(peak) if peak else None, 1)} |")
    noisy = sum(1 for r in recs if r.get("noisy"))
    L.append(f"\nRuns flagged noisy (kept in the raw data, left out when a clean run exists): "
             f"{noisy}. Errors counted by wrk in the runs above: "
             f"{sum(r.get('errors', 0) for r in recs if r.get('kind') == 'wrk')}.\n")
    return "\n".join(L)


if __name__ == "__main__":
    mdsection.main("storage", lambda path: build(load(path), path), "Storage benchmark summary")
