"""Helpers shared by the image service's tests (test_image*.py): request
headers, requests rooted at /image, image creation, a half-sent upload, a
SIGKILL restart and direct SQL on a daemon's database. The `img` fixture
(image_call on the shared instance) is in conftest.py."""

import os
import socket
import sqlite3
import subprocess
import urllib.parse

from conftest import unique
from daemon import _psql

OCTET = {"Content-Type": "application/octet-stream"}
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
PATCH20 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
JSON = {"Accept": "application/json"}


def image_call(cl, method, path, **kw):
    """A request to path below cl's /image, as Cloud.request (admin token
    unless token= says otherwise)."""
    return cl.request(method, cl.base_url + "/image" + path, **kw)


def create_image(img, token="admin", prefix="img", formats=True, **body):
    """POST /v2/images through img (the fixture, or a function of the same
    signature), asserting 201; the response. body gets a fresh name and,
    with formats, disk_format raw and container_format bare unless it
    sets them."""
    body.setdefault("name", unique(prefix))
    if formats:
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
    return img("POST", "/v2/images", token=token, json=body, expect=201)


def partial_put(cl, image_id, what, total, sent, fill):
    """Opens PUT /v2/images/<image_id>/<what> ("file" or "stage") for total
    bytes with the admin token and sends the first `sent` of them (fill
    repeated). Returns the open socket."""
    u = urllib.parse.urlsplit(cl.base_url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    head = ("PUT /image/v2/images/%s/%s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
            % (image_id, what, cl.admin_token, total))
    s.sendall(head.encode() + fill * sent)
    return s


def restart(cl, env=None):
    """SIGKILL (no clean shutdown) and start serve again on the same data,
    with env added to its environment."""
    d = cl.d
    if d.proc.poll() is None:
        d.proc.kill()
    d.proc.wait()
    d.env.update(env or {})
    if d._stderr:
        d._stderr.close()
    d._stderr = open(d.stderr_path, "ab")
    d.proc = subprocess.Popen([d.binary, "serve", "--data", d.data_dir], env=d.env,
                              stdin=subprocess.DEVNULL, stdout=d._stderr, stderr=d._stderr)
    d._wait_ready()


def sql(cl, statement, *args):
    """Runs one statement with '?' parameters on the daemon's database
    (SQLite or PostgreSQL)."""
    d = cl.d
    if d.db_url:
        for a in args:
            statement = statement.replace("?", "'%s'" % a.replace("'", "''"), 1)
        _psql(d.db_url, statement)
        return
    db = sqlite3.connect(os.path.join(d.data_dir, "onestack.db"))
    db.execute(statement, args)
    db.commit()
    db.close()
