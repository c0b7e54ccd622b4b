"""Remote consoles on the fake driver: /remote-consoles (2.6+) and the older
os-getVNCConsole action with Nova's validation and errors, the admin's
os-console-auth-tokens, and the proxy's refusals (unknown token, not a
websocket, a page outside noVNC's directory). The relay itself needs a
real VNC server: tests/e2e/test_vnc.py."""

import functools
import socket
import urllib.parse

import pytest

from compute_helpers import compute_call
from test_servers import action, active, flavors, image, unlimited, upload, wait  # noqa: F401

VNC = {"remote_console": {"protocol": "vnc", "type": "novnc"}}


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("consoles")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


@pytest.fixture(scope="module")
def server(nova, image, flavors):
    return active(nova, image, flavors[0])["id"]


def token_of(url):
    path = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["path"][0]
    assert path.startswith("vnc/websockify?token=")
    return urllib.parse.parse_qs(urllib.parse.urlparse(path).query)["token"][0]


def test_remote_console_url_and_token(nova, server):
    r = nova("POST", "/servers/%s/remote-consoles" % server, json=VNC, version="2.6",
             expect=200)
    c = r.json()["remote_console"]
    assert c["protocol"] == "vnc" and c["type"] == "novnc"
    assert "/vnc/vnc_lite.html?path=" in c["url"]
    tok = token_of(c["url"])
    t = nova("GET", "/os-console-auth-tokens/" + tok, version="2.31", expect=200).json()
    assert t["console"]["instance_uuid"] == server
    assert t["console"]["internal_access_path"].endswith("/vnc.sock")
    nova("GET", "/os-console-auth-tokens/not-a-token", expect=404)


@pytest.mark.parametrize("version, body, code, msg", [
    ("2.6", {"remote_console": {"protocol": "vnc", "type": "spice-html5"}}, 400,
     "Unavailable console type spice-html5."),
    ("2.6", {"remote_console": {"protocol": "spice", "type": "spice-html5"}}, 400,
     "Unavailable console type spice-html5."),
    ("2.6", {"remote_console": {"protocol": "vnc", "type": "bogus"}}, 400, "Invalid input"),
    ("2.6", {"remote_console": {"protocol": "telnet", "type": "novnc"}}, 400, "Invalid input"),
    ("2.6", {"remote_console": {"protocol": "mks", "type": "webmks"}}, 400, "Invalid input"),
    ("2.8", {"remote_console": {"protocol": "mks", "type": "webmks"}}, 400,
     "Unavailable console type webmks."),
    ("2.6", {"console": {}}, 400, "remote_console"),
])
def test_remote_console_validation(nova, server, version, body, code, msg):
    r = nova("POST", "/servers/%s/remote-consoles" % server, json=body, version=version,
             expect=code)
    assert msg in r.json()["badRequest"]["message"]


def test_remote_console_needs_2_6_and_a_running_guest(nova, image, flavors, server):
    nova("POST", "/servers/%s/remote-consoles" % server, json=VNC, version="2.5", expect=404)
    nova("POST", "/servers/nope/remote-consoles", json=VNC, version="2.6", expect=404)
    sid = active(nova, image, flavors[0])["id"]
    action(nova, sid, {"os-stop": None})
    wait(nova, sid, "SHUTOFF")
    r = nova("POST", "/servers/%s/remote-consoles" % sid, json=VNC, version="2.6", expect=409)
    assert "is not ready" in r.json()["conflictingRequest"]["message"]


def test_legacy_action(nova, server):
    r = nova("POST", "/servers/%s/action" % server, json={"os-getVNCConsole": {"type": "novnc"}},
             expect=200)
    assert r.json()["console"]["type"] == "novnc" and token_of(r.json()["console"]["url"])
    nova("POST", "/servers/%s/action" % server, json={"os-getVNCConsole": {"type": "xvpvnc"}},
         expect=400)
    nova("POST", "/servers/%s/action" % server, json={"os-getVNCConsole": {"type": "x"}},
         expect=400)
    nova("POST", "/servers/%s/action" % server, json={"os-getVNCConsole": {"type": "novnc"}},
         version="2.6", expect=404)


def test_policy(nova, cl, server):
    m = cl.member()
    nova("POST", "/servers/%s/remote-consoles" % server, json=VNC, version="2.6",
         token=m["token"], expect=404)      # another project's server is not there
    r = nova("POST", "/servers/%s/remote-consoles" % server, json=VNC, version="2.6",
             expect=200)
    nova("GET", "/os-console-auth-tokens/" + token_of(r.json()["remote_console"]["url"]),
         token=m["token"], expect=403)


def raw(cl, request):
    """The raw answer of the proxy to one request."""
    u = urllib.parse.urlparse(cl.base_url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(request.encode())
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d


WS = ("GET /vnc/websockify?token=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n")


def test_proxy_refusals(nova, cl, server):
    # an unknown token: refused, no body, connection closed (as novncproxy)
    out = raw(cl, WS % "bad")
    assert out.startswith(b"HTTP/1.1 403") and out.endswith(b"\r\n\r\n"), out
    # a live token but no VNC server behind it (the fake driver has none)
    r = nova("POST", "/servers/%s/remote-consoles" % server, json=VNC, version="2.6",
             expect=200)
    out = raw(cl, WS % token_of(r.json()["remote_console"]["url"]))
    assert out.startswith(b"HTTP/1.1 503"), out
    # not a websocket request
    out = raw(cl, "GET /vnc/websockify?token=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400"), out


def test_proxy_pages(cl):
    r = cl.request("GET", cl.base_url + "/vnc/vnc_lite.html", expect=200, headers={
        "X-Auth-Token": ""})
    assert "noVNC" in r.text and r.headers["Content-Type"].startswith("text/html")
    r = cl.request("GET", cl.base_url + "/vnc/core/rfb.js", expect=200)
    assert r.headers["Content-Type"] == "application/javascript"
    for bad in ("/vnc/../../etc/passwd", "/vnc/%2e%2e/%2e%2e/etc/passwd", "/vnc/nothere.html",
                "/vnc/core", "/vnc/.hidden"):
        assert cl.request("GET", cl.base_url + bad).status_code == 404, bad
