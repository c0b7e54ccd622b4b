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
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestvm import IMAGE, REPO, SSH_OPTS, GuestVM, make_config_drive  # noqa: E402

ONESTACK = os.environ.get("ONESTACK_BIN", os.path.join(REPO, "build", "onestack"))
BOOT_TIMEOUT = 120
EXT_GW = "203.0.113.1"
FIP = "203.0.113.50"
RUN = "/run/onestack/net"      # NET_RUN_DIR


def sh(*argv, check=True, timeout=30):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check,
                          timeout=timeout)


class Cloud:
    """The plan's objects and a way to apply variations of it."""

    def __init__(self, data):
        self.data = data
        self.net, self.ext = str(uuid.uuid4()), str(uuid.uuid4())
        self.sub, self.ext_sub = str(uuid.uuid4()), str(uuid.uuid4())
        self.sub6 = str(uuid.uuid4())
        self.dhcp, self.rif, self.rgw = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        self.router = str(uuid.uuid4())
        self.p1, self.p2 = str(uuid.uuid4()), str(uuid.uuid4())
        self.mac1, self.mac2 = "fa:16:3e:10:00:11", "fa:16:3e:10:00:12"

    @staticmethod
    def port(pid, net, mac, ip, plen=24, v6=None, **kw):
        d = {"id": pid, "network_id": net, "mac_address": mac,
             "fixed_ips": [{"ip_address": ip, "prefixlen": plen}]}
        if v6:
            d["fixed_ips"].append({"ip_address": v6, "prefixlen": 64})
        d.update(kw)
        return d

    def plan(self, extra_rules=(), fips=True):
        base = [{"direction": "ingress", "ethertype": "IPv4", "protocol": 1},
                {"direction": "ingress", "ethertype": "IPv6", "protocol": 58},
                {"direction": "egress", "ethertype": "IPv6"},
                {"direction": "ingress", "ethertype": "IPv4", "protocol": 6,
                 "port_range_min": 22, "port_range_max": 22,
                 "remote_ip_prefixes": ["0.0.0.0/0"]},
                {"direction": "egress", "ethertype": "IPv4"}]
        return {
            "networks": [
                {"id": self.net, "mtu": 1450, "metadata": True,
                 "subnets": [{"id": self.sub, "cidr": "10.10.0.0/24", "ip_version": 4,
                              "gateway_ip": "10.10.0.1", "enable_dhcp": True,
                              "dns_nameservers": ["10.10.0.53"]},
                             {"id": self.sub6, "cidr": "fd00:10::/64", "ip_version": 6,
                              "gateway_ip": "fd00:10::1", "enable_dhcp": True,
                              "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}],
                 "dhcp_port": self.port(self.dhcp, self.net, "fa:16:3e:10:00:02", "10.10.0.2",
                                        v6=slaac("fa:16:3e:10:00:02"))},
                {"id": self.ext, "mtu": 1500,
                 "subnets": [{"id": self.ext_sub, "cidr": "203.0.113.0/24", "ip_version": 4,
                              "gateway_ip": EXT_GW, "enable_dhcp": False}]}],
            "ports": [
                self.port(self.p1, self.net, self.mac1, "10.10.0.11", hostname="vm1",
                          v6=slaac(self.mac1), rules=base + list(extra_rules)),
                self.port(self.p2, self.net, self.mac2, "10.10.0.12", hostname="vm2",
                          v6=slaac(self.mac2), rules=base)],
            "routers": [{
                "id": self.router, "enable_snat": True, "gateway_nexthop": EXT_GW,
                "gateway": self.port(self.rgw, self.ext, "fa:16:3e:10:00:e2", "203.0.113.10"),
                "interfaces": [self.port(self.rif, self.net, "fa:16:3e:10:00:01", "10.10.0.1")],
                "floating_ips": ([{"floating_ip_address": FIP, "fixed_ip_address": "10.10.0.11"}]
                                 if fips else [])}],
        }

    def apply(self, plan):
        path = os.path.join(self.data, "plan.json")
        with open(path, "w") as f:
            json.dump(plan, f)
        r = sh(ONESTACK, "admin", "net-apply", path, check=False)
        assert r.returncode == 0, r.stderr
        return r


def slaac(mac, prefix="fd00:10::"):
    """The EUI-64 SLAAC address of mac in a /64, as Neutron computes it."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    words = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]]
    return prefix + ":".join("%x" % w for w in words)


def tap(pid):
    return "tap" + pid[:11]


def ours():
    """Every bridge, tap, namespace and rule table the agent's naming owns."""
    links = json.loads(sh("ip", "-j", "link", "show").stdout or "[]")
    names = [l["ifname"] for l in links
             if l["ifname"].startswith(("brq", "tap")) and len(l["ifname"]) == 14]
    nss = [l.split()[0] for l in sh("ip", "netns", "list").stdout.splitlines()
           if l.startswith(("qdhcp-", "qrouter-"))]
    tables = [l for l in sh("nft", "list", "tables").stdout.splitlines()
              if l.endswith(" onestack")]
    return names, nss, tables


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    for tool in ("nft", "dnsmasq", "qemu-system-x86_64", "nc"):
        assert shutil.which(tool), "%s not installed: run scripts/install-deps.sh --test" % tool
    d = tmp_path_factory.mktemp("hostnet")
    data = str(d / "data")
    os.makedirs(data)
    cloud = Cloud(data)
    key = str(d / "key")
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
    with open(key + ".pub") as f:
        pub = f.read().strip()
    cloud.apply(cloud.plan())
    # the "external" network: a namespace on the external bridge, made here
    ext_ns = "ostest-ext-%s" % uuid.uuid4().hex[:6]
    veth = "ostx%s" % uuid.uuid4().hex[:6]
    sh("ip", "netns", "add", ext_ns)
    sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "ext0", "netns", ext_ns)
    sh("ip", "link", "set", veth, "master", "brq" + cloud.ext[:11], "up")
    sh("ip", "-n", ext_ns, "addr", "add", EXT_GW + "/24", "dev", "ext0")
    sh("ip", "-n", ext_ns, "link", "set", "ext0", "up")
    sh("ip", "-n", ext_ns, "link", "set", "lo", "up")
    vms = []
    try:
        for i, (pid, mac, name) in enumerate(((cloud.p1, cloud.mac1, "vm1"),
                                              (cloud.p2, cloud.mac2, "vm2"))):
            vdir = d / name
            vdir.mkdir()
            md = json.dumps({"uuid": str(uuid.uuid4()), "name": name, "hostname": name,
                             "public_keys": {"k": pub + "\n"}}).encode()
            cd = make_config_drive(str(vdir / "config.iso"),
                                   {"openstack/latest/meta_data.json": md})
            vms.append(GuestVM(vdir, [], cdrom=cd, taps=[(tap(pid), mac)]))
        for vm in vms:
            vm.wait_ready(BOOT_TIMEOUT)
        yield {"cloud": cloud, "vms": vms, "key": key, "ext": ext_ns}
    finally:
        for vm in vms:
            vm.close()
        sh("ip", "netns", "del", ext_ns, check=False)
        sh("ip", "link", "del", veth, check=False)
        cloud.apply({})


def ext_ssh(env, command, host=FIP, timeout=60):
    """ssh from the external namespace, retrying while dropbear starts."""
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run(["ip", "netns", "exec", env["ext"], "ssh", "-i", env["key"]] +
                           SSH_OPTS + ["root@" + host, command],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 255 or time.monotonic() > deadline:
            return r
        time.sleep(1)


def ext_port_open(env, port, host=FIP):
    return subprocess.run(["ip", "netns", "exec", env["ext"], "nc", "-z", "-w", "3", host,
                           str(port)], capture_output=True).returncode == 0


def dhcp_log(env):
    path = os.path.join(RUN, "dhcp", env["cloud"].net, "log")
    try:
        with open(path) as f:
            return f.read()[-3000:]
    except OSError as e:
        return str(e)


def test_dhcp_gives_each_port_its_address_and_name(env):
    got = sorted((vm.ready_lines()[0][0].decode(), vm.ready_lines()[0][1].decode())
                 for vm in env["vms"])
    why = "%s\n--- dnsmasq\n%s\n%s" % (got, dhcp_log(env), env["vms"][0].diag())
    assert got[0][0] == "vm1" and "10.10.0.11" in got[0][1], why
    assert got[1][0] == "vm2" and "10.10.0.12" in got[1][1], why


def test_ipv6_slaac_address_from_router_advertisements(env):
    cloud = env["cloud"]
    r = ext_ssh(env, "for i in 1 2 3 4 5 6 7 8 9 10; do ip -6 addr show dev eth0 | "
                     "grep -q 'fd00:10::.*global' && break; sleep 1; done; ip -6 addr show dev eth0; "
                     "ping -c 1 -W 3 %s >/dev/null && echo ping6-ok" % slaac(cloud.mac2))
    assert slaac(cloud.mac1) in r.stdout, r.stdout + r.stderr
    assert "ping6-ok" in r.stdout, r.stdout + r.stderr


def test_ssh_through_floating_ip_and_snat(env):
    r = ext_ssh(env, "hostname; ip -4 route")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "vm1"
    assert "default via 10.10.0.1" in r.stdout
    # the guest's own connection out leaves with its floating IP (SNAT)
    lis = subprocess.Popen(["ip", "netns", "exec", env["ext"], "timeout", "15", "nc", "-l",
                            "-v", "-n", "-s", EXT_GW, "-p", "7000"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    r = ext_ssh(env, "echo hello-out | timeout 5 nc %s 7000" % EXT_GW)
    out, _ = lis.communicate(timeout=20)
    assert "hello-out" in out and FIP in out, out


def test_guests_reach_each_other(env):
    r = ext_ssh(env, "ping -c 2 -W 3 10.10.0.12 >/dev/null && echo ok")
    assert r.stdout.strip() == "ok", r.stdout + r.stderr


def test_security_group_rule_opens_and_closes_a_port(env):
    cloud = env["cloud"]
    r = ext_ssh(env, "(httpd -p 8080 -h /tmp &) ; echo started")
    assert "started" in r.stdout, r.stderr
    assert not ext_port_open(env, 8080)
    rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": 6,
            "port_range_min": 8080, "port_range_max": 8080}
    cloud.apply(cloud.plan(extra_rules=[rule]))
    assert ext_port_open(env, 8080)
    cloud.apply(cloud.plan())
    assert not ext_port_open(env, 8080)
    assert ext_port_open(env, 22)


def test_anti_spoofing_drops_a_forged_source(env):
    r = ext_ssh(env, "ip addr add 10.10.0.99/24 dev eth0; "
                     "ping -c 1 -W 2 -I 10.10.0.99 10.10.0.12 >/dev/null && echo forged-ok; "
                     "ping -c 1 -W 2 10.10.0.12 >/dev/null && echo own-ok; "
                     "ip addr del 10.10.0.99/24 dev eth0")
    assert "own-ok" in r.stdout, r.stdout + r.stderr
    assert "forged-ok" not in r.stdout


def test_reapply_changes_nothing_and_repairs_drift(env):
    cloud = env["cloud"]
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
    assert ext_ssh(env, "ping -c 1 -W 3 10.10.0.12 >/dev/null && echo ok").stdout.strip() == "ok"
    # a floating IP taken away stops answering
    cloud.apply(cloud.plan(fips=False))
    assert not ext_port_open(env, 22)
    cloud.apply(cloud.plan())
    assert ext_port_open(env, 22)


def test_bad_plan_is_refused_and_changes_nothing(env):
    cloud = env["cloud"]
    plan = cloud.plan()
    plan["ports"][0]["mac_address"] = "fa:16:3e:10:00:11; drop"
    path = os.path.join(cloud.data, "bad.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    r = sh(ONESTACK, "admin", "net-apply", path, check=False)
    assert r.returncode == 1 and "bad MAC" in r.stderr
    assert ext_port_open(env, 22)


def test_empty_plan_removes_everything(env):
    cloud = env["cloud"]
    cloud.apply({})
    names, nss, tables = ours()
    assert (names, nss, tables) == ([], [], []), (names, nss, tables)
    assert not os.listdir(os.path.join(RUN, "dhcp"))
    assert subprocess.run(["pgrep", "-f", cloud.net], capture_output=True).returncode == 1
    cloud.apply(cloud.plan())       # the module teardown removes it again
