"""End-to-end tests of the agent's host networking (src/agent/net*.c), with
real guests: `onestack admin net-apply` makes the host match a network plan
(docs/network-host.md) and two test guests boot on its taps.

What is checked: DHCP hands each port its address and host name; the guests
reach each other on their network; SSH through a floating IP from an
"external" network that lives only in a namespace this test makes; SNAT of
a guest's outgoing connection to its floating IP; a security group rule
opens a port and its removal closes it; anti-spoofing drops a forged source
address; a repeated apply changes nothing, a drifted host is repaired, and
an empty plan removes every bridge, tap, namespace, dnsmasq and rule.

Addresses: 10.10.0.0/24 (tenant) and 203.0.113.0/24 (RFC 5737, external);
neither leaves the namespaces and bridges made here.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostnet import (EXT_GW, FIP, IMAGE, ONESTACK, RUN, SSH_OPTS, Bed, ours, sh, slaac,  # noqa: E402
                     tap)

@pytest.fixture(scope="module")
def env(tmp_path_factory):
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    for tool in ("nft", "dnsmasq", "qemu-system-x86_64", "nc"):
        assert shutil.which(tool), "%s not installed: run scripts/install-deps.sh --test" % tool
    with Bed(tmp_path_factory.mktemp("hostnet")) as bed:
        yield bed


def dhcp_log(env):
    path = os.path.join(RUN, "dhcp", env.cloud.net, "log")
    try:
        with open(path) as f:
            return f.read()[-3000:]
    except OSError as e:
        return str(e)


def test_dhcp_gives_each_port_its_address_and_name(env):
    got = sorted((vm.ready_lines()[0][0].decode(), vm.ready_lines()[0][1].decode())
                 for vm in env.vms)
    why = "%s\n--- dnsmasq\n%s\n%s" % (got, dhcp_log(env), env.vms[0].diag())
    assert got[0][0] == "vm1" and "10.10.0.11" in got[0][1], why
    assert got[1][0] == "vm2" and "10.10.0.12" in got[1][1], why


def test_ipv6_slaac_address_from_router_advertisements(env):
    cloud = env.cloud
    r = env.ssh("for i in 1 2 3 4 5 6 7 8 9 10; do ip -6 addr show dev eth0 | "
                     "grep -q 'fd00:10::.*global' && break; sleep 1; done; ip -6 addr show dev eth0; "
                     "ping -c 1 -W 3 %s >/dev/null && echo ping6-ok" % slaac(cloud.mac2))
    assert slaac(cloud.mac1) in r.stdout, r.stdout + r.stderr
    assert "ping6-ok" in r.stdout, r.stdout + r.stderr


def test_ssh_through_floating_ip_and_snat(env):
    r = env.ssh("hostname; ip -4 route")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "vm1"
    assert "default via 10.10.0.1" in r.stdout
    # the guest's own connection out leaves with its floating IP (SNAT)
    lis = subprocess.Popen(["ip", "netns", "exec", env.ext, "timeout", "15", "nc", "-l",
                            "-v", "-n", "-s", EXT_GW, "-p", "7000"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    r = env.ssh("echo hello-out | timeout 5 nc %s 7000" % EXT_GW)
    out, _ = lis.communicate(timeout=20)
    assert "hello-out" in out and FIP in out, out


def test_guests_reach_each_other(env):
    r = env.ssh("ping -c 2 -W 3 10.10.0.12 >/dev/null && echo ok")
    assert r.stdout.strip() == "ok", r.stdout + r.stderr


def test_security_group_rule_opens_and_closes_a_port(env):
    cloud = env.cloud
    r = env.ssh("(httpd -p 8080 -h /tmp &) ; echo started")
    assert "started" in r.stdout, r.stderr
    assert not env.port_open(8080)
    rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": 6,
            "port_range_min": 8080, "port_range_max": 8080}
    cloud.apply(cloud.plan(extra_rules=[rule]))
    assert env.port_open(8080)
    cloud.apply(cloud.plan())
    assert not env.port_open(8080)
    assert env.port_open(22)


def test_anti_spoofing_drops_a_forged_source(env):
    r = env.ssh("ip addr add 10.10.0.99/24 dev eth0; "
                     "ping -c 1 -W 2 -I 10.10.0.99 10.10.0.12 >/dev/null && echo forged-ok; "
                     "ping -c 1 -W 2 10.10.0.12 >/dev/null && echo own-ok; "
                     "ip addr del 10.10.0.99/24 dev eth0")
    assert "own-ok" in r.stdout, r.stdout + r.stderr
    assert "forged-ok" not in r.stdout


def test_reapply_changes_nothing_and_repairs_drift(env):
    cloud = env.cloud
    ns = "qrouter-" + cloud.router
    pidfile = os.path.join(RUN, "dhcp", cloud.net, "pid")
    with open(pidfile) as f:
        pid = f.read().strip()
    cloud.apply(cloud.plan())
    with open(pidfile) as f:
        assert f.read().strip() == pid     # dnsmasq kept: nothing changed
    # drift: the floating IP address gone, a tap off its bridge, dnsmasq dead
    sh("ip", "-n", ns, "addr", "del", FIP + "/32", "dev", "qg-" + cloud.rgw[:11])
    sh("ip", "link", "set", tap(cloud.p2), "nomaster")
    os.kill(int(pid), 15)
    time.sleep(0.5)
    cloud.apply(cloud.plan())
    assert FIP in sh("ip", "-n", ns, "-br", "addr").stdout
    link = json.loads(sh("ip", "-j", "link", "show", tap(cloud.p2)).stdout)[0]
    assert link.get("master") == "brq" + cloud.net[:11]
    with open(pidfile) as f:
        assert f.read().strip() != pid
    assert env.ssh("ping -c 1 -W 3 10.10.0.12 >/dev/null && echo ok").stdout.strip() == "ok"
    # a floating IP taken away stops answering, and takes its open
    # connections along
    held = subprocess.Popen(["ip", "netns", "exec", env.ext, "timeout", "20", "ssh", "-i",
                             env.key] + SSH_OPTS + ["root@" + FIP, "echo in; sleep 5; echo alive"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 15
    while held.stdout.readline().strip() != "in" and time.monotonic() < deadline:
        pass
    cloud.apply(cloud.plan(fips=False))
    out, _ = held.communicate(timeout=30)
    assert "alive" not in out, out
    assert not env.port_open(22)
    cloud.apply(cloud.plan())
    assert env.port_open(22)


@pytest.mark.parametrize("spoil,why", [
    (lambda p: p["ports"][0].update(mac_address="fa:16:3e:10:00:11; drop"), "bad MAC"),
    (lambda p: p.update(external_namespace="qrouter-x"), "bad external_namespace"),
    (lambda p: p.update(external_namespace="a b"), "bad external_namespace"),
])
def test_bad_plan_is_refused_and_changes_nothing(env, spoil, why):
    cloud = env.cloud
    plan = cloud.plan()
    spoil(plan)
    path = os.path.join(cloud.data, "bad.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    r = sh(ONESTACK, "admin", "net-apply", path, check=False)
    assert r.returncode == 1 and why in r.stderr
    assert env.port_open(22)


def test_empty_plan_removes_everything(env):
    cloud = env.cloud
    cloud.apply({})
    names, nss, tables = ours()
    assert (names, nss, tables) == ([], [], []), (names, nss, tables)
    assert not os.listdir(os.path.join(RUN, "dhcp"))
    assert subprocess.run(["pgrep", "-f", cloud.net], capture_output=True).returncode == 1
    cloud.apply(cloud.plan())       # the module teardown removes it again
