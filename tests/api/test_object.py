"""Object storage (Swift v1 at /object-store) through python-swiftclient and
raw HTTP: containers, objects, listings, metadata, keystoneauth-style
access, a cut-off upload and a daemon restart between PUT and GET."""

import hashlib
import http.client
import os
import socket
import subprocess
import urllib.parse

import pytest
import requests

from conftest import unique
from objectlib import connect, member, status_of


@pytest.fixture(scope="module")
def owner(cloud):
    """A member of a fresh project and a swiftclient connection as them."""
    return member(cloud)


def test_info_needs_no_token(cloud):
    r = requests.get(cloud.base_url + "/object-store/info", timeout=10)
    assert r.status_code == 200, r.text
    sw = r.json()["swift"]
    assert sw["container_listing_limit"] == 10000
    assert sw["max_file_size"] > 5 * 2 ** 30 and sw["version"]


def test_catalog_names_the_account(owner):
    assert owner["url"].endswith("/object-store/v1/AUTH_" + owner["project"]["id"])


def test_container_and_object_round_trip(owner):
    c = owner["conn"]
    name = unique("c")
    c.put_container(name, headers={"X-Container-Meta-Color": "blue"})
    h = c.head_container(name)
    assert h["x-container-meta-color"] == "blue"
    assert h["x-container-object-count"] == "0"
    etag = c.put_object(name, "hello.txt", b"hello world", content_type="text/plain",
                        headers={"X-Object-Meta-Kind": "greeting"})
    assert etag == hashlib.md5(b"hello world").hexdigest()
    h, body = c.get_object(name, "hello.txt")
    assert body == b"hello world"
    assert h["etag"] == etag and h["content-type"] == "text/plain"
    assert h["x-object-meta-kind"] == "greeting"
    h = c.head_container(name)
    assert (h["x-container-object-count"], h["x-container-bytes-used"]) == ("1", "11")
    acc = c.head_account()
    assert int(acc["x-account-container-count"]) >= 1
    assert int(acc["x-account-object-count"]) >= 1
    assert "x-timestamp" in acc
    # overwrite, then ranges
    c.put_object(name, "hello.txt", b"0123456789")
    h, body = c.get_object(name, "hello.txt", headers={"Range": "bytes=2-4"})
    assert body == b"234" and h["content-range"] == "bytes 2-4/10"
    _, body = c.get_object(name, "hello.txt", headers={"Range": "bytes=-3"})
    assert body == b"789"
    assert status_of(c.get_object, name, "hello.txt", headers={"Range": "bytes=50-"}) == 416
    # metadata POST replaces the object's metadata
    c.post_object(name, "hello.txt", headers={"X-Object-Meta-New": "1"})
    h = c.head_object(name, "hello.txt")
    assert h["x-object-meta-new"] == "1" and "x-object-meta-kind" not in h
    assert h["content-length"] == "10"
    c.post_container(name, headers={"X-Container-Meta-Color": "red"})
    assert c.head_container(name)["x-container-meta-color"] == "red"
    # a container with objects cannot go
    assert status_of(c.delete_container, name) == 409
    c.delete_object(name, "hello.txt")
    assert status_of(c.get_object, name, "hello.txt") == 404
    assert status_of(c.delete_object, name, "hello.txt") == 404
    c.delete_container(name)
    assert status_of(c.head_container, name) == 404
    assert status_of(c.delete_container, name) == 404


def test_put_container_twice_is_202(owner):
    name = unique("c")
    url = owner["url"] + "/" + name
    hdr = {"X-Auth-Token": owner["token"]}
    assert requests.put(url, headers=hdr, timeout=10).status_code == 201
    assert requests.put(url, headers=hdr, timeout=10).status_code == 202
    r = requests.get(url + "/missing", headers=hdr, timeout=10)
    assert r.status_code == 404
    assert r.text == "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>"


def test_big_object_byte_for_byte(owner):
    c = owner["conn"]
    name = unique("big")
    c.put_container(name)
    data = os.urandom(1 << 20) * 64     # 64 MiB
    etag = c.put_object(name, "blob", data)
    assert etag == hashlib.md5(data).hexdigest()
    h, body = c.get_object(name, "blob", resp_chunk_size=1 << 20)
    got = b"".join(body)
    assert len(got) == len(data) and got == data
    assert h["content-length"] == str(len(data))


def test_chunked_upload(owner):
    c = owner["conn"]
    name = unique("ch")
    c.put_container(name)

    def gen():
        for i in range(10):
            yield bytes([i]) * 100000
    c.put_object(name, "chunked", gen())
    _, body = c.get_object(name, "chunked")
    assert body == b"".join(bytes([i]) * 100000 for i in range(10))


def test_names_with_slashes(owner):
    c = owner["conn"]
    name = unique("sl")
    c.put_container(name)
    names = ["a/b/c.txt", "/leading", "dir/", "sp ace?&#%.txt", "ünï/cødé"]
    for n in names:
        c.put_object(name, n, n.encode())
    for n in names:
        assert c.get_object(name, n)[1] == n.encode(), n
    listed = [o["name"] for o in c.get_container(name)[1]]
    assert listed == sorted(names, key=lambda s: s.encode())


def test_listings(owner):
    c = owner["conn"]
    name = unique("ls")
    c.put_container(name)
    objs = ["a", "b/1", "b/2", "b/3/x", "c", "d/1"]
    for o in objs:
        c.put_object(name, o, b"x")
    lst = lambda **kw: [o.get("name", o.get("subdir")) for o in c.get_container(name, **kw)[1]]
    assert lst() == objs
    assert lst(prefix="b/") == ["b/1", "b/2", "b/3/x"]
    assert lst(delimiter="/") == ["a", "b/", "c", "d/"]
    assert lst(prefix="b/", delimiter="/") == ["b/1", "b/2", "b/3/"]
    assert lst(marker="b/2") == ["b/3/x", "c", "d/1"]
    assert lst(marker="a", end_marker="c") == ["b/1", "b/2", "b/3/x"]
    assert lst(limit=2) == ["a", "b/1"]
    assert lst(full_listing=False, limit=2, marker="b/1") == ["b/2", "b/3/x"]
    # reverse and delimiter together, through raw HTTP
    url = owner["url"] + "/" + name
    hdr = {"X-Auth-Token": owner["token"]}
    r = requests.get(url, params={"reverse": "on", "delimiter": "/"}, headers=hdr, timeout=10)
    assert r.status_code == 200 and r.text == "d/\nc\nb/\na\n"
    r = requests.get(url, params={"format": "json", "limit": "1"}, headers=hdr, timeout=10)
    e = r.json()[0]
    assert e["name"] == "a" and e["bytes"] == 1 and e["hash"] == hashlib.md5(b"x").hexdigest()
    assert requests.get(url, params={"limit": "10001"}, headers=hdr,
                        timeout=10).status_code == 412
    # account listing
    acc = [x["name"] for x in c.get_account(prefix=name)[1]]
    assert acc == [name]
    entry = c.get_account(prefix=name)[1][0]
    assert entry["count"] == len(objs) and entry["bytes"] == len(objs)


def test_account_listing_pages_keep_totals(owner):
    """Each page of an account listing (limit, marker, reverse, delimiter) carries its
    containers' own object counts and bytes."""
    c = owner["conn"]
    p = unique("pg")
    for i, n in enumerate((0, 1, 3)):
        c.put_container("%s-%d" % (p, i))
        for k in range(n):
            c.put_object("%s-%d" % (p, i), "o%d" % k, b"ab")

    def page(**params):
        params.update(format="json", prefix=p)
        r = requests.get(owner["url"], params=params, headers={"X-Auth-Token": owner["token"]},
                         timeout=10)
        assert r.status_code == 200, r.text
        return [(e["name"][len(p):], e["count"], e["bytes"]) for e in r.json()]

    assert page() == [("-0", 0, 0), ("-1", 1, 2), ("-2", 3, 6)]
    assert page(limit=1, marker=p + "-0") == [("-1", 1, 2)]
    assert page(reverse="on", limit=2) == [("-2", 3, 6), ("-1", 1, 2)]
    assert page(reverse="on", marker=p + "-1") == [("-0", 0, 0)]
    assert page(end_marker=p + "-2") == [("-0", 0, 0), ("-1", 1, 2)]


def test_paths_must_be_utf8(owner):
    """Swift's proxy answers 412 to a path that is not UTF-8 (check_utf8), whatever the
    method: no container or object gets a name holding such bytes."""
    c = owner["conn"]
    name = unique("u8")
    c.put_container(name)
    hdr = {"X-Auth-Token": owner["token"]}
    for method, path in (("PUT", "/%s/%%FF" % name), ("PUT", "/%s/a%%C0%%AFb" % name),
                         ("PUT", "/%%ED%%A0%%80-%s" % name), ("POST", "/%s/%%FF" % name),
                         ("GET", "/%s/%%FF" % name), ("HEAD", "/%s/%%FF" % name),
                         ("DELETE", "/%s/%%FF" % name), ("COPY", "/%s/%%FF" % name),
                         ("GET", "/%FF"), ("DELETE", "/%FF"), ("OPTIONS", "/%s/%%FF" % name)):
        r = requests.request(method, owner["url"] + path, headers=hdr,
                             data=b"x" if method == "PUT" else None, timeout=10)
        assert r.status_code == 412, (method, path, r.status_code, r.text)
        if method != "HEAD":
            assert r.text == "Invalid UTF8 or contains NULL", (method, path)
    assert c.get_container(name)[1] == []
    assert not [x for x in c.get_account()[1] if x["name"].endswith("-" + name)]


def test_metadata_checks(owner):
    """Swift's check_metadata: each refusal with its own text, in its order; a name that is
    empty or not UTF-8 is refused too, never dropped quietly (Swift refuses non-UTF-8
    account and container metadata; object metadata is kept as UTF-8 text here)."""
    c = owner["conn"]
    name = unique("md")
    c.put_container(name)
    u = urllib.parse.urlsplit(owner["url"])

    def put(path, headers, method="PUT"):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.putrequest(method, "%s/%s%s" % (u.path, name, path))
        conn.putheader("X-Auth-Token", owner["token"])
        conn.putheader("Content-Length", "1" if method == "PUT" else "0")
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders()
        if method == "PUT":
            conn.send(b"x")
        r = conn.getresponse()
        out = r.status, r.read().decode("latin-1")
        conn.close()
        return out

    assert put("/o", [("X-Object-Meta-", "v")]) == (400, "Metadata name cannot be empty")
    assert put("/o", [("X-Object-Meta-A", b"\xff")]) == (400, "Metadata must be valid UTF-8")
    assert put("", [("X-Container-Meta-A", b"\xff")], "POST") == \
        (400, "Metadata must be valid UTF-8")
    assert put("/o", [("x-object-meta-" + "k" * 129, "v")]) == \
        (400, "Metadata name too long: x-object-meta-" + "k" * 129)
    assert put("/o", [("x-object-meta-k", "v" * 257)]) == \
        (400, "Metadata value longer than 256: x-object-meta-k")
    assert put("/o", [("X-Object-Meta-K%d" % i, "v") for i in range(91)]) == \
        (400, "Too many metadata items; max 90")
    assert put("/o", [("X-Object-Meta-K%d" % i, "v" * 250) for i in range(20)]) == \
        (400, "Total metadata too large; max 4096")
    assert status_of(c.head_object, name, "o") == 404
    # within the limits; removals are not counted against them
    assert put("/o", [("X-Object-Meta-K%d" % i, "v") for i in range(90)])[0] == 201
    c.post_container(name, {"X-Container-Meta-A": "1"})
    assert put("", [("X-Container-Meta-K%d" % i, "v") for i in range(90)] +
               [("X-Remove-Container-Meta-A", "x")], "POST")[0] == 204
    h = c.head_container(name)
    assert "x-container-meta-a" not in h and h["x-container-meta-k89"] == "v"


def test_etag_mismatch_is_422_and_keeps_nothing(owner):
    c = owner["conn"]
    name = unique("et")
    c.put_container(name)
    assert status_of(c.put_object, name, "o", b"data", etag="0" * 32) == 422
    assert status_of(c.head_object, name, "o") == 404
    c.put_object(name, "o", b"data", etag=hashlib.md5(b"data").hexdigest())


def test_other_project_forbidden_and_no_token_401(cloud, owner):
    other = cloud.member()
    url = owner["url"]
    r = requests.get(url, headers={"X-Auth-Token": other["token"]}, timeout=10)
    assert r.status_code == 403
    r = requests.put(url + "/x", headers={"X-Auth-Token": other["token"]}, timeout=10)
    assert r.status_code == 403
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.put(url + "/x/y", data=b"z", timeout=10).status_code == 401
    # a reader of the project is no operator
    reader = cloud.create_user()
    cloud.grant("reader", user_id=reader["id"], project_id=owner["project"]["id"])
    tok = cloud.token(reader["password"], user_id=reader["id"],
                      scope={"project": {"id": owner["project"]["id"]}})
    assert requests.get(url, headers={"X-Auth-Token": tok}, timeout=10).status_code == 403


def objects_dir(cloud, project_id):
    return os.path.join(cloud.data_dir, "objects", "AUTH_" + project_id)


def test_cut_off_upload_leaves_nothing(cloud, owner):
    c = owner["conn"]
    name = unique("cut")
    c.put_container(name)
    u = urllib.parse.urlsplit(owner["url"])
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    path = u.path + "/" + name + "/half"
    head = ("PUT %s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Length: %d\r\n\r\n"
            % (path, owner["token"], 1 << 20))
    s.sendall(head.encode() + b"y" * (1 << 19))
    s.close()
    # the server notices the close at once; a loaded CI machine running the
    # ASan build may take a few seconds
    for _ in range(150):
        files = [f for _, _, fs in os.walk(objects_dir(cloud, owner["project"]["id"]))
                 for f in fs if f.startswith(".tmp-")]
        if not files:
            break
        __import__("time").sleep(0.1)
    assert not files
    assert status_of(c.head_object, name, "half") == 404
    assert c.get_container(name)[1] == []


def test_restart_between_put_and_get(cloud_factory):
    cl = cloud_factory.start("object-restart")
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    data = os.urandom(3 << 20)
    conn.put_container("keep")
    conn.put_object("keep", "a/b", data, headers={"X-Object-Meta-X": "y"})
    # no clean shutdown: what was acknowledged must already be on disk
    d = cl.d
    d.proc.kill()
    d.proc.wait()
    d._stderr = open(d.stderr_path, "ab")
    d.proc = subprocess.Popen([d.binary, "serve", "--data", d.data_dir], env=d.env,
                              stdin=subprocess.DEVNULL, stdout=d._stderr, stderr=d._stderr)
    d._wait_ready()
    conn = connect(cl, cl.admin_user, cl.admin_password, cl.admin_project)
    h, body = conn.get_object("keep", "a/b")
    assert body == data and h["x-object-meta-x"] == "y"
    problems = cloud_factory.stop(cl)
    assert not problems, problems
