"""Large objects and byte ranges in the Swift API: multi-range GET
(multipart/byteranges as swob frames it, swob's limits), Dynamic Large
Objects (X-Object-Manifest), Static Large Objects (?multipart-manifest=put,
get, get&format=raw, delete), nested SLOs, copies, access to segment
containers, bodies cut when a segment changes mid-GET, and the swift CLI's
segmented uploads (--use-slo and DLO) downloaded with their MD5 intact."""

import email.parser
import hashlib
import json
import os
import re
import subprocess
import tempfile

import pytest
import requests

from conftest import unique
from objectlib import member


def md5(b):
    return hashlib.md5(b).hexdigest()


@pytest.fixture(scope="module")
def owner(cloud):
    m = member(cloud)
    m["hdr"] = {"X-Auth-Token": m["token"]}
    return m


@pytest.fixture()
def cont(owner):
    name = unique("lo")
    owner["conn"].put_container(name)
    return name


def req(owner, method, path, headers=None, **kw):
    h = dict(owner["hdr"])
    h.update(headers or {})
    return requests.request(method, owner["url"] + "/" + path, headers=h, timeout=120, **kw)


def parts_of(r):
    """The parts of a multipart/byteranges answer: [(headers, bytes)]."""
    ct = r.headers["Content-Type"]
    msg = email.parser.BytesFeedParser()
    msg.feed(b"Content-Type: " + ct.encode() + b"\r\n\r\n" + r.content)
    root = msg.close()
    assert root.is_multipart()
    return [(p, p.get_payload(decode=True)) for p in root.get_payload()]


def test_info_advertises_slo_and_dlo(cloud):
    info = requests.get(cloud.base_url + "/object-store/info", timeout=10).json()
    assert info["slo"] == {"max_manifest_segments": 1000, "max_manifest_size": 8388608,
                           "min_segment_size": 1, "yield_frequency": 10}
    assert info["dlo"] == {"max_segments": 10000}


# ---- byte ranges of ordinary objects ----

def test_multi_range_get(owner, cont):
    data = os.urandom(10000)
    owner["conn"].put_object(cont, "o", data, content_type="lovecraft/rugose; squamous=true")
    r = req(owner, "GET", cont + "/o", {"Range": "bytes=0-3,10-20,-5"})
    assert r.status_code == 206, r.text
    ct = r.headers["Content-Type"]
    assert re.fullmatch(r"multipart/byteranges;boundary=[0-9a-f]{32}", ct), ct
    assert "Content-Range" not in r.headers
    assert int(r.headers["Content-Length"]) == len(r.content)
    parts = parts_of(r)
    assert [p[1] for p in parts] == [data[0:4], data[10:21], data[-5:]]
    assert [p[0]["Content-Range"] for p in parts] == [
        "bytes 0-3/10000", "bytes 10-20/10000", "bytes 9995-9999/10000"]
    assert all(p[0]["Content-Type"] == "lovecraft/rugose; squamous=true" for p in parts)
    # swob's exact framing
    b = ct.split("boundary=")[1].encode()
    assert r.content.startswith(b"--" + b + b"\r\nContent-Type: lovecraft/rugose; "
                                b"squamous=true\r\nContent-Range: bytes 0-3/10000\r\n\r\n")
    assert r.content.endswith(b"\r\n--" + b + b"--")


def test_range_edge_cases(owner, cont):
    data = bytes(range(50))
    owner["conn"].put_object(cont, "o", data)

    def get(rng, method="GET"):
        return req(owner, method, cont + "/o", {"Range": rng})

    # one satisfiable range among several: a plain 206
    r = get("bytes=0-3,100-200")
    assert r.status_code == 206 and r.content == data[:4]
    assert r.headers["Content-Range"] == "bytes 0-3/50"
    # nothing satisfiable: 416 with the size
    for rng in ("bytes=100-200,300-400", "bytes=50-", "bytes=-0"):
        r = get(rng)
        assert r.status_code == 416, rng
        assert r.headers["Content-Range"] == "bytes */50"
    # bad syntax: ignored, the whole object
    for rng in ("bytes=5-3", "bytes=abc", "chars=0-3", "bytes=-", "bytes=4", "bytes=--0"):
        r = get(rng)
        assert r.status_code == 200 and r.content == data, rng
    # spaces are dropped, suffix longer than the object is all of it
    r = get("BYTES = 0 - 3")
    assert r.status_code == 206 and r.content == data[:4]
    r = get("bytes=-500")
    assert r.status_code == 206 and r.content == data
    # two overlaps are fine, three are egregious (swob: 416)
    assert get("bytes=10-19,15-24,20-29").status_code == 206
    r = get("bytes=0-10,5-15,10-20,15-25")
    assert r.status_code == 416 and r.headers["Content-Range"] == "bytes */50"
    # 50 ranges are fine, 51 are not
    r = get("bytes=" + ",".join("%d-%d" % (i, i) for i in range(50)))
    assert r.status_code == 206 and len(parts_of(r)) == 50
    data2 = os.urandom(1000)
    owner["conn"].put_object(cont, "p", data2)
    r = req(owner, "GET", cont + "/p",
            {"Range": "bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(51))})
    assert r.status_code == 416
    # 7 ranges out of order are fine, 8 are not
    few = "bytes=100-109,200-209,300-309,500-509,400-409,600-609,700-709"
    r = req(owner, "GET", cont + "/p", {"Range": few})
    assert r.status_code == 206
    assert [p[1] for p in parts_of(r)][3] == data2[500:510]
    r = req(owner, "GET", cont + "/p", {"Range": few + ",800-809"})
    assert r.status_code == 416
    # HEAD ignores Range
    r = get("bytes=0-3,5-6", method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Length"] == "50"
    # an empty object: a suffix range gets the (empty) whole, others 416
    owner["conn"].put_object(cont, "empty", b"")
    r = req(owner, "GET", cont + "/empty", {"Range": "bytes=-5"})
    assert r.status_code == 200 and r.content == b""
    r = req(owner, "GET", cont + "/empty", {"Range": "bytes=0-5"})
    assert r.status_code == 416 and r.headers["Content-Range"] == "bytes */0"


# ---- dynamic large objects ----

def put_segments(owner, cont, prefix, datas):
    for i, d in enumerate(datas):
        owner["conn"].put_object(cont, "%s/%03d" % (prefix, i), d)


def test_dlo_get_head_and_ranges(owner, cont):
    c = owner["conn"]
    segs = [os.urandom(1000 + i) for i in range(5)]
    put_segments(owner, cont, "big", segs)
    # a manifest whose prefix matches itself too (0 bytes), as Tempest does
    c.put_object(cont, "big", b"", headers={"X-Object-Manifest": "%s/big" % cont})
    whole = b"".join(segs)
    etags = [md5(s) for s in segs]
    want_etag = '"%s"' % md5((md5(b"") + "".join(etags)).encode())
    h, body = c.get_object(cont, "big")
    assert body == whole
    assert h["etag"] == want_etag
    assert h["content-length"] == str(len(whole))
    assert h["x-object-manifest"] == "%s/big" % cont
    assert h["accept-ranges"] == "bytes"
    h = c.head_object(cont, "big")
    assert h["etag"] == want_etag and h["content-length"] == str(len(whole))
    # a single range across segment boundaries
    r = req(owner, "GET", cont + "/big", {"Range": "bytes=990-2100"})
    assert r.status_code == 206 and r.content == whole[990:2101]
    assert r.headers["Content-Range"] == "bytes 990-2100/%d" % len(whole)
    r = req(owner, "GET", cont + "/big", {"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == whole[-10:]
    # several ranges: a DLO ignores them (Swift), the whole object
    r = req(owner, "GET", cont + "/big", {"Range": "bytes=0-1,5-6"})
    assert r.status_code == 200 and r.content == whole
    r = req(owner, "GET", cont + "/big", {"Range": "bytes=999999-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */%d" % len(whole)
    # the manifest itself
    r = req(owner, "GET", cont + "/big?multipart-manifest=get")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Etag"] == md5(b"")
    assert r.headers["X-Object-Manifest"] == "%s/big" % cont
    # conditional GET against the large object's ETag
    r = req(owner, "GET", cont + "/big", {"If-None-Match": want_etag})
    assert r.status_code == 304
    r = req(owner, "GET", cont + "/big", {"If-Match": '"nope"'})
    assert r.status_code == 412


def test_dlo_manifest_post_and_validation(owner, cont):
    c = owner["conn"]
    put_segments(owner, cont, "seg", [b"aa", b"bb"])
    c.put_object(cont, "m", b"plain")
    # POST makes it a manifest, and a POST without the header undoes it
    c.post_object(cont, "m", headers={"X-Object-Manifest": "%s/seg/" % cont,
                                      "X-Object-Meta-Color": "red"})
    h, body = c.get_object(cont, "m")
    assert body == b"aabb" and h["x-object-meta-color"] == "red"
    assert not any(k.startswith("x-object-meta-:") for k in h)
    c.post_object(cont, "m", headers={})
    h, body = c.get_object(cont, "m")
    assert body == b"plain" and "x-object-manifest" not in h
    for bad in ("nocontainer", "/x", "c/", "c//x", "c/x?y", "c/x&y"):
        r = req(owner, "PUT", cont + "/bad", {"X-Object-Manifest": bad}, data=b"")
        assert r.status_code == 400, bad
        assert r.text == "X-Object-Manifest must be in the format container/prefix"
    # a quoted value is decoded for the lookup and echoed as sent
    name = unique("sp ace")
    c.put_container(name)
    c.put_object(name, "p/1", b"xy")
    q = requests.utils.quote(name) + "/p/"
    c.put_object(cont, "q", b"", headers={"X-Object-Manifest": q})
    r = req(owner, "GET", cont + "/q")
    assert r.content == b"xy" and r.headers["X-Object-Manifest"] == q
    # no segments at all: an empty object
    c.put_object(cont, "none", b"", headers={"X-Object-Manifest": "%s/zzz" % cont})
    h, body = c.get_object(cont, "none")
    assert body == b"" and h["etag"] == '"%s"' % md5(b"")


def test_dlo_missing_container_is_404(owner, cont):
    owner["conn"].put_object(cont, "m", b"", headers={"X-Object-Manifest": "nope-x/p"})
    r = req(owner, "GET", cont + "/m")
    assert r.status_code == 404
    assert req(owner, "HEAD", cont + "/m").status_code == 404


# ---- static large objects ----

def slo_put(owner, cont, name, manifest, headers=None, query="multipart-manifest=put"):
    return req(owner, "PUT", "%s/%s?%s" % (cont, name, query), headers,
               data=json.dumps(manifest) if not isinstance(manifest, (bytes, str)) else manifest)


def make_segments(owner, cont, sizes, prefix="s"):
    out = []
    for i, n in enumerate(sizes):
        d = os.urandom(n)
        owner["conn"].put_object(cont, "%s%d" % (prefix, i), d)
        out.append(("/%s/%s%d" % (cont, prefix, i), d))
    return out


def test_slo_put_get_head(owner, cont):
    segs = make_segments(owner, cont, [1000, 2000, 1500])
    manifest = [{"path": p, "etag": md5(d), "size_bytes": len(d)} for p, d in segs]
    r = slo_put(owner, cont, "slo", manifest, {"Content-Type": "text/x-big"})
    assert r.status_code == 201, r.text
    slo_etag = md5("".join(md5(d) for _, d in segs).encode())
    assert r.headers["Etag"] == '"%s"' % slo_etag
    whole = b"".join(d for _, d in segs)
    h, body = owner["conn"].get_object(cont, "slo")
    assert body == whole
    assert h["etag"] == '"%s"' % slo_etag
    assert h["x-static-large-object"] == "True"
    assert h["content-length"] == str(len(whole))
    assert h["content-type"] == "text/x-big"
    h = owner["conn"].head_object(cont, "slo")
    assert h["etag"] == '"%s"' % slo_etag and h["content-length"] == str(len(whole))
    assert h["x-static-large-object"] == "True"
    assert not any(k.startswith("x-object-meta-") for k in h)
    # ranges: single, across segments, and several (multipart)
    r = req(owner, "GET", cont + "/slo", {"Range": "bytes=900-3100"})
    assert r.status_code == 206 and r.content == whole[900:3101]
    r = req(owner, "GET", cont + "/slo", {"Range": "bytes=0-9,2990-3010,-7"})
    assert r.status_code == 206
    assert [p[1] for p in parts_of(r)] == [whole[:10], whole[2990:3011], whole[-7:]]
    assert parts_of(r)[1][0]["Content-Range"] == "bytes 2990-3010/%d" % len(whole)
    r = req(owner, "GET", cont + "/slo", {"Range": "bytes=4500-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == "bytes */4500"
    # conditional on the SLO's ETag
    assert req(owner, "GET", cont + "/slo", {"If-None-Match": slo_etag}).status_code == 304
    # the stored manifest, as Swift stores it
    r = req(owner, "GET", cont + "/slo?multipart-manifest=get")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["X-Static-Large-Object"] == "True"
    assert r.headers["Etag"] == md5(r.content)
    stored = r.json()
    assert [s["name"] for s in stored] == [p for p, _ in segs]
    assert [s["hash"] for s in stored] == [md5(d) for _, d in segs]
    assert [s["bytes"] for s in stored] == [len(d) for _, d in segs]
    assert all(s["content_type"] == "application/octet-stream" for s in stored)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", s["last_modified"])
               for s in stored)
    # and as the client PUT it
    r = req(owner, "GET", cont + "/slo?multipart-manifest=get&format=raw")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/x-big"
    assert r.json() == manifest
    assert r.headers["Etag"] == md5(r.content)
    # the listing shows the manifest object
    _, listing = owner["conn"].get_container(cont)
    assert "slo" in [o["name"] for o in listing]


def test_slo_optional_fields_ranges_and_data(owner, cont):
    segs = make_segments(owner, cont, [100, 200])
    (p0, d0), (p1, d1) = segs
    manifest = [{"path": p0}, {"path": p1, "range": "10-19"}, {"data": "aGVsbG8="},
                {"path": p0, "range": "-5", "etag": None, "size_bytes": None},
                {"path": p1, "range": "0-"}]
    r = slo_put(owner, cont, "slo", manifest)
    assert r.status_code == 201, r.text
    want = d0 + d1[10:20] + b"hello" + d0[-5:] + d1
    parts = [md5(d0), "%s:10-19;" % md5(d1), md5(b"hello"), "%s:95-99;" % md5(d0), md5(d1)]
    assert r.headers["Etag"] == '"%s"' % md5("".join(parts).encode())
    h, body = owner["conn"].get_object(cont, "slo")
    assert body == want and h["content-length"] == str(len(want))
    for a, b in ((95, 130), (0, len(want) - 1), (305, 320)):
        r = req(owner, "GET", cont + "/slo", {"Range": "bytes=%d-%d" % (a, b)})
        assert r.status_code == 206 and r.content == want[a:b + 1]
    stored = req(owner, "GET", cont + "/slo?multipart-manifest=get").json()
    # a range covering the whole segment is dropped, others made concrete
    assert [s.get("range") for s in stored] == [None, "10-19", None, "95-99", None]
    assert stored[2] == {"data": "aGVsbG8="}


def test_slo_put_errors(owner, cont):
    (p0, d0), = make_segments(owner, cont, [100])

    def bad(manifest, status=400, **kw):
        r = slo_put(owner, cont, "bad", manifest, **kw)
        assert r.status_code == status, r.text
        return r.text

    assert bad(b"{not json") == "Manifest must be valid JSON.\n"
    assert bad({"path": p0}) == "Manifest must be a list.\n"
    assert bad(b'"x"') == "Manifest must be a list.\n"
    assert bad(b"") == "Manifest must be valid JSON.\n"
    assert bad([1, {"path": p0, "x": 1, "a": 2}, {"foo": 1}, {"path": 5},
                {"path": "nocontainer"}, {"path": p0, "size_bytes": "x"},
                {"path": p0, "size_bytes": 0}, {"path": "/%s/bad" % cont},
                {"path": p0, "range": "5-3"}, {"path": p0, "range": "1-2,4-5"},
                {"path": p0, "size_bytes": 100, "range": "200-"},
                {"path": p0, "etag": 5}, {"data": "!!"}, {"path": p0}]) == (
        "Index 0: not a JSON object\n"
        'Index 1: extraneous keys "a", "x"\n'
        "Index 2: expected keys to include one of 'data' or 'path'\n"
        'Index 3: "path" must be a string\n'
        "Index 4: path does not refer to an object. Path must be of the form "
        "/container/object.\n"
        "Index 5: invalid size_bytes\n"
        "Index 6: too small; each segment must be at least 1 byte.\n"
        "Index 7: manifest must not include itself as a segment\n"
        "Index 8: invalid range\n"
        "Index 9: multiple ranges (only one allowed)\n"
        "Index 10: unsatisfiable range\n"
        'Index 11: "etag" must be a string or null (if provided)\n'
        "Index 12: data must be valid base64\n")
    assert bad([{"data": "aGk="}]) == \
        "Inline data segments require at least one object-backed segment.\n"
    # segments checked against what is stored
    text = bad([{"path": p0, "etag": "0" * 32}, {"path": p0, "size_bytes": 99},
                {"path": "/%s/missing" % cont}, {"path": "/nocont-x/o"},
                {"path": p0, "range": "500-600"}])
    assert text == ("Errors:\n%s, Etag Mismatch\n%s, Size Mismatch\n/%s/missing, 404 Not Found\n"
                    "/nocont-x/o, 404 Not Found\n%s, Unsatisfiable Range\n"
                    % (p0, p0, cont, p0))
    r = slo_put(owner, cont, "bad", [{"path": "/%s/missing" % cont}],
                headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"Errors": [["/%s/missing" % cont, "404 Not Found"]]}
    # limits
    assert bad([{"path": p0}] * 1001, 413) == "Number of object-backed segments must be <= 1000"
    big = b"[" + b" " * (8 * 1024 * 1024) + b"]"
    assert bad(big, 413) == "Manifest File > 8388608 bytes"
    # the client's ETag must be the SLO's
    bad([{"path": p0}], 422, headers={"Etag": "0" * 32})
    r = slo_put(owner, cont, "ok", [{"path": p0}], headers={"Etag": '"%s"' % md5(md5(d0).encode())})
    assert r.status_code == 201
    # no copy, and the flag is reserved elsewhere
    r = slo_put(owner, cont, "x", [{"path": p0}], headers={"X-Copy-From": p0})
    assert r.status_code == 405
    r = req(owner, "PUT", cont + "/x", {"X-Static-Large-Object": "True"}, data=b"[]")
    assert r.status_code == 400 and "reserved header" in r.text
    r = req(owner, "POST", cont + "/ok", {"X-Static-Large-Object": "False"})
    assert r.status_code == 400
    # nothing of the failed PUTs was stored
    _, listing = owner["conn"].get_container(cont)
    assert sorted(o["name"] for o in listing) == ["ok", "s0"]


def test_slo_post_keeps_it_large(owner, cont):
    segs = make_segments(owner, cont, [10, 20])
    assert slo_put(owner, cont, "slo", [{"path": p} for p, _ in segs]).status_code == 201
    owner["conn"].post_object(cont, "slo", headers={"X-Object-Meta-A": "b"})
    h, body = owner["conn"].get_object(cont, "slo")
    assert body == segs[0][1] + segs[1][1]
    assert h["x-static-large-object"] == "True" and h["x-object-meta-a"] == "b"


def test_slo_nested(owner, cont):
    segs = make_segments(owner, cont, [300, 400, 500])
    (p0, d0), (p1, d1), (p2, d2) = segs
    r = slo_put(owner, cont, "inner", [{"path": p0}, {"path": p1, "range": "100-199"}])
    assert r.status_code == 201
    inner_etag = r.headers["Etag"].strip('"')
    inner = d0 + d1[100:200]
    h = owner["conn"].head_object(cont, "inner")
    assert h["content-length"] == "400"
    r = slo_put(owner, cont, "outer", [{"path": p2}, {"path": "/%s/inner" % cont,
                                                      "etag": inner_etag, "size_bytes": 400},
                                       {"path": "/%s/inner" % cont, "range": "250-349"}])
    assert r.status_code == 201, r.text
    want = d2 + inner + inner[250:350]
    _, body = owner["conn"].get_object(cont, "outer")
    assert body == want
    stored = req(owner, "GET", cont + "/outer?multipart-manifest=get").json()
    assert stored[1]["sub_slo"] is True and stored[1]["hash"] == inner_etag
    for a, b in ((450, 900), (0, 10), (800, 999), (550, 650)):
        r = req(owner, "GET", cont + "/outer", {"Range": "bytes=%d-%d" % (a, b)})
        assert r.status_code == 206 and r.content == want[a:b + 1], (a, b)
    r = req(owner, "GET", cont + "/outer", {"Range": "bytes=0-1,600-700"})
    assert [p[1] for p in parts_of(r)] == [want[0:2], want[600:701]]
    # the inner manifest changed: the outer one breaks where it is reached
    assert slo_put(owner, cont, "inner", [{"path": p0}]).status_code == 201
    r = req(owner, "GET", cont + "/outer", {"Range": "bytes=0-499"})
    assert r.status_code == 206 and r.content == d2
    length, got = get_cut(owner, cont + "/outer")
    assert length == len(want) and got == d2


def read_rest(r):
    """The rest of a streamed answer's body, up to where the server cut it."""
    got = b""
    try:
        while True:
            piece = r.raw.read(1 << 20)
            if not piece:
                break
            got += piece
    except Exception:
        pass
    r.close()
    return got


def get_cut(owner, path):
    """GET whose body may end early: (Content-Length, the bytes that came)."""
    r = req(owner, "GET", path, stream=True)
    assert r.status_code == 200
    got = read_rest(r)
    return int(r.headers["Content-Length"]), got


def test_slo_delete(owner, cont):
    segs = make_segments(owner, cont, [10, 20, 30])
    assert slo_put(owner, cont, "slo", [{"path": p} for p, _ in segs]).status_code == 201
    # a plain DELETE removes only the manifest
    assert req(owner, "DELETE", cont + "/slo").status_code == 204
    assert len(owner["conn"].get_container(cont)[1]) == 3
    assert slo_put(owner, cont, "slo", [{"path": p} for p, _ in segs] +
                   [{"path": segs[0][0], "range": "0-1"}]).status_code == 201
    r = req(owner, "DELETE", cont + "/slo?multipart-manifest=delete")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain"
    # the repeated segment is gone by the time it comes again
    assert r.text == ("Number Deleted: 4\nNumber Not Found: 1\nResponse Body: \n"
                      "Response Status: 200 OK\nErrors:\n")
    assert owner["conn"].get_container(cont)[1] == []
    # JSON, a missing manifest
    r = req(owner, "DELETE", cont + "/slo?multipart-manifest=delete",
            {"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"Response Status": "200 OK", "Response Body": "",
                        "Number Deleted": 0, "Number Not Found": 1, "Errors": []}
    # not a manifest: nothing deleted, the reason listed
    owner["conn"].put_object(cont, "plain", b"x")
    r = req(owner, "DELETE", cont + "/plain?multipart-manifest=delete",
            {"Accept": "application/json"})
    assert r.json() == {"Response Status": "400 Bad Request", "Response Body": "",
                        "Number Deleted": 0, "Number Not Found": 0,
                        "Errors": [["/%s/plain" % cont, "Not an SLO manifest"]]}
    assert owner["conn"].head_object(cont, "plain")


def test_slo_answers_negotiate_as_bulk(owner, cont):
    """The answers of a manifest DELETE and of a manifest PUT with problem segments are
    Swift's bulk bodies, in the type swob's best_match picks from the Accept header: XML
    too, and for a DELETE a 406 in the body (with nothing deleted) when no type fits."""
    segs = make_segments(owner, cont, [10, 20])
    man = [{"path": p} for p, _ in segs]
    # PUT with a problem segment
    r = slo_put(owner, cont, "bad", [{"path": "/%s/a&b" % cont}],
                headers={"Accept": "application/xml"})
    assert r.status_code == 400 and r.headers["Content-Type"] == "application/xml"
    assert r.text == ("<upload>\n<errors>\n<object><name>/%s/a%%26b</name>"
                      "<status>404 Not Found</status></object>\n</errors>\n</upload>\n" % cont)
    # DELETE: nothing acceptable, then XML
    assert slo_put(owner, cont, "slo", man).status_code == 201
    r = req(owner, "DELETE", cont + "/slo?multipart-manifest=delete", {"Accept": "image/png"})
    assert r.status_code == 200
    assert r.text.endswith("Response Status: 406 Not Acceptable\nErrors:\n"), r.text
    assert len(owner["conn"].get_container(cont)[1]) == 3
    r = req(owner, "DELETE", cont + "/slo?multipart-manifest=delete",
            {"Accept": "text/xml;q=0.9, application/json;q=0.5"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/xml"
    assert r.text == ("<delete>\n<number_deleted>3</number_deleted>\n"
                      "<number_not_found>0</number_not_found>\n"
                      "<response_body></response_body>\n"
                      "<response_status>200 OK</response_status>\n<errors>\n"
                      "</errors>\n</delete>\n")
    assert owner["conn"].get_container(cont)[1] == []


def test_slo_delete_goes_through_versioned_writes(owner, cont):
    """Swift deletes each segment with a DELETE subrequest, which versioned_writes sees:
    in a container with X-Versions-Location the version before comes back."""
    c = owner["conn"]
    vc, seg = unique("vc"), unique("sc")
    c.put_container(vc)
    c.put_container(seg, headers={"X-Versions-Location": vc})
    c.put_object(seg, "a", b"old")
    c.put_object(seg, "a", b"new")
    assert slo_put(owner, cont, "slo", [{"path": "/%s/a" % seg}]).status_code == 201
    r = req(owner, "DELETE", cont + "/slo?multipart-manifest=delete",
            {"Accept": "application/json"})
    assert r.json()["Number Deleted"] == 2, r.text
    assert c.get_object(seg, "a")[1] == b"old"
    assert c.get_container(vc)[1] == []


def test_slo_delete_nested(owner, cont):
    segs = make_segments(owner, cont, [10, 20])
    assert slo_put(owner, cont, "inner", [{"path": segs[0][0]}]).status_code == 201
    assert slo_put(owner, cont, "outer", [{"path": "/%s/inner" % cont},
                                          {"path": segs[1][0]}]).status_code == 201
    r = req(owner, "DELETE", cont + "/outer?multipart-manifest=delete",
            {"Accept": "application/json"})
    assert r.json()["Number Deleted"] == 4, r.text
    assert owner["conn"].get_container(cont)[1] == []


def test_copy_of_large_objects(owner, cont):
    c = owner["conn"]
    segs = make_segments(owner, cont, [100, 200])
    whole = segs[0][1] + segs[1][1]
    assert slo_put(owner, cont, "slo", [{"path": p} for p, _ in segs],
                   {"X-Object-Meta-Kind": "big"}).status_code == 201
    # without ?multipart-manifest=get: the data, as a plain object
    r = req(owner, "PUT", cont + "/copy", {"X-Copy-From": cont + "/slo"}, data=b"")
    assert r.status_code == 201, r.text
    assert r.headers["Etag"] == md5(whole)
    h, body = c.get_object(cont, "copy")
    assert body == whole and h["etag"] == md5(whole)
    assert "x-static-large-object" not in h and h["x-object-meta-kind"] == "big"
    r = req(owner, "COPY", cont + "/slo", {"Destination": cont + "/copy2"})
    assert r.status_code == 201
    assert c.get_object(cont, "copy2")[1] == whole
    # with it: the manifest, still an SLO
    r = req(owner, "PUT", cont + "/mcopy?multipart-manifest=get",
            {"X-Copy-From": cont + "/slo"}, data=b"")
    assert r.status_code == 201
    h, body = c.get_object(cont, "mcopy")
    assert body == whole and h["x-static-large-object"] == "True"
    r = req(owner, "PUT", cont + "/fcopy?multipart-manifest=get",
            {"X-Copy-From": cont + "/slo", "X-Fresh-Metadata": "true"}, data=b"")
    assert r.status_code == 201
    h, body = c.get_object(cont, "fcopy")
    assert body == whole and h["x-static-large-object"] == "True"
    assert "x-object-meta-kind" not in h
    # a DLO copies its data too
    put_segments(owner, cont, "d", [b"12", b"34"])
    c.put_object(cont, "dlo", b"", headers={"X-Object-Manifest": cont + "/d/"})
    r = req(owner, "PUT", cont + "/dcopy", {"X-Copy-From": cont + "/dlo"}, data=b"")
    assert r.status_code == 201
    h, body = c.get_object(cont, "dcopy")
    assert body == b"1234" and "x-object-manifest" not in h


def test_segment_access(cloud, owner, cont):
    """A reader of the manifest's container by ACL needs read access to
    the segment container too (Swift's subrequests carry the token)."""
    c = owner["conn"]
    segc = unique("segs")
    c.put_container(segc)
    c.put_object(segc, "d/1", b"secret")
    c.put_object(cont, "dlo", b"", headers={"X-Object-Manifest": segc + "/d/"})
    r = slo_put(owner, cont, "slo", [{"path": "/%s/d/1" % segc}])
    assert r.status_code == 201
    other = cloud.member()
    acl = "%s:%s" % (other["project"]["id"], other["user"]["id"])
    c.post_container(cont, headers={"X-Container-Read": acl})
    oh = {"X-Auth-Token": other["token"]}
    r = requests.get(owner["url"] + "/%s/dlo" % cont, headers=oh, timeout=10)
    assert r.status_code == 403
    r = requests.get(owner["url"] + "/%s/slo" % cont, headers=oh, timeout=10)
    assert r.status_code == 409
    # once the segment container is readable too
    c.post_container(segc, headers={"X-Container-Read": acl})
    r = requests.get(owner["url"] + "/%s/dlo" % cont, headers=oh, timeout=10)
    assert r.status_code == 200 and r.content == b"secret"
    r = requests.get(owner["url"] + "/%s/slo" % cont, headers=oh, timeout=10)
    assert r.status_code == 200 and r.content == b"secret"
    # nor may that reader delete segments it cannot write
    r = requests.delete(owner["url"] + "/%s/slo?multipart-manifest=delete" % cont,
                        headers=dict(oh, Accept="application/json"), timeout=10)
    assert r.json()["Errors"] == [["/%s/d/1" % segc, "403 Forbidden"],
                                  ["/%s/slo" % cont, "403 Forbidden"]]
    assert c.head_object(segc, "d/1")


def test_changed_segment_cuts_the_body(owner, cont):
    """A segment deleted or overwritten while the GET runs ends the body
    early; what was sent is right, nothing else is sent."""
    c = owner["conn"]
    first = os.urandom(24 << 20)
    second = os.urandom(1 << 20)
    c.put_object(cont, "cut/a", first)
    c.put_object(cont, "cut/b", second)
    assert slo_put(owner, cont, "slo", [{"path": "/%s/cut/a" % cont},
                                        {"path": "/%s/cut/b" % cont}]).status_code == 201
    c.put_object(cont, "dlo", b"", headers={"X-Object-Manifest": cont + "/cut/"})
    for name, change in (("slo", "delete"), ("slo", "overwrite"), ("dlo", "overwrite"),
                         ("dlo", "delete")):
        c.put_object(cont, "cut/b", second)
        r = req(owner, "GET", cont + "/" + name, stream=True)
        assert r.status_code == 200
        got = r.raw.read(1 << 16)
        if change == "delete":
            c.delete_object(cont, "cut/b")
        else:
            c.put_object(cont, "cut/b", os.urandom(1 << 20))
        got += read_rest(r)
        assert int(r.headers["Content-Length"]) == len(first) + len(second)
        assert len(got) < len(first) + len(second), (name, change)
        assert got == first[:len(got)], (name, change)
    # a first segment that is gone: 409, as Swift
    c.delete_object(cont, "cut/a")
    r = req(owner, "GET", cont + "/slo")
    assert r.status_code == 409


def test_dlo_of_more_than_one_listing_page(owner, cont):
    """Past 10000 segments Swift knows neither size nor ETag up front: the
    body is chunked, the manifest's own ETag stays, Range is ignored."""
    import concurrent.futures as cf
    n = 10003
    url = owner["url"] + "/" + cont

    def put(k):
        with requests.Session() as s:
            for i in range(k, n, 4):
                r = s.put("%s/p/%06d" % (url, i), data=b"%06d" % i, headers=owner["hdr"],
                          timeout=60)
                assert r.status_code == 201
    with cf.ThreadPoolExecutor(4) as ex:
        list(ex.map(put, range(4)))
    owner["conn"].put_object(cont, "m", b"", headers={"X-Object-Manifest": cont + "/p/"})
    want = b"".join(b"%06d" % i for i in range(n))
    r = req(owner, "GET", cont + "/m")
    assert r.status_code == 200 and r.content == want
    assert r.headers.get("Transfer-Encoding") == "chunked"
    assert r.headers["Etag"] == md5(b"")
    r = req(owner, "GET", cont + "/m", {"Range": "bytes=10-20"})
    assert r.status_code == 200 and r.content == want
    r = req(owner, "HEAD", cont + "/m")
    assert r.status_code == 200 and "Content-Length" not in r.headers


def test_head_does_not_touch_segments(owner, cont):
    (p0, _), = make_segments(owner, cont, [10])
    assert slo_put(owner, cont, "slo", [{"path": p0}]).status_code == 201
    owner["conn"].delete_object(cont, "s0")
    h = owner["conn"].head_object(cont, "slo")
    assert h["content-length"] == "10"


# ---- the swift CLI ----

def swift_cli(cloud, owner, *args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    env.update({"OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": owner["user"]["name"],
                "OS_PASSWORD": owner["user"]["password"],
                "OS_PROJECT_NAME": owner["project"]["name"],
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3"})
    p = subprocess.run(["/usr/bin/swift"] + list(args), env=env, cwd=cwd, capture_output=True,
                       text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "swift %s\n%s\n%s" % (" ".join(args), p.stdout, p.stderr)
    return p.stdout


@pytest.mark.parametrize("slo", [True, False], ids=["slo", "dlo"])
def test_swift_cli_segmented_upload(cloud, owner, cont, slo):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "big.bin")
        h = hashlib.md5()
        with open(src, "wb") as f:
            for _ in range(40):
                chunk = os.urandom(1 << 20)
                h.update(chunk)
                f.write(chunk)
        args = ["upload", "--segment-size", "4M", "--object-name", "big", cont, "big.bin"]
        if slo:
            args.insert(1, "--use-slo")
        swift_cli(cloud, owner, *args, cwd=d)
        hd = owner["conn"].head_object(cont, "big")
        assert hd["content-length"] == str(40 << 20)
        assert ("x-static-large-object" in hd) == slo
        assert ("x-object-manifest" in hd) == (not slo)
        out = os.path.join(d, "out.bin")
        swift_cli(cloud, owner, "download", cont, "big", "-o", out, cwd=d)
        g = hashlib.md5()
        with open(out, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                g.update(chunk)
        assert g.hexdigest() == h.hexdigest()
        # swift delete removes the segments with the manifest
        swift_cli(cloud, owner, "delete", cont, "big", cwd=d)
        _, listing = owner["conn"].get_container(cont + "_segments")
        assert listing == []
