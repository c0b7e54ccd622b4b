"""Object storage under concurrent writers and across crashes: 16 threads
writing, overwriting and deleting in one container must leave a listing,
usage counters, files on disk and object bytes that agree; objects
acknowledged before a SIGKILL must come back identical; and what a kill in
the middle of an upload leaves on disk is swept at the next start."""

import hashlib
import os
import random
import socket
import subprocess
import threading
import time
import urllib.parse

import requests

from conftest import unique
from objectlib import connect, inline_orphans, stored_versions

THREADS = 16
PER_THREAD = 12
SHARED = 4          # names every thread writes
GRACE = 3600        # sweep.c SWEEP_GRACE_S


def container_dir(cloud, project_id):
    """The one container directory of a fresh project."""
    root = os.path.join(cloud.data_dir, "objects", "AUTH_" + project_id)
    dirs = os.listdir(root)
    assert len(dirs) == 1, dirs
    return os.path.join(root, dirs[0])


def test_concurrent_writers_leave_a_consistent_container(cloud):
    m = cloud.member()
    conn = connect(cloud, m["user"]["name"], m["user"]["password"], m["project"]["name"])
    url = conn.get_auth()[0]
    cont = unique("conc")
    conn.put_container(cont)
    base = "%s/%s/" % (url, cont)
    hdr = {"X-Auth-Token": m["token"]}
    written = {}                # name -> set of bodies written (any may win)
    lock = threading.Lock()
    errors = []

    def record(name, body):
        with lock:
            written.setdefault(name, set()).add(body)

    def check(r, ok, what):
        if r.status_code not in ok:
            with lock:
                errors.append("%s -> %d %s" % (what, r.status_code, r.text[:200]))

    def worker(t):
        s = requests.Session()
        rnd = random.Random(t)
        for j in range(PER_THREAD):
            own = "t%02d/o%02d" % (t, j)
            body = rnd.randbytes(rnd.choice((0, 1, 100, 5000, 70000)))
            # recorded first: another thread may read it before the 201 is back
            record(own, body)
            r = s.put(base + own, data=body, headers=hdr, timeout=60)
            check(r, (201,), "PUT " + own)
            shared = "shared-%d" % (j % SHARED)
            body = ("%d:%d:" % (t, j)).encode() * rnd.randint(1, 2000)
            record(shared, body)
            r = s.put(base + shared, data=body, headers=hdr, timeout=60)
            check(r, (201,), "PUT " + shared)
            # one hot name overwritten, read and deleted by everyone at once
            if j % 3 == 0:
                r = s.delete(base + "hot", headers=hdr, timeout=60)
                check(r, (204, 404), "DELETE hot")
            else:
                body = b"hot%d-%d" % (t, j) * 100
                record("hot", body)
                r = s.put(base + "hot", data=body, headers=hdr, timeout=60)
                check(r, (201,), "PUT hot")
            r = s.get(base + "hot", headers=hdr, timeout=60)
            check(r, (200, 404), "GET hot")
            if r.status_code == 200:
                with lock:
                    if r.content not in written.get("hot", ()):
                        errors.append("GET hot returned bytes never written")
        # every thread deletes one of its own objects again
        r = s.delete(base + "t%02d/o00" % t, headers=hdr, timeout=60)
        check(r, (204,), "DELETE own")
        with lock:
            written.pop("t%02d/o00" % t)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors[:20])

    head, listing = conn.get_container(cont, full_listing=True)
    names = [o["name"] for o in listing]
    expect = set(written) - ({"hot"} if "hot" not in names else set())
    assert set(names) == expect
    assert len(names) == len(set(names))
    assert int(head["x-container-object-count"]) == len(listing)
    assert int(head["x-container-bytes-used"]) == sum(o["bytes"] for o in listing)
    acc = conn.head_account()
    assert int(acc["x-account-object-count"]) == len(listing)
    assert int(acc["x-account-bytes-used"]) == sum(o["bytes"] for o in listing)
    for o in listing:
        h, body = conn.get_object(cont, o["name"])
        assert body in written[o["name"]], o["name"]
        assert len(body) == o["bytes"] == int(h["content-length"])
        assert hashlib.md5(body).hexdigest() == o["hash"] == h["etag"]
    # every replaced or deleted version's bytes are gone, no temp file is
    # left: each listed object is one file, or (small ones) one row of
    # obj_inline, and nothing else is stored
    files = os.listdir(container_dir(cloud, m["project"]["id"]))
    assert sorted(f for f in files if f.startswith(".tmp-")) == []
    stored = stored_versions(cloud, cont)
    assert sorted(files + stored["inline"]) == sorted(stored["rows"])
    assert len(stored["rows"]) == len(listing)
    assert stored["inline"], "small objects are kept inline"
    assert inline_orphans(cloud) == 0


def restart(d):
    """SIGKILL the daemon (no clean shutdown) and start it on the same data."""
    d.proc.kill()
    d.proc.wait()
    start(d)


def start(d):
    d._stderr = open(d.stderr_path, "ab")
    d.proc = subprocess.Popen([d.binary, "serve", "--data", d.data_dir], env=d.env,
                              stdin=subprocess.DEVNULL, stdout=d._stderr, stderr=d._stderr)
    d._wait_ready()


def test_acknowledged_objects_survive_sigkill(cloud_factory):
    cl = cloud_factory.start("object-sigkill")
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    url, tok = conn.get_auth()
    conn.put_container("keep")
    rnd = random.Random(7)
    data = {}
    s = requests.Session()
    for i in range(40):
        name = "obj/%02d" % i if i % 2 else "\u00fcber-%02d" % i
        body = rnd.randbytes(rnd.choice((0, 10, 65536, 65537, 1 << 20)))
        r = s.put("%s/keep/%s" % (url, urllib.parse.quote(name)), data=body,
                  headers={"X-Auth-Token": tok, "X-Object-Meta-I": str(i)}, timeout=60)
        assert r.status_code == 201
        data[name] = (body, i)
    # killed right after the last 201: what was acknowledged is on disk
    restart(cl.d)
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    listing = conn.get_container("keep", full_listing=True)[1]
    assert sorted(o["name"] for o in listing) == sorted(data)
    for name, (body, i) in data.items():
        h, got = conn.get_object("keep", name)
        assert got == body, name
        assert h["etag"] == hashlib.md5(body).hexdigest()
        assert h["x-object-meta-i"] == str(i)
    problems = cloud_factory.stop(cl)
    assert not problems, problems


def test_kill_mid_upload_is_swept_at_start(cloud_factory):
    cl = cloud_factory.start("object-sweep")
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    url, tok = conn.get_auth()
    conn.put_container("c")
    # one object inline (store.h), one big enough to be a file of its own
    conn.put_object("c", "kept", b"kept bytes")
    old_bytes = b"old bytes" * 2000
    conn.put_object("c", "old-kept", old_bytes)
    project_id = url.rsplit("AUTH_", 1)[1]
    cdir = container_dir(cl, project_id)
    # an upload cut by SIGKILL halfway: its temp file stays behind
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    sock.sendall(("PUT %s/c/half HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
                  "Content-Length: %d\r\n\r\n" % (u.path, tok, 4 << 20)).encode()
                 + b"h" * (1 << 20))
    tmp = []
    for _ in range(150):
        tmp = [f for f in os.listdir(cdir) if f.startswith(".tmp-")]
        if tmp and os.path.getsize(os.path.join(cdir, tmp[0])) > 0:
            break
        time.sleep(0.1)
    assert tmp, "the upload never reached the disk"
    cl.d.proc.kill()
    cl.d.proc.wait()
    sock.close()
    assert os.path.exists(os.path.join(cdir, tmp[0]))
    # files no row names: a crash between commit and row, or row and unlink
    old = time.time() - 2 * GRACE
    def plant(d, name, when):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"orphan")
        os.utime(os.path.join(d, name), (when, when))
    plant(cdir, "0" * 32 + ".old-orphan", old)
    plant(cdir, "0" * 32 + ".young-orphan", time.time())
    gone_dir = os.path.join(os.path.dirname(cdir), "f" * 32)     # no such container
    plant(gone_dir, "1" * 32 + ".x", old)
    # an object's own file, old as it may be, is its bytes
    for f in os.listdir(cdir):
        if not f.startswith(".") and "orphan" not in f:
            os.utime(os.path.join(cdir, f), (old, old))
    start(cl.d)
    left = sorted(os.listdir(cdir))
    assert not [f for f in left if f.startswith(".tmp-")]
    assert "0" * 32 + ".old-orphan" not in left
    assert "0" * 32 + ".young-orphan" in left       # inside the grace period
    assert not os.path.exists(gone_dir)
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    assert conn.get_object("c", "kept")[1] == b"kept bytes"
    assert conn.get_object("c", "old-kept")[1] == old_bytes
    assert sorted(o["name"] for o in conn.get_container("c")[1]) == ["kept", "old-kept"]
    assert "removed 3 files" in cl.d.stderr_text()
    problems = cloud_factory.stop(cl)
    assert not problems, problems


def test_second_process_leaves_uploads_in_flight_alone(cloud_factory):
    """Two serve processes on one data directory: the one starting later
    must not sweep the temp file of an upload the other is receiving."""
    cl = cloud_factory.start("object-shared-dir")
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    url, tok = conn.get_auth()
    conn.put_container("c")
    conn.put_object("c", "first", b"1" * 20000)     # a file: the directory is made
    cdir = container_dir(cl, url.rsplit("AUTH_", 1)[1])
    body = os.urandom(3 << 20)
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    sock.sendall(("PUT %s/c/slow HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
                  "Content-Length: %d\r\n\r\n" % (u.path, tok, len(body))).encode()
                 + body[:1 << 20])
    for _ in range(150):
        if [f for f in os.listdir(cdir) if f.startswith(".tmp-")]:
            break
        time.sleep(0.1)
    d = cl.d
    port = __import__("daemon").free_port()
    env = dict(d.env, ONESTACK_DEFAULT_LISTEN="127.0.0.1:%d" % port)
    with open(os.path.join(d.data_dir, "second.log"), "wb") as log:
        second = subprocess.Popen([d.binary, "serve", "--data", d.data_dir], env=env,
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            for _ in range(300):
                try:
                    if requests.get("http://127.0.0.1:%d/object-store/info" % port,
                                    timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert second.poll() is None, open(log.name, "rb").read()[-2000:]
                time.sleep(0.1)
            assert [f for f in os.listdir(cdir) if f.startswith(".tmp-")]
            # the first process finishes its upload
            sock.sendall(body[1 << 20:])
            resp = sock.recv(4096)
            assert resp.startswith(b"HTTP/1.1 201"), resp[:200]
        finally:
            sock.close()
            second.terminate()
            assert second.wait(10) == 0
    assert "removed" not in open(os.path.join(d.data_dir, "second.log")).read()
    assert conn.get_object("c", "slow")[1] == body
    problems = cloud_factory.stop(cl)
    assert not problems, problems
