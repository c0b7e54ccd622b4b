#!/usr/bin/python3
"""Compute benchmark: time from POST /servers to ACTIVE and to the guest's
ready line, for 1 server and for 10 in parallel, beside the limit - bare
qemu-system-x86_64 booting the same image with the same accelerator and
devices (the very command line onestack's qemu driver used, replayed on a
fresh overlay), timed to the same ready line; GET /servers/detail latency
with 1,000 servers (fake driver); onestack's RSS while 10 guests run.

    /usr/bin/python3 bench/compute/boot.py [--runs N] [--out FILE.jsonl]

Each result is one JSON line in FILE (default bench/results/compute-<UTC>.jsonl);
bench/compute/report.py turns them into the docs/benchmarks.md section.
Everything started is stopped at the end.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "api"))
from daemon import Daemon  # noqa: E402

IMAGE = os.path.join(REPO, "build", "guest", "onestack-guest.qcow2")
READY = re.compile(r"^onestack-guest-ready (\S+)", re.M)
TIMEOUT = 300


def log(*a):
    print(*a, flush=True)


class Api:
    def __init__(self, d):
        self.d = d
        self.s = requests.Session()
        r = self.s.post(d.auth_url + "/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": d.admin_password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        r.raise_for_status()
        self.s.headers["X-Auth-Token"] = r.headers["X-Subject-Token"]
        self.s.headers["OpenStack-API-Version"] = "compute 2.37"
        self.c = d.base_url + "/compute/v2.1"

    def call(self, method, path, **kw):
        r = self.s.request(method, self.c + path, **kw)
        if r.status_code >= 400:
            raise RuntimeError("%s %s -> %d %s" % (method, path, r.status_code, r.text))
        return r


def upload_image(d, api):
    g = d.base_url + "/image/v2/images"
    r = api.s.post(g, json={"name": "guest", "disk_format": "qcow2",
                            "container_format": "bare", "visibility": "public"})
    r.raise_for_status()
    iid = r.json()["id"]
    with open(IMAGE, "rb") as f:
        api.s.put(g + "/" + iid + "/file", data=f,
                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    return iid


def make_flavor(api, ram):
    r = api.call("POST", "/flavors", json={"flavor": {"name": "bench", "ram": ram, "vcpus": 1,
                                                       "disk": 1}})
    return r.json()["flavor"]["id"]


def boot(api, iid, fid, name):
    """POSTs a server; returns (id, t_post) with t_post the monotonic time
    just before the request."""
    t = time.monotonic()
    r = api.call("POST", "/servers", json={"server": {
        "name": name, "imageRef": iid, "flavorRef": fid, "networks": "none"}})
    return r.json()["server"]["id"], t


def wait_active(api, sid):
    while True:
        s = api.call("GET", "/servers/" + sid).json()["server"]
        if s["status"] == "ACTIVE":
            return time.monotonic()
        if s["status"] == "ERROR":
            raise RuntimeError("server %s went to ERROR: %s" % (sid, s.get("fault")))
        time.sleep(0.01)


def console_path(d, sid):
    return os.path.join(d.data_dir, "instances", sid, "console.log")


def wait_file_line(path, deadline):
    """Polls path for the ready line (10 ms); the monotonic time seen."""
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if READY.search(f.read().decode("utf-8", "replace")):
                    return time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise RuntimeError("no ready line in %s" % path)


def delete_all(api):
    for s in api.call("GET", "/servers").json()["servers"]:
        api.call("DELETE", "/servers/" + s["id"])
    deadline = time.monotonic() + TIMEOUT
    while api.call("GET", "/servers").json()["servers"]:
        if time.monotonic() > deadline:
            raise RuntimeError("servers not deleted")
        time.sleep(0.1)


def qemu_cmdline(sid):
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64.*" + sid], capture_output=True,
                         text=True).stdout.split()
    with open("/proc/%s/cmdline" % out[0], "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def bare_qemu(argv, inst_dir, base):
    """Replays a server's QEMU command line on a copy of its directory's
    inputs (a fresh overlay on the same base, the same config drive) and
    times start to ready line."""
    tmp = tempfile.mkdtemp(prefix="bench-bare-")
    try:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2",
                        os.path.join(tmp, "disk")], check=True)
        if os.path.exists(os.path.join(inst_dir, "disk.config")):
            shutil.copy(os.path.join(inst_dir, "disk.config"), tmp)
        args = [a.replace(inst_dir, tmp) for a in argv]
        # run in the foreground: no -daemonize, our own pid file
        args = [a for a in args if a != "-daemonize"]
        t = time.monotonic()
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            t_ready = wait_file_line(os.path.join(tmp, "console.log"), t + TIMEOUT)
        finally:
            p.kill()
            p.wait()
        return t_ready - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def p50(xs):
    return statistics.median(xs)


def run_qemu(out, runs):
    d = Daemon(env={"ONESTACK_COMPUTE_VIRT_DRIVER": "qemu"}, name="bench-compute")
    d.start()
    try:
        api = Api(d)
        iid = upload_image(d, api)
        fid = make_flavor(api, 192)
        one_active, one_ready, bare = [], [], []
        for i in range(runs):
            sid, t0 = boot(api, iid, fid, "b%d" % i)
            ta = wait_active(api, sid)
            tr = wait_file_line(console_path(d, sid), t0 + TIMEOUT)
            one_active.append(ta - t0)
            one_ready.append(tr - t0)
            argv = qemu_cmdline(sid)
            base = os.path.join(d.data_dir, "instances", "_base", iid)
            bare.append(bare_qemu(argv, os.path.join(d.data_dir, "instances", sid), base))
            log("run %d: ACTIVE %.3f s, ready %.2f s, bare QEMU ready %.2f s"
                % (i, one_active[-1], one_ready[-1], bare[-1]))
            delete_all(api)
        out.write(json.dumps({"case": "one", "active_s": one_active, "ready_s": one_ready,
                              "bare_ready_s": bare}) + "\n")
        # 10 in parallel, one POST each from 10 threads
        ids, t0s = [None] * 10, [0.0] * 10

        def post(k):
            ids[k], t0s[k] = boot(api, iid, fid, "p%d" % k)
        th = [threading.Thread(target=post, args=(k,)) for k in range(10)]
        t_start = time.monotonic()
        for t in th:
            t.start()
        for t in th:
            t.join()
        actives = [wait_active(api, s) for s in ids]
        all_active = max(actives) - t_start
        rss_during = rss_kb(d.proc.pid)
        readies = [wait_file_line(console_path(d, s), t_start + 600) for s in ids]
        all_ready = max(readies) - t_start
        rss_during = max(rss_during, rss_kb(d.proc.pid))
        log("10 parallel: all ACTIVE %.3f s, all ready %.1f s, onestack RSS %d KiB"
            % (all_active, all_ready, rss_during))
        out.write(json.dumps({"case": "ten", "all_active_s": all_active,
                              "all_ready_s": all_ready, "rss_kb": rss_during}) + "\n")
        delete_all(api)
    finally:
        problems = d.stop()
        if problems:
            log("\n".join(problems))


def run_detail(out):
    d = Daemon(env={"ONESTACK_COMPUTE_VIRT_DRIVER": "fake"}, name="bench-detail")
    d.start()
    try:
        api = Api(d)
        r = api.s.post(d.base_url + "/image/v2/images", json={
            "name": "tiny", "disk_format": "raw", "container_format": "bare"})
        iid = r.json()["id"]
        api.s.put(d.base_url + "/image/v2/images/%s/file" % iid, data=b"x" * 512,
                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
        fid = make_flavor(api, 64)
        pid = d.sql("SELECT id FROM project WHERE name = 'admin'")[0][0]
        for res in ("instances", "cores", "ram"):
            api.call("PUT", "/os-quota-sets/" + pid, json={"quota_set": {res: -1}})
        for k in range(10):
            api.call("POST", "/servers", json={"server": {
                "name": "d%d" % k, "imageRef": iid, "flavorRef": fid, "networks": "none",
                "min_count": 100, "max_count": 100}})
        lat = []
        for _ in range(30):
            t = time.monotonic()
            r = api.call("GET", "/servers/detail")
            lat.append(time.monotonic() - t)
            assert len(r.json()["servers"]) == 1000
        log("GET /servers/detail, 1000 servers: p50 %.1f ms, max %.1f ms"
            % (p50(lat) * 1e3, max(lat) * 1e3))
        out.write(json.dumps({"case": "detail1000", "lat_s": lat}) + "\n")
    finally:
        problems = d.stop()
        if problems:
            log("\n".join(problems))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out")
    ap.add_argument("--only", choices=["qemu", "detail"])
    a = ap.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = a.out or os.path.join(REPO, "bench", "results", "compute-%s.jsonl" % stamp)
    with open(path, "w") as out:
        if a.only in (None, "detail"):
            run_detail(out)
        if a.only in (None, "qemu"):
            run_qemu(out, a.runs)
    log("results: " + path)


if __name__ == "__main__":
    main()
