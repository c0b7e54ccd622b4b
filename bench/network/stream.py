#!/usr/bin/python3
"""Network benchmark, guest to guest: a TCP stream between two test guests
on one tenant network, wired by onestack's host networking (bridge, taps,
security groups and anti-spoofing in nftables, conntrack zones), beside the
same two guests wired by hand with no filtering (the same bridge and taps
with every nftables table of onestack removed), and the host's own limit
(a veth pair between two namespaces, no guest).

The stream is an HTTP download between the guests (busybox httpd and wget;
the test image has no iperf3), timed by the receiving guest with
/proc/uptime. Under TCG the guests' CPU
is the limit, which is what the ratio is about: what the filtering costs
the same guests.

    /usr/bin/python3 bench/network/stream.py [--runs N] [--mib M] [--out FILE.jsonl]

Needs root, QEMU and the test image (`make guest-image`); everything it
makes is removed at the end.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from hostnet import Bed, sh  # noqa: E402

FIP2 = "203.0.113.51"


# vm1 serves the stream on this port; its security group opens it
PORT_RULE = [{"direction": "ingress", "ethertype": "IPv4", "protocol": 6,
              "port_range_min": 5001, "port_range_max": 5001}]


def serve(bed, mib):
    """vm1 serves a file of mib MiB from its tmpfs with busybox httpd."""
    r = bed.ssh("mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/big bs=65536 count=%d "
                "2>/dev/null && (httpd -p 5001 -h /tmp/www &) ; echo serving" % (mib * 16))
    assert "serving" in r.stdout, r.stdout + r.stderr


def guest_stream(bed, mib):
    """MB/s of one HTTP download vm1 -> vm2 (wget, timed inside vm2). busybox
    nc cannot be used: it drops what is still buffered when its input ends."""
    r = bed.ssh("a=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null "
                "http://10.10.0.11:5001/big && b=$(cut -d' ' -f1 /proc/uptime) && "
                "echo \"$a $b\"", host=FIP2, timeout=300)
    a, b = (float(x) for x in r.stdout.split()[-2:])
    return (mib << 20) / 1e6 / (b - a)


def veth_stream(mib):
    """MB/s of the same stream (dd | nc) between two namespaces on a veth."""
    ns = ["osbench-a", "osbench-b"]
    for n in ns:
        sh("ip", "netns", "add", n)
    try:
        sh("ip", "link", "add", "osb-a", "netns", ns[0], "type", "veth", "peer", "name", "osb-b",
           "netns", ns[1])
        for n, dev, ip in ((ns[0], "osb-a", "192.0.2.1/24"), (ns[1], "osb-b", "192.0.2.2/24")):
            sh("ip", "-n", n, "addr", "add", ip, "dev", dev)
            sh("ip", "-n", n, "link", "set", dev, "up")
        lis = subprocess.Popen(["ip", "netns", "exec", ns[1], "nc", "-l", "-p", "5001"],
                               stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        t = time.monotonic()
        subprocess.run("dd if=/dev/zero bs=65536 count=%d 2>/dev/null | ip netns exec %s "
                       "nc -N 192.0.2.2 5001" % (mib * 16, ns[0]), shell=True, check=True)
        lis.wait(timeout=60)
        return mib * 1.048576 / (time.monotonic() - t)
    finally:
        for n in ns:
            sh("ip", "netns", "del", n, check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--out", default=os.path.join(
        REPO, "bench", "results", "network-stream-%s.jsonl" % time.strftime("%Y%m%dT%H%M%SZ",
                                                                            time.gmtime())))
    args = ap.parse_args()
    res = {"onestack": [], "by_hand": [], "veth": []}
    with tempfile.TemporaryDirectory(prefix="osbench-") as d:
        with Bed(d, fips=(("203.0.113.50", "10.10.0.11"), (FIP2, "10.10.0.12"))) as bed:
            bed.cloud.apply(bed.cloud.plan(extra_rules=PORT_RULE))
            serve(bed, args.mib)
            guest_stream(bed, args.mib)     # warm-up: dropbear keys, ARP, caches
            for i in range(args.runs):
                bed.cloud.apply(bed.cloud.plan(extra_rules=PORT_RULE))
                res["onestack"].append(guest_stream(bed, args.mib))
                # by hand: the same bridge and taps, no onestack rules at all
                sh("nft", "delete", "table", "inet", "onestack")
                sh("nft", "delete", "table", "bridge", "onestack")
                res["by_hand"].append(guest_stream(bed, args.mib))
                print("run %d: onestack %.1f MB/s, by hand %.1f MB/s" %
                      (i + 1, res["onestack"][-1], res["by_hand"][-1]), flush=True)
            bed.cloud.apply(bed.cloud.plan())
    for i in range(args.runs):
        res["veth"].append(veth_stream(args.mib * 8))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    summary = {k: statistics.median(v) for k, v in res.items()}
    summary["ratio"] = summary["onestack"] / summary["by_hand"]
    with open(args.out, "a") as f:
        f.write(json.dumps({"bench": "guest_stream", "mib": args.mib, "runs": res,
                            "median": summary, "load": os.getloadavg()}) + "\n")
    print("median MB/s: onestack %(onestack).1f, by hand %(by_hand).1f (ratio %(ratio).2f), "
          "host veth %(veth).0f" % summary)
    print("results in", args.out)


if __name__ == "__main__":
    main()
