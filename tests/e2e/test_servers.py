"""End-to-end servers on QEMU (TCG here): a real onestack daemon with the
qemu virt driver, driven by the real `openstack` CLI, booting the test
guest image (build/guest/onestack-guest.qcow2).

Covers the issue's "done when": image create, server create --nic none
--wait, the console log's ready line with the hostname from the config
drive and the user_data's output, stop / start / reboot / resize /
image create (then a boot from the snapshot) / delete; a guest that
powers itself off and a QEMU killed from outside become SHUTOFF; and
kill -9 of the daemon during a boot and during a delete converges after a
restart with no orphan QEMU, no leaked disk file and no allocation left.

Run: /usr/bin/pytest-3 tests/e2e/test_servers.py  (ONESTACK_BIN picks the
binary; the ASan build is slower but works)
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from daemon import Daemon  # noqa: E402
from guestvm import IMAGE  # noqa: E402

READY_TIMEOUT = 120        # boot to ready is 6-9 s under TCG on an idle machine
STATE_TIMEOUT = 90
CLI = "/usr/bin/openstack"


class Cloud:
    def __init__(self):
        self.d = Daemon(env={"ONESTACK_COMPUTE_VIRT_DRIVER": "qemu",
                             "ONESTACK_COMPUTE_VIRT_TYPE": "auto"}, name="e2e-servers")
        self.d.start()
        self.env = dict(os.environ)
        self.env.update(self.d.os_env())
        self.env["OS_CLOUD"] = "onestack"
        for k in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME",
                  "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_REGION_NAME",
                  "OS_IDENTITY_API_VERSION"):
            self.env.pop(k, None)

    def cli(self, *args, check=True, timeout=300):
        r = subprocess.run([CLI] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if check:
            assert r.returncode == 0, "openstack %s failed:\n%s%s" % (
                " ".join(args), r.stdout, r.stderr)
        return r

    def json(self, *args):
        return json.loads(self.cli(*(list(args) + ["-f", "json"])).stdout)

    def restart(self):
        """SIGKILL the daemon (no clean shutdown) and serve the same data."""
        d = self.d
        if d.proc.poll() is None:
            d.proc.kill()
        d.proc.wait()
        d._stderr.close()
        d._stderr = open(d.stderr_path, "ab")
        d.proc = subprocess.Popen([d.binary, "serve", "--data", d.data_dir], env=d.env,
                                  stdin=subprocess.DEVNULL, stdout=d._stderr,
                                  stderr=d._stderr)
        d._wait_ready()


def qemu_pids(server_id):
    """PIDs of QEMU processes running for server_id."""
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64.*%s" % server_id],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))


@pytest.fixture(scope="module")
def cloud():
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    c = Cloud()
    c.cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
          "--file", IMAGE, "--public", "guest")
    # small flavors: the guest needs 128 MiB; TCG costs ~250 MB of RSS each
    c.cli("flavor", "create", "--ram", "192", "--disk", "1", "--vcpus", "1", "e2e.small")
    c.cli("flavor", "create", "--ram", "256", "--disk", "2", "--vcpus", "1", "e2e.big")
    yield c
    # nothing may outlive the tests: delete what is left, then check
    for s in c.json("server", "list", "--all-projects"):
        c.cli("server", "delete", "--wait", s["ID"], check=False)
    problems = c.d.stop()
    assert not problems, "\n".join(problems)


def status(c, sid):
    return c.json("server", "show", sid)["status"]


def console(c, sid):
    return c.cli("console", "log", "show", sid).stdout


def ready_lines(c, sid):
    return [l for l in console(c, sid).splitlines() if l.startswith("onestack-guest-ready")]


def wait_status(c, sid, want):
    return wait_for(lambda: status(c, sid) == want, STATE_TIMEOUT, "%s to be %s" % (sid, want))


def allocations(c, sid):
    r = c.cli("resource", "provider", "allocation", "show", sid, "-f", "json",
              "--os-placement-api-version", "1.12", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else []


def boot(c, name, *extra):
    s = c.json("server", "create", "--image", "guest", "--flavor", "e2e.small", "--nic",
               "none", "--wait", *extra, name)
    assert s["status"] == "ACTIVE", s
    return s


def test_boot_console_actions_snapshot_delete(cloud, tmp_path):
    c = cloud
    ud = tmp_path / "ud.sh"
    ud.write_text("#!/bin/sh\necho user-data-ran-$(hostname) > /dev/console\n")
    t0 = time.monotonic()
    s = boot(c, "e2e-one", "--user-data", str(ud))
    sid = s["id"]
    assert len(qemu_pids(sid)) == 1
    wait_for(lambda: ready_lines(c, sid), READY_TIMEOUT, "the ready line")
    log = console(c, sid)
    print("boot to ready line: %.1f s" % (time.monotonic() - t0))
    assert "onestack-guest-ready e2e-one" in log, log[-2000:]
    assert "user-data-ran-e2e-one" in log, log[-2000:]

    c.cli("server", "stop", sid)
    wait_status(c, sid, "SHUTOFF")
    wait_for(lambda: not qemu_pids(sid), 10, "QEMU to exit")
    c.cli("server", "start", sid)
    wait_status(c, sid, "ACTIVE")
    wait_for(lambda: len(ready_lines(c, sid)) >= 2, READY_TIMEOUT, "a second ready line")

    c.cli("server", "reboot", "--wait", sid)
    assert status(c, sid) == "ACTIVE"
    c.cli("server", "reboot", "--hard", "--wait", sid)
    assert status(c, sid) == "ACTIVE"
    assert len(qemu_pids(sid)) == 1

    c.cli("server", "resize", "--flavor", "e2e.big", "--wait", sid)
    assert status(c, sid) == "VERIFY_RESIZE"
    c.cli("server", "resize", "confirm", sid)
    wait_status(c, sid, "ACTIVE")
    shown = c.json("server", "show", sid)
    assert shown["flavor"].startswith("e2e.big"), shown["flavor"]
    alloc = allocations(c, sid)
    assert any(a["resources"].get("MEMORY_MB") == 256 for a in alloc), alloc

    c.cli("server", "image", "create", "--name", "e2e-snap", "--wait", sid)
    img = c.json("image", "show", "e2e-snap")
    assert img["status"] == "active" and img["disk_format"] == "qcow2", img
    wait_status(c, sid, "ACTIVE")
    s2 = c.json("server", "create", "--image", "e2e-snap", "--flavor", "e2e.big", "--nic",
                "none", "--wait", "e2e-from-snap")
    wait_for(lambda: ready_lines(c, s2["id"]), READY_TIMEOUT, "the snapshot's ready line")
    assert "onestack-guest-ready e2e-from-snap" in console(c, s2["id"])

    for x in (sid, s2["id"]):
        c.cli("server", "delete", "--wait", x)
        assert not qemu_pids(x)
        assert not os.path.exists(os.path.join(c.d.data_dir, "instances", x))
        assert allocations(c, x) == []


def test_guest_poweroff_and_killed_qemu_become_shutoff(cloud, tmp_path):
    c = cloud
    ud = tmp_path / "off.sh"
    # powers itself off a little after it is ready
    ud.write_text("#!/bin/sh\n(sleep 3; poweroff) &\n")
    s = boot(c, "e2e-off", "--user-data", str(ud))
    wait_status(c, s["id"], "SHUTOFF")
    assert not qemu_pids(s["id"])

    s2 = boot(c, "e2e-kill")
    pids = qemu_pids(s2["id"])
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    wait_status(c, s2["id"], "SHUTOFF")
    c.cli("server", "start", s2["id"])
    wait_status(c, s2["id"], "ACTIVE")
    for x in (s["id"], s2["id"]):
        c.cli("server", "delete", "--wait", x)


def test_kill9_during_boot_and_delete(cloud):
    c = cloud
    s = c.json("server", "create", "--image", "guest", "--flavor", "e2e.small", "--nic",
               "none", "e2e-crash")
    sid = s["id"]
    # die while the agent fetches the image or starts QEMU
    time.sleep(0.3)
    c.restart()
    wait_status(c, sid, "ACTIVE")
    assert len(qemu_pids(sid)) == 1, "exactly one QEMU after the restart"

    c.cli("server", "delete", sid)
    time.sleep(0.2)
    c.restart()
    wait_for(lambda: sid not in c.cli("server", "list", "-f", "value", "-c", "ID").stdout,
             STATE_TIMEOUT, "the server to be gone")
    wait_for(lambda: not qemu_pids(sid), 30, "no QEMU left")
    assert not os.path.exists(os.path.join(c.d.data_dir, "instances", sid))
    assert allocations(c, sid) == []


def test_shelve_unshelve_and_kill9_during_shelve(cloud):
    c = cloud
    s = boot(c, "e2e-shelf")
    sid = s["id"]
    wait_for(lambda: ready_lines(c, sid), READY_TIMEOUT, "the ready line")
    c.cli("server", "shelve", sid)
    # die while the agent stops the guest or uploads its disk
    time.sleep(1.0)
    c.restart()
    wait_status(c, sid, "SHELVED_OFFLOADED")
    assert not qemu_pids(sid), "no QEMU once offloaded"
    assert not os.path.exists(os.path.join(c.d.data_dir, "instances", sid))
    assert allocations(c, sid) == []
    imgs = [i for i in c.json("image", "list") if i["Name"] == "e2e-shelf-shelved"]
    assert len(imgs) == 1 and imgs[0]["Status"] == "active", imgs
    c.cli("server", "unshelve", sid)
    wait_status(c, sid, "ACTIVE")
    assert len(qemu_pids(sid)) == 1
    # the guest boots from its shelved disk: a second ready line, same name
    wait_for(lambda: len(ready_lines(c, sid)) >= 1, READY_TIMEOUT, "the unshelved ready line")
    assert "onestack-guest-ready e2e-shelf" in console(c, sid)
    assert not [i for i in c.json("image", "list") if i["Name"] == "e2e-shelf-shelved"]
    assert allocations(c, sid)
    c.cli("server", "delete", "--wait", sid)
    assert not qemu_pids(sid)


def test_quota_exceeded_is_refused_with_novas_message(cloud):
    c = cloud
    used = len(c.json("server", "list"))
    project = c.json("project", "show", "admin")["id"]
    c.cli("quota", "set", "--instances", str(used), project)
    try:
        r = c.cli("server", "create", "--image", "guest", "--flavor", "e2e.small", "--nic",
                  "none", "e2e-over", check=False)
        assert r.returncode != 0
        assert "Quota exceeded for instances: Requested 1, but already used %d of %d " \
               "instances" % (used, used) in r.stderr, r.stderr
        assert "HTTP 403" in r.stderr, r.stderr
    finally:
        c.cli("quota", "set", "--instances", "10", project)
    assert not [s for s in c.json("server", "list") if s["Name"] == "e2e-over"]
