"""End-to-end tests of the test guest image (build/guest/onestack-guest.qcow2,
`make guest-image`): boot it for real under QEMU TCG and check that it does
what the compute service will rely on - DHCP on every NIC, SLAAC, the config
drive and the metadata service, hostname, SSH keys, user_data, the ready
line, and a clean shutdown on the ACPI power button.

Run: /usr/bin/pytest-3 tests/e2e  (ONESTACK_GUEST_IMAGE picks another image)
Each boot is bounded (BOOT_TIMEOUT) and QEMU is killed at teardown.
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestvm import IMAGE, REPO, GuestVM, free_port, make_config_drive  # noqa: E402

BOOT_TIMEOUT = 90          # TCG boot to ready is 6-9 s on an idle 2-core machine
POWERDOWN_TIMEOUT = 30     # measured 3-4 s
RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcprelay.py")
BUSYBOX = os.path.join(os.path.dirname(IMAGE), "work", "root", "bin", "busybox")
JSONFLAT = os.path.join(REPO, "tools", "guest", "jsonflat.awk")


@pytest.fixture(scope="module", autouse=True)
def prerequisites():
    # Missing pieces are failures, not skips: `make test` builds the image and
    # install-deps.sh --test installs the tools.
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    for tool in ("qemu-system-x86_64", "qemu-img", "genisoimage", "mkfs.vfat", "mcopy",
                 "ssh", "ssh-keygen"):
        assert shutil.which(tool), "%s not installed: run scripts/install-deps.sh --test" % tool


@pytest.fixture(scope="module")
def keypair(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    keys = {}
    for name in ("good", "other"):
        path = str(d / name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                        "e2e %s key" % name, "-f", path], check=True)
        with open(path + ".pub") as f:
            keys[name] = (path, f.read().strip())
    return keys


@pytest.fixture
def vms():
    """Factory for GuestVMs; every one is killed at teardown."""
    started = []

    def boot(*args, **kwargs):
        vm = GuestVM(*args, **kwargs)
        started.append(vm)
        return vm
    yield boot
    for vm in started:
        vm.close()


def meta_data(hostname, pubkey, **extra):
    """meta_data.json as Nova writes it: one line, public_keys a name -> key
    object (the key name has a space; the key ends in "\\n" as Nova's do)."""
    md = {"uuid": str(uuid.uuid4()), "name": hostname.split(".")[0],
          "hostname": hostname, "launch_index": 0, "availability_zone": "nova",
          "project_id": uuid.uuid4().hex, "devices": [],
          "meta": {"role": "e2e \"quoted\" value"},
          "public_keys": {"e2e key": pubkey + "\n"},
          "keys": [{"name": "e2e key", "type": "ssh", "data": pubkey + "\n"}]}
    md.update(extra)
    return json.dumps(md).encode()


USER_DATA = b"#!/bin/sh\necho \"user-data ran as $(id -u) on $(hostname)\" > /root/user-data-marker\n"


def check_ssh_and_user_data(vm, port, keypair, hostname):
    key = keypair["good"][0]
    r = vm.ssh(port, key, "hostname; cat /root/user-data-marker")
    assert r.returncode == 0, "ssh failed: %s\n%s" % (r.stderr.decode(), vm.diag())
    assert r.stdout.decode().split("\n")[:2] == [hostname, "user-data ran as 0 on %s" % hostname]
    # a key that is not in the metadata must be refused
    r = vm.ssh(port, keypair["other"][0], "true", timeout=0)
    assert r.returncode == 255, "a key not in public_keys was accepted"


def test_config_drive_two_nics_ssh_user_data_powerdown(tmp_path, vms, keypair):
    iso = make_config_drive(str(tmp_path / "config.iso"), {
        "openstack/latest/meta_data.json": meta_data("e2e-cd.novalocal", keypair["good"][1]),
        "openstack/latest/user_data": USER_DATA,
        "openstack/latest/network_data.json": b'{"links": [], "networks": [], "services": []}',
    })
    port = free_port()
    # two NICs on two separate slirp networks: the guest must run DHCP on both
    vm = vms(tmp_path, cdrom=iso, netdevs=[
        "restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % port,
        "restrict=on,net=10.0.3.0/24,ipv6=off",
    ])
    hostname, addrs, secs = vm.wait_ready(BOOT_TIMEOUT)
    print("config drive boot: ready after %.1f s: %s %s" % (secs, hostname, addrs))
    assert hostname == "e2e-cd"          # first label of meta_data "hostname"
    assert "10.0.2.15" in addrs and "10.0.3.15" in addrs, addrs

    check_ssh_and_user_data(vm, port, keypair, "e2e-cd")
    # SLAAC: slirp advertises fec0::/64 on the first network; the ready line
    # may have come before DAD finished, so ask the guest
    r = vm.ssh(port, keypair["good"][0],
               "for i in 1 2 3 4 5 6 7 8 9 10; do ip -6 addr show dev eth0 | "
               "grep -q 'inet6 fec0:' && break; sleep 1; done; ip -6 addr show dev eth0")
    assert b"inet6 fec0:" in r.stdout, r.stdout.decode()
    assert len(vm.ready_lines()) == 1, vm.diag()

    t0 = time.monotonic()
    reply = vm.qmp("system_powerdown")
    assert reply == {"return": {}}, reply
    rc = vm.wait_exit(POWERDOWN_TIMEOUT)
    print("system_powerdown: QEMU exited (rc %s) after %.1f s" % (rc, time.monotonic() - t0))
    assert rc == 0, "QEMU still running %d s after system_powerdown (rc %s)\n%s" % (
        POWERDOWN_TIMEOUT, rc, vm.diag())
    console = vm.console_text()
    # clean: the guest's own shutdown ran (acpid -> poweroff -> init), and
    # the kernel powered off rather than panicked
    assert b"onestack-guest: power button" in console, vm.diag()
    assert b"onestack-guest: shutdown" in console, vm.diag()
    assert b"reboot: Power down" in console, vm.diag()


def test_vfat_config_drive_name_without_hostname(tmp_path, vms, keypair):
    """A vfat config drive on a virtio disk; meta_data.json has "name" but no
    "hostname", so the name is the host name."""
    md = json.loads(meta_data("unused", keypair["good"][1], name="e2e-vfat"))
    del md["hostname"]
    img = make_config_drive(str(tmp_path / "config.img"), {
        "openstack/latest/meta_data.json": json.dumps(md).encode(),
        "openstack/latest/user_data": USER_DATA,
    }, fs="vfat")
    port = free_port()
    vm = vms(tmp_path, disk=img, netdevs=["restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % port])
    hostname, addrs, secs = vm.wait_ready(BOOT_TIMEOUT)
    print("vfat config drive boot: ready after %.1f s: %s %s" % (secs, hostname, addrs))
    assert hostname == "e2e-vfat"
    assert b"source=config-drive:/dev/vdb" in vm.console_text(), vm.diag()
    check_ssh_and_user_data(vm, port, keypair, "e2e-vfat")


class MetadataHandler(http.server.BaseHTTPRequestHandler):
    """Serves server.files; the first meta_data.json request gets a 503, as
    a metadata proxy that is not up yet would, so the guest must retry."""

    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if self.path.endswith("meta_data.json") and self.server.requests.count(self.path) == 1:
            body, code = b"not yet", 503
        else:
            code = 200 if body is not None else 404
            body = body if body is not None else b"not found"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def metadata_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MetadataHandler)
    srv.requests = []
    srv.files = {}
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_metadata_service(tmp_path, vms, keypair, metadata_server):
    metadata_server.files = {
        "/openstack/latest/meta_data.json": meta_data("e2e-md.novalocal", keypair["good"][1]),
        "/openstack/latest/user_data": USER_DATA,
    }
    port = free_port()
    # slirp forwards only addresses inside its own network, so the network is
    # 169.254.0.0/16; the -cmd: form runs the relay for each guest connection
    # (the -tcp: form would be one connection for QEMU's whole life).
    vm = vms(tmp_path, netdevs=[
        "restrict=on,net=169.254.0.0/16,hostfwd=tcp:127.0.0.1:%d-:22,"
        "guestfwd=tcp:169.254.169.254:80-cmd:/usr/bin/python3 %s 127.0.0.1 %d"
        % (port, RELAY, metadata_server.server_address[1]),
    ])
    hostname, addrs, secs = vm.wait_ready(BOOT_TIMEOUT)
    print("metadata service boot: ready after %.1f s: %s %s" % (secs, hostname, addrs))
    assert hostname == "e2e-md"
    assert metadata_server.requests.count("/openstack/latest/meta_data.json") >= 2, \
        metadata_server.requests                    # the 503, then the retry
    assert "/openstack/latest/user_data" in metadata_server.requests
    check_ssh_and_user_data(vm, port, keypair, "e2e-md")
    assert len(vm.ready_lines()) == 1, vm.diag()


@pytest.mark.parametrize("doc,want", [
    # Nova's shape, keys with spaces, escapes, nesting
    ('{"hostname": "a.novalocal", "public_keys": {"my key": "ssh-ed25519 AAA c d\\n"}}',
     ["hostname\ta.novalocal", "public_keys/my key\tssh-ed25519 AAA c d"]),
    ('{"meta": {"q": "x \\"y\\" \\\\ \\/ \\u0041"}, "n": [1, {"data": "k"}], "b": true, "z": null}',
     ['meta/q\tx "y" \\ / A', "n/0\t1", "n/1/data\tk", "b\ttrue", "z\tnull"]),
    # pretty-printed over several lines, braces inside strings
    ('{\n  "name": "{not} [an] object, really",\n  "uuid":"u-1"\n}\n',
     ["name\t{not} [an] object, really", "uuid\tu-1"]),
])
def test_jsonflat_in_guest_busybox(doc, want):
    """The guest's JSON reader, run by the guest's own busybox awk."""
    assert os.path.isfile(BUSYBOX), "%s missing: run `make guest-image`" % BUSYBOX
    r = subprocess.run([BUSYBOX, "awk", "-f", JSONFLAT], input=doc.encode(),
                       capture_output=True, check=True)
    assert r.stdout.decode().splitlines() == want
