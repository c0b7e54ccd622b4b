"""End-to-end servers on a Neutron network: a real onestack daemon with the
qemu driver and host networking, the real `openstack` CLI, two test
guests on one network with no config drive.

Covers: DHCP hands each guest its port's address (the ready line shows
it); the metadata service at 169.254.169.254 answers from inside the guest
(the ready line's hostname comes from it, and the guest fetches
meta_data.json with its own server's uuid); the default security group
lets the guests reach each other and keeps others out; a rule for tcp/22
opens SSH from the network's DHCP namespace and deleting it closes it
again; deleting the servers removes their taps and, with the last port,
the network's DHCP namespace.

Run: /usr/bin/pytest-3 tests/e2e/test_server_net.py
"""

import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from daemon import Daemon  # noqa: E402
from guestvm import IMAGE, SSH_OPTS  # noqa: E402

READY_TIMEOUT = 150
CLI = "/usr/bin/openstack"


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))


class Cloud:
    def __init__(self, workdir):
        self.d = Daemon(env={"ONESTACK_COMPUTE_VIRT_DRIVER": "qemu",
                             "ONESTACK_COMPUTE_VIRT_TYPE": "auto",
                             "ONESTACK_COMPUTE_FORCE_CONFIG_DRIVE": "false"},
                        name="e2e-servernet")
        self.d.start()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(self.d.os_env())
        for k in [k for k in self.env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
            self.env.pop(k)
        self.env["OS_CLOUD"] = "onestack"
        self.key = os.path.join(str(workdir), "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key],
                       check=True)

    def cli(self, *args, check=True):
        r = subprocess.run([CLI] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=300)
        if check:
            assert r.returncode == 0, "openstack %s failed:\n%s%s" % (
                " ".join(args), r.stdout, r.stderr)
        return r

    def json(self, *args):
        return json.loads(self.cli(*(list(args) + ["-f", "json"])).stdout)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    c = Cloud(tmp_path_factory.mktemp("servernet"))
    try:
        c.cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
              "--file", IMAGE, "--public", "guest")
        c.cli("flavor", "create", "--ram", "192", "--disk", "1", "--vcpus", "1", "net.small")
        c.cli("keypair", "create", "--public-key", c.key + ".pub", "k")
        c.net = c.json("network", "create", "n1")
        c.cli("subnet", "create", "--network", "n1", "--subnet-range", "10.77.0.0/24", "s1")
        c.servers = {}
        for name in ("vm1", "vm2"):
            c.servers[name] = c.json("server", "create", "--image", "guest", "--flavor",
                                     "net.small", "--network", "n1", "--key-name", "k", "--wait",
                                     name)
            assert c.servers[name]["status"] == "ACTIVE", c.servers[name]
    except BaseException:
        c.d.stop()      # a daemon left running would fight the next over the host
        raise
    yield c
    for s in c.json("server", "list", "--all-projects"):
        c.cli("server", "delete", "--wait", s["ID"], check=False)
    problems = c.d.stop()
    assert not problems, "\n".join(problems)


def addr(c, name):
    s = c.json("server", "show", c.servers[name]["id"])
    return s["addresses"]["n1"][0] if isinstance(s["addresses"], dict) else \
        s["addresses"].split("=")[1].split(",")[0]


def ready(c, name):
    sid = c.servers[name]["id"]

    def line():
        out = c.cli("console", "log", "show", sid).stdout
        return [l for l in out.splitlines() if l.startswith("onestack-guest-ready")]
    return wait_for(line, READY_TIMEOUT, "%s's ready line" % name)[0]


def ssh(c, ip, command, timeout=40):
    """ssh from the network's DHCP namespace (retries while refused)."""
    ns = "qdhcp-" + c.net["id"]
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run(["ip", "netns", "exec", ns, "ssh", "-i", c.key] + SSH_OPTS +
                           ["root@" + ip, command], capture_output=True, text=True, timeout=60)
        if r.returncode != 255 or time.monotonic() > deadline:
            return r
        time.sleep(1)


def test_dhcp_and_metadata_service_give_address_and_name(env):
    c = env
    for name in ("vm1", "vm2"):
        line = ready(c, name)
        ip = addr(c, name)
        assert ip.startswith("10.77.0.")
        # no config drive: the host name came from the metadata service
        assert line.split()[1] == name and ip in line, line
        out = c.cli("console", "log", "show", c.servers[name]["id"]).stdout
        assert "metadata: uuid=%s" % c.servers[name]["id"] in out


def test_security_group_rule_opens_ssh_and_guests_reach_each_other(env):
    c = env
    ip1, ip2 = addr(c, "vm1"), addr(c, "vm2")
    # the default group: only members may come in, so ssh from the DHCP
    # namespace is dropped
    r = ssh(c, ip1, "true", timeout=5)
    assert r.returncode == 255
    rule = c.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port",
                  "22", "default")
    r = ssh(c, ip1, "ping -c 2 -W 3 %s && wget -q -O - "
                    "http://169.254.169.254/openstack/latest/meta_data.json" % ip2)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["uuid"] == c.servers["vm1"]["id"]
    c.cli("security", "group", "rule", "delete", rule["id"])
    deadline = time.monotonic() + 15
    while ssh(c, ip1, "true", timeout=1).returncode != 255:
        assert time.monotonic() < deadline, "ssh still open after the rule went"
        time.sleep(1)


def test_ssh_through_floating_ip_from_external_namespace(env):
    """The issue's workflow: router, external gateway, a tcp/22 rule, a
    floating IP on the server, ssh from the "external" world: the
    namespace the agent makes for external networks ([network]
    external_namespace, onestack-ext by default), holding the external
    subnet's gateway address; that goes again with the last router gateway
    (the namespace stays, for whatever runs in it)."""
    c = env
    c.cli("network", "create", "--external", "public")
    c.cli("subnet", "create", "--network", "public", "--subnet-range", "203.0.113.0/24",
          "--gateway", "203.0.113.1", "--no-dhcp", "public-sub")
    c.cli("router", "create", "r1")
    c.cli("router", "add", "subnet", "r1", "s1")
    c.cli("router", "set", "--external-gateway", "public", "r1")
    rule = c.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port",
                  "22", "default")
    fip = c.json("floating", "ip", "create", "public")["floating_ip_address"]
    c.cli("server", "add", "floating", "ip", "vm1", fip)
    shown = c.json("server", "show", "vm1")["addresses"]
    assert fip in json.dumps(shown)
    ns = "onestack-ext"

    def ns_addrs():
        return subprocess.run(["ip", "-n", ns, "-br", "addr"], capture_output=True,
                              text=True).stdout
    try:
        wait_for(lambda: "203.0.113.1/24" in ns_addrs(), 30, "the gateway address in " + ns)
        deadline = time.monotonic() + 60
        while True:
            r = subprocess.run(["ip", "netns", "exec", ns, "ssh", "-i", c.key] + SSH_OPTS +
                               ["root@" + fip, "hostname"], capture_output=True, text=True,
                               timeout=60)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert r.returncode == 0 and r.stdout.strip() == "vm1", r.stdout + r.stderr
    finally:
        c.cli("security", "group", "rule", "delete", rule["id"])
    c.cli("server", "remove", "floating", "ip", "vm1", fip)
    c.cli("floating", "ip", "delete", fip)
    c.cli("router", "remove", "subnet", "r1", "s1")
    c.cli("router", "delete", "r1")
    wait_for(lambda: "203.0.113.1/24" not in ns_addrs(), 30, "the gateway address gone")


def test_interface_hot_plug_and_unplug(env):
    """`server add network` plugs a NIC into the running guest over QMP
    (it shows up in the guest with the port's MAC) and `server remove port`
    takes it out again; the guest keeps running."""
    c = env
    c.cli("network", "create", "n2")
    c.cli("subnet", "create", "--network", "n2", "--subnet-range", "10.78.0.0/24", "s2")
    ip1 = addr(c, "vm1")
    rule = c.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port",
                  "22", "default")
    try:
        c.cli("server", "add", "network", "vm1", "n2")
        port = c.json("port", "list", "--server", c.servers["vm1"]["id"], "--network", "n2")[0]
        mac = port["MAC Address"]
        macs = lambda: ssh(c, ip1, "cat /sys/class/net/*/address").stdout  # noqa: E731
        wait_for(lambda: mac in macs(), 60, "the new NIC %s in the guest" % mac)
        c.cli("server", "remove", "port", "vm1", port["ID"])
        wait_for(lambda: mac not in macs(), 60, "the NIC %s gone from the guest" % mac)
        assert c.json("server", "show", "vm1")["status"] == "ACTIVE"
    finally:
        c.cli("security", "group", "rule", "delete", rule["id"])
    c.cli("network", "delete", "n2")


def test_delete_removes_taps_and_dhcp_namespace(env):
    c = env
    taps = ["tap" + p["ID"][:11] for p in c.json("port", "list", "--network", "n1",
                                                   "--device-owner", "compute:nova",
                                                   "--long")]
    assert len(taps) == 2
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert all(t in links for t in taps)
    for s in c.servers.values():
        c.cli("server", "delete", "--wait", s["id"])
    assert c.json("port", "list", "--device-owner", "compute:nova") == []

    def gone():
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return not any(t in links for t in taps) and "qdhcp-" + c.net["id"] not in ns
    wait_for(gone, 30, "taps and the DHCP namespace to go")
