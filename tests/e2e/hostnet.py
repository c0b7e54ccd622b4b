"""The host networking test bed shared by tests/e2e/test_host_net.py and
bench/network/stream.py: a network plan (docs/network-host.md) with one
tenant network (IPv4 + IPv6 SLAAC), an external network, a router with a
floating IP, two server ports; an "external" namespace on the external
bridge; two test guests on the ports' taps. Applied with `onestack admin
net-apply`.
"""

import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestvm import IMAGE, REPO, SSH_OPTS, GuestVM, make_config_drive  # noqa: E402,F401 (IMAGE: re-exported)

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

    def __init__(self, data, fips):
        self.fips = fips
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
                "floating_ips": ([{"floating_ip_address": f, "fixed_ip_address": ip}
                                  for f, ip in self.fips] if fips else [])}],
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



class Bed:
    """The plan applied, the external namespace made and both guests booted
    (context manager; everything is removed on exit)."""

    def __init__(self, workdir, fips=((FIP, "10.10.0.11"),)):
        self.dir = str(workdir)
        self.fips = fips

    def __enter__(self):
        d = self.dir
        data = os.path.join(d, "data")
        os.makedirs(data, exist_ok=True)
        self.cloud = cloud = Cloud(data, self.fips)
        self.key = os.path.join(d, "key")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key)
        with open(self.key + ".pub") as f:
            pub = f.read().strip()
        cloud.apply(cloud.plan())
        # the "external" network: a namespace on the external bridge
        self.ext = "ostest-ext-%s" % uuid.uuid4().hex[:6]
        self.veth = "ostx%s" % uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", self.ext)
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "ext0", "netns",
           self.ext)
        sh("ip", "link", "set", self.veth, "master", "brq" + cloud.ext[:11], "up")
        sh("ip", "-n", self.ext, "addr", "add", EXT_GW + "/24", "dev", "ext0")
        sh("ip", "-n", self.ext, "link", "set", "ext0", "up")
        sh("ip", "-n", self.ext, "link", "set", "lo", "up")
        self.vms = []
        try:
            for pid, mac, name in ((cloud.p1, cloud.mac1, "vm1"), (cloud.p2, cloud.mac2, "vm2")):
                vdir = os.path.join(d, name)
                os.makedirs(vdir, exist_ok=True)
                md = json.dumps({"uuid": str(uuid.uuid4()), "name": name, "hostname": name,
                                 "public_keys": {"k": pub + "\n"}}).encode()
                cd = make_config_drive(os.path.join(vdir, "config.iso"),
                                       {"openstack/latest/meta_data.json": md})
                self.vms.append(GuestVM(vdir, [], cdrom=cd, taps=[(tap(pid), mac)]))
            for vm in self.vms:
                vm.wait_ready(BOOT_TIMEOUT)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for vm in self.vms:
            vm.close()
        sh("ip", "netns", "del", self.ext, check=False)
        sh("ip", "link", "del", self.veth, check=False)
        self.cloud.apply({})

    def ssh(self, command, host=FIP, timeout=60):
        """ssh from the external namespace, retrying while dropbear starts."""
        deadline = time.monotonic() + timeout
        while True:
            r = subprocess.run(["ip", "netns", "exec", self.ext, "ssh", "-i", self.key] +
                               SSH_OPTS + ["root@" + host, command],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 255 or time.monotonic() > deadline:
                return r
            time.sleep(1)

    def port_open(self, port, host=FIP):
        return subprocess.run(["ip", "netns", "exec", self.ext, "nc", "-z", "-w", "3", host,
                               str(port)], capture_output=True).returncode == 0
