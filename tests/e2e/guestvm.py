"""Boot onestack's test guest under QEMU for the e2e tests.

A GuestVM is one QEMU process (TCG: on this project's machines /dev/kvm
cannot run a stock guest) booting a copy-on-write overlay of the built image,
so the image itself is never written. Networking is QEMU user mode (slirp)
with restrict=on: the guest reaches nothing but the forwards the test sets
up, and nothing leaves this machine.

The caller must call close() (the fixtures do, in a finalizer): it kills
QEMU if it is still running.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE = os.environ.get("ONESTACK_GUEST_IMAGE",
                       os.path.join(REPO, "build", "guest", "onestack-guest.qcow2"))
READY_RE = re.compile(rb"^onestack-guest-ready (\S+)(.*?)\r?$", re.M)
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10"]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GuestVM:
    """One guest. netdevs: list of "-netdev user,..." option strings, one NIC
    each (the first gets id n0, ...); cdrom: path of a config drive ISO;
    disk: path of a raw image attached as a second virtio disk (vfat config
    drive); taps: list of (tap device, MAC) for NICs on host taps (the host
    networking tests; the tap must exist)."""

    def __init__(self, workdir, netdevs, cdrom=None, disk=None, mem=256, taps=()):
        self.dir = str(workdir)
        self.console = os.path.join(self.dir, "console.log")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.overlay = os.path.join(self.dir, "root.qcow2")
        self.proc = None
        self.t_start = None
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", IMAGE,
                        "-F", "qcow2", self.overlay], check=True)
        argv = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", str(mem),
                "-smp", "1", "-nodefaults", "-display", "none",
                "-drive", "file=%s,if=none,id=root,format=qcow2" % self.overlay,
                "-device", "virtio-blk-pci,drive=root,bootindex=0",
                "-chardev", "file,id=ser0,path=%s" % self.console,
                "-serial", "chardev:ser0",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if cdrom:
            argv += ["-drive", "file=%s,if=none,id=cfg,media=cdrom,readonly=on,format=raw"
                     % cdrom, "-device", "ide-cd,drive=cfg"]
        if disk:
            argv += ["-drive", "file=%s,if=none,id=cfg,readonly=on,format=raw" % disk,
                     "-device", "virtio-blk-pci,drive=cfg"]
        for i, nd in enumerate(netdevs):
            argv += ["-netdev", "user,id=n%d,%s" % (i, nd),
                     "-device", "virtio-net-pci,netdev=n%d" % i]
        for i, (tap, mac) in enumerate(taps):
            argv += ["-netdev", "tap,id=t%d,ifname=%s,script=no,downscript=no,vhost=off" % (i, tap),
                     "-device", "virtio-net-pci,netdev=t%d,mac=%s" % (i, mac)]
        self.argv = argv
        self.log = open(os.path.join(self.dir, "qemu.log"), "wb")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    # console ----------------------------------------------------------------
    def console_text(self):
        try:
            with open(self.console, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def diag(self):
        """The tail of the console and QEMU's own output, for failure messages."""
        with open(os.path.join(self.dir, "qemu.log"), "rb") as f:
            qlog = f.read()[-2000:]
        return ("--- console (tail)\n%s\n--- qemu\n%s" %
                (self.console_text()[-4000:].decode("utf-8", "replace"),
                 qlog.decode("utf-8", "replace")))

    def wait_ready(self, timeout=90):
        """Waits for the ready line; returns (hostname, [addresses], seconds
        since QEMU started). Raises AssertionError on timeout or QEMU exit."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = READY_RE.search(self.console_text())
            if m:
                return (m.group(1).decode(), m.group(2).decode().split(),
                        time.monotonic() - self.t_start)
            if self.proc.poll() is not None:
                raise AssertionError("QEMU exited (%s) before the guest was ready\n%s"
                                     % (self.proc.returncode, self.diag()))
            time.sleep(0.2)
        raise AssertionError("no ready line within %d s\n%s" % (timeout, self.diag()))

    def ready_lines(self):
        return READY_RE.findall(self.console_text())

    # ssh ----------------------------------------------------------------------
    def ssh(self, port, key, command, timeout=60):
        """Runs command as root over ssh on 127.0.0.1:port (slirp hostfwd),
        retrying until dropbear answers (it makes its host key on the first
        connection). Returns the CompletedProcess of the last attempt."""
        deadline = time.monotonic() + timeout
        while True:
            r = subprocess.run(["ssh", "-i", key, "-p", str(port)] + SSH_OPTS +
                               ["root@127.0.0.1", command],
                               capture_output=True, timeout=60)
            # 255: ssh itself failed (connection refused, reset, auth)
            if r.returncode != 255 or time.monotonic() > deadline:
                return r
            time.sleep(1)

    # QMP ----------------------------------------------------------------------
    def qmp(self, command, timeout=10):
        """One QMP command on a fresh session; returns the reply object."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(self.qmp_path)
        f = s.makefile("rwb")
        try:
            json.loads(f.readline())                 # greeting
            for cmd in ({"execute": "qmp_capabilities"}, {"execute": command}):
                f.write(json.dumps(cmd).encode() + b"\n")
                f.flush()
                while True:                          # skip events
                    msg = json.loads(f.readline())
                    if "return" in msg or "error" in msg:
                        break
            return msg
        finally:
            f.close()
            s.close()

    def wait_exit(self, timeout):
        """QEMU's exit status, or None if it still runs after timeout s."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


def make_config_drive(path, files, fs="iso9660"):
    """A config drive labelled config-2 holding files {relative path: bytes},
    as Nova builds it: ISO 9660 (genisoimage -r -J) or vfat (mkfs.vfat, 1 MiB
    here, filled with mcopy: no mount needed)."""
    src = path + ".d"
    shutil.rmtree(src, ignore_errors=True)
    for rel, data in files.items():
        p = os.path.join(src, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    if fs == "iso9660":
        subprocess.run(["genisoimage", "-quiet", "-o", path, "-V", "config-2", "-r", "-J", src],
                       check=True)
    else:
        if os.path.exists(path):
            os.unlink(path)
        subprocess.run(["mkfs.vfat", "-n", "config-2", "-C", path, "1024"], check=True,
                       capture_output=True)
        subprocess.run(["mcopy", "-s", "-i", path, os.path.join(src, "openstack"), "::/"],
                       check=True)
    return path
