"""noVNC consoles end to end: a real guest under QEMU, its console URL from
the API, the noVNC page through that URL, then the websocket with the
URL's token through onestack's proxy and an RFB handshake with QEMU's VNC
server all the way to a framebuffer update; a forged token is refused; a
deleted server's console closes. The websocket client is written here
with the standard library (RFC 6455)."""

import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from daemon import Daemon  # noqa: E402
from guestvm import IMAGE  # noqa: E402

import requests  # noqa: E402

TIMEOUT = 120


class WS:
    """A minimal websocket client over a plain socket."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        path = urllib.parse.parse_qs(u.query)["path"][0]
        self.s = socket.create_connection((u.hostname, u.port), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n"
                        % (path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.s.recv(4096)
            if not d:
                break
            head += d
        self.head, _, self.buf = head.partition(b"\r\n\r\n")
        self.rfb = b""
        self.status = int(self.head.split(b" ")[1]) if self.head else 0
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.accept_ok = b"sec-websocket-accept: " + want.lower() in self.head.lower()

    def _need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        """(opcode, payload) of the next frame."""
        h = self._need(2)
        op, n = h[0] & 15, h[1] & 127
        assert not h[1] & 128, "a server must not mask"
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return op, self._need(n)

    def recv(self, n):
        """n bytes of the RFB stream (a stream: frames may split or join
        its messages)."""
        while len(self.rfb) < n:
            op, p = self.frame()
            assert op == 2, "want binary, got opcode %d %r" % (op, p)
            self.rfb += p
        out, self.rfb = self.rfb[:n], self.rfb[n:]
        return out

    def send(self, data, op=2):
        mask = os.urandom(4)
        n = len(data)
        h = bytes([0x80 | op])
        h += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        self.s.sendall(h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


@pytest.fixture(scope="module")
def cloud():
    assert os.path.isfile(IMAGE), "%s missing: run `make guest-image`" % IMAGE
    assert os.path.isfile("/usr/share/novnc/vnc_lite.html"), \
        "novnc missing: run scripts/install-deps.sh --test"
    d = Daemon(env={"ONESTACK_COMPUTE_VIRT_DRIVER": "qemu"}, name="e2e-vnc")
    d.start()
    s = requests.Session()
    tok = s.post(d.base_url + "/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": d.admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    s.headers["X-Auth-Token"] = tok.headers["X-Subject-Token"]
    g = d.base_url + "/image/v2/images"
    im = s.post(g, json={"name": "guest", "disk_format": "qcow2", "container_format": "bare"}
                ).json()
    with open(IMAGE, "rb") as f:
        s.put(g + "/%s/file" % im["id"], data=f,
              headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    fl = s.post(d.base_url + "/compute/v2.1/flavors", json={"flavor": {
        "name": "vnc", "ram": 192, "vcpus": 1, "disk": 1}}).json()["flavor"]
    srv = s.post(d.base_url + "/compute/v2.1/servers", json={"server": {
        "name": "vnc-guest", "imageRef": im["id"], "flavorRef": fl["id"],
        "networks": "none"}}, headers={"OpenStack-API-Version": "compute 2.37"}
        ).json()["server"]
    deadline = time.monotonic() + TIMEOUT
    while s.get(d.base_url + "/compute/v2.1/servers/" + srv["id"]).json()["server"]["status"] != \
            "ACTIVE":
        assert time.monotonic() < deadline, "server not ACTIVE"
        time.sleep(0.5)
    yield d, s, srv["id"]
    problems = d.stop()
    assert not problems, "\n".join(problems)


def console_url(d, s, sid):
    r = s.post(d.base_url + "/compute/v2.1/servers/%s/remote-consoles" % sid,
               json={"remote_console": {"protocol": "vnc", "type": "novnc"}},
               headers={"OpenStack-API-Version": "compute 2.6"})
    assert r.status_code == 200, r.text
    return r.json()["remote_console"]["url"]


def test_page_websocket_and_rfb_handshake(cloud):
    d, s, sid = cloud
    url = console_url(d, s, sid)
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    assert "noVNC" in page and "<script" in page
    ws = WS(url)
    assert ws.status == 101 and ws.accept_ok, ws.head
    version = ws.recv(12)
    assert version.startswith(b"RFB 003.00"), version
    ws.send(b"RFB 003.008\n")
    n = ws.recv(1)[0]
    types = ws.recv(n)
    assert 1 in types, types                 # None: the proxy's token is the credential
    ws.send(b"\x01")
    assert ws.recv(4) == b"\0\0\0\0"          # SecurityResult OK
    ws.send(b"\x01")                          # ClientInit, shared
    init = ws.recv(24)
    width, height = struct.unpack("!HH", init[:4])
    name = ws.recv(struct.unpack("!I", init[20:24])[0])
    assert width > 0 and height > 0 and name, (width, height, name)
    # a ping is answered
    ws.send(b"hi", op=9)
    op, p = ws.frame()
    assert (op, p) == (10, b"hi")
    ws.send(struct.pack("!BBHHHH", 3, 0, 0, 0, width, height))   # FramebufferUpdateRequest
    op, p = ws.frame()
    assert op == 2 and p[0] == 0, p[:4]          # FramebufferUpdate
    ws.send(struct.pack("!H", 1000), op=8)        # close
    while True:
        op, p = ws.frame()
        if op == 8:
            break
    ws.s.close()


def test_forged_token_is_refused(cloud):
    d, s, sid = cloud
    url = console_url(d, s, sid).replace("token%3D", "token%3Dbad")
    ws = WS(url)
    assert ws.status == 403
    assert ws.s.recv(100) == b""     # no body, and closed


def test_legacy_action_and_token_show(cloud):
    d, s, sid = cloud
    r = s.post(d.base_url + "/compute/v2.1/servers/%s/action" % sid,
               json={"os-getVNCConsole": {"type": "novnc"}})
    assert r.status_code == 200, r.text
    url = r.json()["console"]["url"]
    token = urllib.parse.parse_qs(urllib.parse.urlparse(
        urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["path"][0]).query)["token"][0]
    r = s.get(d.base_url + "/compute/v2.1/os-console-auth-tokens/" + token,
              headers={"OpenStack-API-Version": "compute 2.31"})
    assert r.status_code == 200, r.text
    c = r.json()["console"]
    assert c["instance_uuid"] == sid and c["internal_access_path"].endswith("vnc.sock")


def test_cli_console_url_show(cloud):
    d, s, sid = cloud
    env = dict(os.environ)
    env.update(d.os_env())
    r = subprocess.run(["/usr/bin/openstack", "console", "url", "show", "--novnc", sid, "-f",
                        "json"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    url = json.loads(r.stdout)["url"]
    assert "/vnc/vnc_lite.html?path=vnc%2Fwebsockify%3Ftoken%3D" in url, url
    ws = WS(url)
    assert ws.status == 101 and ws.recv(12).startswith(b"RFB ")
    ws.s.close()


def test_console_closes_when_server_is_deleted(cloud):
    d, s, sid = cloud
    ws = WS(console_url(d, s, sid))
    assert ws.status == 101
    ws.recv(12)
    s.delete(d.base_url + "/compute/v2.1/servers/" + sid)
    deadline = time.monotonic() + 60
    ops = []
    try:
        while time.monotonic() < deadline:
            op, _ = ws.frame()
            ops.append(op)
            if op == 8:
                break
    except EOFError:
        ops.append("eof")
    assert ops and ops[-1] in (8, "eof"), ops
