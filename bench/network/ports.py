#!/usr/bin/python3
"""Port create latency with many ports already allocated (issue 5's target:
p50 < 5 ms with 5,000 ports in a /16).

Starts a private onestack the way the API tests do (tests/api/daemon.py:
SQLite, or PostgreSQL with ONESTACK_DATABASE_URL), makes one network with a
/16 subnet, fills it with --fill ports (bulk creates of 100), then times
--samples single `POST /v2.0/ports` on one keep-alive connection (each picks
its address from the 65k-address pool and checks it against every address
held), and `GET /v2.0/ports?network_id=` of everything (median of 5).

    /usr/bin/python3 bench/network/ports.py [--fill 5000] [--samples 300] [--out F.jsonl]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def measure(args):
    import requests
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
                       password=os.environ["OS_PASSWORD"],
                       project_name=os.environ["OS_PROJECT_NAME"],
                       user_domain_name="Default", project_domain_name="Default")
    ks = session.Session(auth=auth)
    base = ks.get_endpoint(service_type="network", interface="public") + "/v2.0"
    s = requests.Session()
    s.headers.update({"X-Auth-Token": ks.get_token(), "Content-Type": "application/json"})

    def post(path, body, want=201):
        r = s.post(base + path, data=json.dumps(body))
        assert r.status_code == want, r.text
        return r.json()

    # Neutron's default port quota (500) is far below what is filled here
    r = s.put(base + "/quotas/" + ks.get_project_id(),
              data=json.dumps({"quota": {"port": -1}}))
    assert r.status_code == 200, r.text
    netid = post("/networks", {"network": {"name": "bench"}})["network"]["id"]
    post("/subnets", {"subnet": {"network_id": netid, "ip_version": 4,
                                 "cidr": "10.200.0.0/16"}})
    t0 = time.monotonic()
    for i in range(0, args.fill, 100):
        post("/ports", {"ports": [{"network_id": netid}] * min(100, args.fill - i)})
    fill_s = time.monotonic() - t0
    lat = []
    for _ in range(args.samples):
        t = time.perf_counter()
        post("/ports", {"port": {"network_id": netid}})
        lat.append((time.perf_counter() - t) * 1000)
    lists = []
    for _ in range(5):      # the first lists of a new process are slower (page faults)
        t = time.perf_counter()
        r = s.get(base + "/ports?network_id=" + netid)
        lists.append((time.perf_counter() - t) * 1000)
    n = len(r.json()["ports"])
    list_ms = statistics.median(lists)
    lat.sort()
    return {"fill": args.fill, "fill_s": round(fill_s, 2), "samples": args.samples,
            "p50_ms": round(statistics.median(lat), 2),
            "p95_ms": round(lat[int(len(lat) * 0.95) - 1], 2),
            "max_ms": round(lat[-1], 2), "ports_listed": n, "list_ms": round(list_ms, 1),
            "db": "postgresql" if os.environ.get("ONESTACK_DATABASE_URL") else "sqlite"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fill", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--out")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return
    cmd = ["/usr/bin/python3", os.path.join(REPO, "tests", "api", "daemon.py"), "exec",
           "-e", "ONESTACK_NETWORK_HOST_NETWORKING=false", "--", "/usr/bin/python3",
           os.path.abspath(__file__), "--inner", "--fill", str(args.fill), "--samples",
           str(args.samples)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = json.loads(next(l for l in out.splitlines() if l.startswith("RESULT "))[7:])
    res["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps(res))
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
