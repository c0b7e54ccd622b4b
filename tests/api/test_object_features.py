"""Object storage beyond the first slice, through python-swiftclient and raw
HTTP: conditional requests, server-side copy, container ACLs
(keystoneauth), X-Delete-At/After expiry and TempURL."""

import base64
import hashlib
import hmac
import os
import time
import urllib.parse

import pytest
import requests
from swiftclient.utils import generate_temp_url

from conftest import unique
from objectlib import container, inline_orphans, member, req, status_of


@pytest.fixture(scope="module")
def owner(cloud):
    return member(cloud)


@pytest.fixture(scope="module")
def other(cloud):
    """A member of another project: no rights in owner's account but ACLs."""
    return member(cloud)


# ---- conditional requests -----------------------------------------------------------


def test_put_if_none_match(owner):
    c = owner["conn"]
    name = container(owner)
    url = "%s/%s/o" % (owner["url"], name)
    r = req("PUT", url, owner["token"], data=b"one", headers={"If-None-Match": "*"})
    assert r.status_code == 201 and r.headers["Last-Modified"].endswith("GMT")
    r = req("PUT", url, owner["token"], data=b"two", headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert c.get_object(name, "o")[1] == b"one"
    r = req("PUT", url, owner["token"], data=b"two", headers={"If-None-Match": '"abc"'})
    assert r.status_code == 400 and r.text == "If-None-Match only supports *"
    # swiftclient's own form
    assert status_of(c.put_object, name, "o", b"x", headers={"If-None-Match": "*"}) == 412


def test_conditional_get_and_head(owner):
    c = owner["conn"]
    name = container(owner)
    etag = c.put_object(name, "o", b"data")
    h = c.head_object(name, "o")
    lm = h["last-modified"]
    assert h["etag"] == etag and lm.endswith("GMT")
    url = "%s/%s/o" % (owner["url"], name)
    tok = owner["token"]

    def get(method="GET", **hdr):
        return req(method, url, tok, headers=hdr)

    assert get(**{"If-Match": etag}).status_code == 200
    assert get(**{"If-Match": '"%s"' % etag}).content == b"data"
    assert get(**{"If-Match": "*"}).status_code == 200
    r = get(**{"If-Match": '"nope"'})
    assert r.status_code == 412 and "Precondition Failed" in r.text
    r = get(**{"If-None-Match": '"%s"' % etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["Etag"] == etag
    assert get("HEAD", **{"If-None-Match": etag}).status_code == 304
    assert get(**{"If-None-Match": '"other", "more"'}).status_code == 200
    assert get(**{"If-None-Match": "*"}).status_code == 304
    assert get(**{"If-Modified-Since": lm}).status_code == 304
    assert get(**{"If-Modified-Since": "Thu, 01 Jan 2004 00:00:00 GMT"}).status_code == 200
    assert get(**{"If-Modified-Since": "garbage"}).status_code == 200
    assert get(**{"If-Unmodified-Since": lm}).status_code == 200
    assert get(**{"If-Unmodified-Since": "Thu, 01 Jan 2004 00:00:00 GMT"}).status_code == 412
    assert get("HEAD", **{"If-Unmodified-Since": "Thu, 01 Jan 2004 00:00:00 GMT"}
               ).status_code == 412
    # swiftclient raises on 412, returns on 304-free paths
    assert status_of(c.get_object, name, "o", headers={"If-Match": "x"}) == 412
    # a missing object: If-Match: * cannot match
    r = req("GET", url + "-missing", tok, headers={"If-Match": "*"})
    assert r.status_code == 412
    assert req("GET", url + "-missing", tok).status_code == 404


# ---- copy -------------------------------------------------------------------------


def test_copy_with_x_copy_from(owner):
    c = owner["conn"]
    src, dst = container(owner), container(owner)
    data = os.urandom(100000)
    etag = c.put_object(src, "a/b", data, content_type="text/x-src",
                        headers={"X-Object-Meta-Old": "1", "X-Object-Meta-Keep": "k"})
    r = req("PUT", "%s/%s/copy" % (owner["url"], dst), owner["token"],
            headers={"X-Copy-From": "/%s/a/b" % src, "Content-Length": "0",
                     "X-Object-Meta-Old": "2", "X-Object-Meta-New": "n"})
    assert r.status_code == 201, r.text
    assert r.headers["X-Copied-From"] == "%s/a/b" % src
    assert r.headers["X-Copied-From-Account"] == "AUTH_" + owner["project"]["id"]
    assert r.headers["X-Copied-From-Last-Modified"].endswith("GMT")
    assert r.headers["Etag"] == etag and r.headers["Last-Modified"]
    h, body = c.get_object(dst, "copy")
    assert body == data and h["content-type"] == "text/x-src"
    assert (h["x-object-meta-old"], h["x-object-meta-keep"], h["x-object-meta-new"]) == \
        ("2", "k", "n")
    # fresh metadata and a new content type; the source name URL-encoded
    r = req("PUT", "%s/%s/fresh" % (owner["url"], dst), owner["token"],
            headers={"X-Copy-From": urllib.parse.quote("%s/a/b" % src),
                     "X-Fresh-Metadata": "true", "X-Object-Meta-Only": "me",
                     "Content-Type": "text/plain", "Content-Length": "0"})
    assert r.status_code == 201, r.text
    h = c.head_object(dst, "fresh")
    assert h["x-object-meta-only"] == "me" and "x-object-meta-keep" not in h
    assert h["content-type"] == "text/plain"
    # the copy is its own object: overwriting and deleting the source leave it
    c.put_object(src, "a/b", b"new")
    c.delete_object(src, "a/b")
    assert c.get_object(dst, "copy")[1] == data
    c.delete_object(dst, "copy")
    assert c.get_object(dst, "fresh")[1] == data


def test_copy_errors(owner):
    c = owner["conn"]
    name = container(owner)
    c.put_object(name, "o", b"x")
    base = "%s/%s" % (owner["url"], name)
    tok = owner["token"]
    r = req("PUT", base + "/d", tok, headers={"X-Copy-From": "nocontainer"})
    assert r.status_code == 412
    assert r.text == "X-Copy-From header must be of the form <container name>/<object name>"
    assert req("PUT", base + "/d", tok, headers={"X-Copy-From": "/%s/missing" % name}
               ).status_code == 404
    assert req("PUT", base + "/d", tok, headers={"X-Copy-From": "/nope-%s/o" % name}
               ).status_code == 404
    r = req("PUT", base + "/d", tok, data=b"body", headers={"X-Copy-From": "/%s/o" % name})
    assert r.status_code == 400 and r.text == "Copy requests require a zero byte body"
    r = req("COPY", base + "/o", tok)
    assert r.status_code == 412 and r.text == "Destination header required"
    assert req("COPY", base + "/o", tok, headers={"Destination": "/%s/" % name}
               ).status_code == 412
    r = req("FROB", base + "/o", tok)
    assert r.status_code == 405
    assert req("COPY", base + "/o", headers={"Destination": "/%s/z" % name}).status_code == 401
    assert status_of(c.head_object, name, "d") == 404


def test_copy_method_through_swiftclient(owner):
    c = owner["conn"]
    src, dst = container(owner), container(owner)
    c.put_object(src, "o", b"payload", headers={"X-Object-Meta-A": "a"})
    c.copy_object(src, "o", destination="/%s/o2" % dst, headers={"X-Object-Meta-B": "b"})
    h, body = c.get_object(dst, "o2")
    assert body == b"payload" and h["x-object-meta-a"] == "a" and h["x-object-meta-b"] == "b"
    c.copy_object(src, "o", destination="/%s/o3" % dst, headers={"X-Object-Meta-B": "b"},
                  fresh_metadata=True)
    h = c.head_object(dst, "o3")
    assert h["x-object-meta-b"] == "b" and "x-object-meta-a" not in h
    # onto itself with fresh metadata: Swift's way to drop metadata
    c.copy_object(src, "o", fresh_metadata=True)
    h, body = c.get_object(src, "o")
    assert body == b"payload" and "x-object-meta-a" not in h
    # If-None-Match on the destination
    r = req("COPY", "%s/%s/o" % (owner["url"], src), owner["token"],
            headers={"Destination": "/%s/o2" % dst, "If-None-Match": "*"})
    assert r.status_code == 412


# ---- container ACLs ---------------------------------------------------------------


def test_acl_grants(cloud, owner, other):
    c = owner["conn"]
    p2, u2 = other["project"]["id"], other["user"]["id"]
    name = container(owner)
    c.put_object(name, "o", b"secret")
    obj = "%s/%s/o" % (owner["url"], name)
    cont = "%s/%s" % (owner["url"], name)
    tok = other["token"]
    # nothing granted yet
    assert req("GET", obj, tok).status_code == 403
    assert req("GET", obj).status_code == 401
    assert req("GET", cont, tok).status_code == 403
    for grant in ("%s:%s" % (p2, u2), "%s:*" % p2, "*:%s" % u2,
                  "%s:%s" % (other["project"]["name"], other["user"]["name"])):
        c.post_container(name, headers={"X-Container-Read": grant})
        assert req("GET", obj, tok).content == b"secret", grant
        r = req("GET", cont, tok)
        assert r.status_code == 200 and r.text == "o\n", grant
        h = req("HEAD", cont, tok).headers
        assert "X-Container-Read" not in h, "a reader sees the ACL"
        assert c.head_container(name)["x-container-read"] == grant
        # reading is no writing
        assert req("PUT", cont + "/w", tok, data=b"w").status_code == 403
        assert req("DELETE", obj, tok).status_code == 403
    # someone else's grant
    c.post_container(name, headers={"X-Container-Read": "%s:someone" % p2})
    assert req("GET", obj, tok).status_code == 403
    # write ACL: put, post and delete, but no reading
    c.post_container(name, headers={"X-Container-Read": "",
                                    "X-Container-Write": "%s:%s" % (p2, u2)})
    assert "x-container-read" not in c.head_container(name)
    assert req("PUT", cont + "/w", tok, data=b"written").status_code == 201
    assert c.get_object(name, "w")[1] == b"written"
    assert req("POST", cont + "/w", tok, headers={"X-Object-Meta-X": "1"}).status_code == 202
    assert req("GET", cont + "/w", tok).status_code == 403
    assert req("DELETE", cont + "/w", tok).status_code == 204
    # container operations stay the owner's
    assert req("POST", cont, tok, headers={"X-Container-Read": "*:*"}).status_code == 403
    assert req("DELETE", cont, tok).status_code == 403
    assert req("PUT", cont, tok).status_code == 403
    # copies by a writer need read access to the source
    r = req("PUT", cont + "/cp", tok, headers={"X-Copy-From": "/%s/o" % name})
    assert r.status_code == 403
    c.post_container(name, headers={"X-Remove-Container-Write": "x"})
    assert "x-container-write" not in c.head_container(name)
    assert req("PUT", cont + "/w", tok, data=b"w").status_code == 403


def test_acl_public_read_and_listings(owner, other):
    c = owner["conn"]
    name = container(owner, **{"X-Container-Read": ".r:*"})
    c.put_object(name, "pub", b"hello")
    obj = "%s/%s/pub" % (owner["url"], name)
    cont = "%s/%s" % (owner["url"], name)
    assert req("GET", obj).content == b"hello"
    assert req("HEAD", obj).status_code == 200
    assert req("GET", obj, other["token"]).status_code == 200
    assert req("GET", cont).status_code == 401
    assert req("GET", cont, other["token"]).status_code == 403
    assert req("PUT", obj, data=b"x").status_code == 401
    assert req("GET", cont + "/missing").status_code == 404
    c.post_container(name, headers={"X-Container-Read": ".r:*,.rlistings"})
    r = req("GET", cont, params={"format": "json"})
    assert r.status_code == 200 and [o["name"] for o in r.json()] == ["pub"]
    # referrer rules: only pages from the named domain
    c.post_container(name, headers={"X-Container-Read": ".r:.example.com"})
    assert req("GET", obj).status_code == 401
    assert req("GET", obj, headers={"Referer": "http://www.example.com/x"}).status_code == 200
    assert req("GET", obj, headers={"Referer": "http://www.example.org/x"}).status_code == 401
    # the account itself never opens up
    assert req("GET", owner["url"]).status_code == 401


def test_acl_validation(owner):
    cont = "%s/%s" % (owner["url"], unique("c"))
    tok = owner["token"]
    r = req("PUT", cont, tok, headers={"X-Container-Read": ".x:y"})
    assert r.status_code == 400 and "Unknown designator" in r.text
    r = req("PUT", cont, tok, headers={"X-Container-Write": ".r:*"})
    assert r.status_code == 400 and "Referrers not allowed in write ACL" in r.text
    r = req("PUT", cont, tok, headers={"X-Container-Read": ".r:"})
    assert r.status_code == 400 and "No host/domain value" in r.text
    assert req("HEAD", cont, tok).status_code == 404
    r = req("PUT", cont, tok, headers={"X-Container-Read": ".referrer:* , a:b ,,.rlistings"})
    assert r.status_code == 201
    assert req("HEAD", cont, tok).headers["X-Container-Read"] == ".r:*,a:b,.rlistings"


# ---- expiry -----------------------------------------------------------------------


def files_of(cloud, project_id):
    d = os.path.join(cloud.data_dir, "objects", "AUTH_" + project_id)
    return [f for _, _, fs in os.walk(d) for f in fs]


def test_delete_after_and_reaping(cloud, owner):
    c = owner["conn"]
    name = container(owner)
    before = len(files_of(cloud, owner["project"]["id"]))
    # "short" is big enough to be a file; "long" is kept inline (store.h)
    c.put_object(name, "short", b"bye" * 8000, headers={"X-Delete-After": "1"})
    c.put_object(name, "long", b"stay", headers={"X-Delete-After": "3600"})
    h = c.head_object(name, "short")
    assert abs(int(h["x-delete-at"]) - time.time()) < 3 and len(h["x-delete-at"]) == 10
    time.sleep(1.2)
    assert status_of(c.get_object, name, "short") == 404
    assert status_of(c.head_object, name, "short") == 404
    assert status_of(c.post_object, name, "short", headers={}) == 404
    assert c.get_object(name, "long")[1] == b"stay"
    # the expirer removes the row, then the file, within a few seconds; the
    # file goes after the row, so wait for both rather than race the unlink
    for _ in range(100):
        listed = [o["name"] for o in c.get_container(name)[1]]
        nfiles = len(files_of(cloud, owner["project"]["id"]))
        if listed == ["long"] and nfiles == before:
            break
        time.sleep(0.2)
    assert listed == ["long"]
    assert nfiles == before
    assert inline_orphans(cloud) == 0
    # an expired name is free for If-None-Match at once
    c.put_object(name, "gone", b"1", headers={"X-Delete-At": str(int(time.time()) + 1)})
    time.sleep(1.5)
    r = req("PUT", "%s/%s/gone" % (owner["url"], name), owner["token"], data=b"2",
            headers={"If-None-Match": "*"})
    assert r.status_code == 201


def test_delete_at_errors_and_post(owner):
    c = owner["conn"]
    name = container(owner)
    url = "%s/%s/o" % (owner["url"], name)
    tok = owner["token"]
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-At": "10"})
    assert r.status_code == 400 and r.text == "X-Delete-At in past"
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-At": "soon"})
    assert r.status_code == 400 and r.text == "Non-integer X-Delete-At"
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-After": "-5"})
    assert r.status_code == 400 and r.text == "X-Delete-After in past"
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-After": "1.5"})
    assert r.status_code == 400 and r.text == "Non-integer X-Delete-After"
    c.put_object(name, "o", b"x")
    at = int(time.time()) + 1000
    c.post_object(name, "o", headers={"X-Delete-At": str(at)})
    assert c.head_object(name, "o")["x-delete-at"] == "%010d" % at
    # a POST replaces all metadata: without X-Delete-At the expiry ends
    c.post_object(name, "o", headers={"X-Object-Meta-A": "1"})
    assert "x-delete-at" not in c.head_object(name, "o")


def test_delete_at_far_values_clamp(owner):
    """Swift clamps expiry times to ten digits (normalize_delete_at_timestamp): a huge
    X-Delete-After expires at 9999999999 and a hugely negative X-Delete-At is in the past,
    whatever their size (they once overflowed the microsecond arithmetic)."""
    c = owner["conn"]
    name = container(owner)
    url = "%s/%s/o" % (owner["url"], name)
    tok = owner["token"]
    for after in ("10000000000000", "9" * 30, "9999999999"):
        r = req("PUT", url, tok, data=b"x", headers={"X-Delete-After": after})
        assert r.status_code == 201, (after, r.text)
        assert c.head_object(name, "o")["x-delete-at"] == "9999999999"
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-At": "-9223372036854775807"})
    assert r.status_code == 400 and r.text == "X-Delete-At in past"
    r = req("PUT", url, tok, data=b"x", headers={"X-Delete-After": "-10000000000000"})
    assert r.status_code == 400 and r.text == "X-Delete-After in past"


# ---- TempURL ----------------------------------------------------------------------


def sign(key, method, expires, path, digest=hashlib.sha256, b64=None):
    mac = hmac.new(key.encode(), ("%s\n%d\n%s" % (method, expires, path)).encode(), digest)
    if b64:
        return "%s:%s" % (b64, base64.urlsafe_b64encode(mac.digest()).decode().rstrip("="))
    return mac.hexdigest()


@pytest.fixture(scope="module")
def tu(cloud, owner):
    """A container with an object, the account key 'akey' and base URLs."""
    c = owner["conn"]
    c.post_account(headers={"X-Account-Meta-Temp-URL-Key": "akey"})
    name = container(owner)
    c.put_object(name, "dir/file.txt", b"temp content", content_type="text/plain",
                 headers={"X-Object-Meta-Secret": "s", "X-Object-Meta-Public-Tag": "t"})
    u = urllib.parse.urlsplit(owner["url"])
    return {"container": name, "path": "%s/%s/dir/file.txt" % (u.path, name),
            "v1path": "/v1/AUTH_%s/%s/dir/file.txt" % (owner["project"]["id"], name),
            "host": "%s://%s" % (u.scheme, u.netloc)}


def test_info_lists_tempurl(cloud):
    info = requests.get(cloud.base_url + "/object-store/info", timeout=10).json()
    assert info["tempurl"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert "PUT" in info["tempurl"]["methods"] and "keystoneauth" in info


def test_tempurl_get_head_put(owner, tu):
    url = tu["host"] + generate_temp_url(tu["path"], 60, "akey", "GET")
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"temp content"
    assert r.headers["Content-Disposition"] == \
        'attachment; filename="file.txt"; filename*=UTF-8\'\'file.txt'
    assert r.headers["Expires"].endswith("GMT")
    assert "X-Object-Meta-Secret" not in r.headers
    assert r.headers["X-Object-Meta-Public-Tag"] == "t"
    # HEAD with a GET URL; a GET URL does not PUT
    assert requests.head(url, timeout=10).status_code == 200
    assert requests.put(url, data=b"x", timeout=10).status_code == 401
    r = requests.get(url + "&inline", timeout=10)
    assert r.headers["Content-Disposition"] == "inline"
    r = requests.get(url + "&filename=my%20report.txt", timeout=10)
    assert r.headers["Content-Disposition"] == \
        'attachment; filename="my report.txt"; filename*=UTF-8\'\'my%20report.txt'
    r = requests.get(url + "&filename=a.txt&inline", timeout=10)
    assert r.headers["Content-Disposition"].startswith('inline; filename="a.txt"')
    # PUT
    put_path = tu["path"].replace("file.txt", "uploaded")
    url = tu["host"] + generate_temp_url(put_path, 60, "akey", "PUT")
    r = requests.put(url, data=b"up", timeout=10)
    assert r.status_code == 201
    assert owner["conn"].get_object(tu["container"], "dir/uploaded")[1] == b"up"


def test_tempurl_digests_and_paths(tu):
    exp = int(time.time()) + 60
    for path in (tu["path"], tu["v1path"]):
        for sig in (sign("akey", "GET", exp, path, hashlib.sha1),
                    sign("akey", "GET", exp, path, hashlib.sha256),
                    sign("akey", "GET", exp, path, hashlib.sha512, "sha512"),
                    sign("akey", "GET", exp, path, hashlib.sha256, "sha256"),
                    sign("akey", "GET", exp, path, hashlib.sha1, "sha1")):
            r = requests.get(tu["host"] + tu["path"], timeout=10,
                             params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
            assert r.status_code == 200, (path, sig)
    # standard base64 alphabet with padding is accepted too
    mac = hmac.new(b"akey", ("GET\n%d\n%s" % (exp, tu["path"])).encode(), hashlib.sha512)
    sig = "sha512:" + base64.b64encode(mac.digest()).decode()
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
    assert r.status_code == 200
    # ISO 8601 expiry
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sign("akey", "GET", exp, tu["path"]),
                             "temp_url_expires": iso})
    assert r.status_code == 200


def test_tempurl_sha512_hex(tu):
    """128 hex digits name sha512, as Swift's extract_digest_and_algorithm reads them (and
    /info lists sha512 among the allowed digests)."""
    exp = int(time.time()) + 60
    sig = sign("akey", "GET", exp, tu["path"], hashlib.sha512)
    assert len(sig) == 128
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
    assert r.status_code == 200 and r.content == b"temp content"
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sig.upper(), "temp_url_expires": str(exp)})
    assert r.status_code == 401


def test_tempurl_refusals(tu):
    exp = int(time.time()) + 60
    base = tu["host"] + tu["path"]

    def get(sig, expires=exp, method="GET", path=None, **params):
        params.update({"temp_url_sig": sig, "temp_url_expires": str(expires)})
        return requests.request(method, path or base, params=params, timeout=10)

    good = sign("akey", "GET", exp, tu["path"])
    r = get(sign("wrong", "GET", exp, tu["path"]))
    assert r.status_code == 401 and r.text == "401 Unauthorized: Temp URL invalid\n"
    past = int(time.time()) - 10
    assert get(sign("akey", "GET", past, tu["path"]), past).status_code == 401
    assert get(good, exp + 1).status_code == 401
    assert get(good, "never").status_code == 401
    assert get(good[:-2]).status_code == 401
    assert get(good.upper()).status_code == 401
    assert get(sign("akey", "GET", exp, tu["path"], hashlib.md5, "md5")).status_code == 401
    # (128 hex digits are sha512 and valid: swift/common/digest.py, test_tempurl_sha512_hex)
    assert get(sign("akey", "GET", exp, tu["path"], hashlib.sha512)).status_code == 200
    assert get(good, method="DELETE").status_code == 401
    # another object
    other = base.replace("file.txt", "other.txt")
    assert get(good, path=other).status_code == 401
    assert requests.get(base, params={"temp_url_sig": good}, timeout=10).status_code == 401
    # the signature is valid but the object does not exist
    missing = tu["path"].replace("file.txt", "nothing")
    assert get(sign("akey", "GET", exp, missing), path=tu["host"] + missing).status_code == 404


def test_tempurl_prefix_and_container_key(owner, tu):
    exp = int(time.time()) + 60
    pfx_path = tu["path"].rsplit("/", 2)[0] + "/"
    sig = sign("akey", "GET", exp, "prefix:" + pfx_path + "dir/")
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp),
                             "temp_url_prefix": "dir/"})
    assert r.status_code == 200 and r.content == b"temp content"
    owner["conn"].put_object(tu["container"], "elsewhere", b"e")
    r = requests.get(tu["host"] + pfx_path + "elsewhere", timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp),
                             "temp_url_prefix": "dir/"})
    assert r.status_code == 401
    # a container key works for its own container only
    owner["conn"].post_container(tu["container"],
                                 headers={"X-Container-Meta-Temp-URL-Key": "ckey"})
    sig = sign("ckey", "GET", exp, tu["path"])
    r = requests.get(tu["host"] + tu["path"], timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
    assert r.status_code == 200
    assert owner["conn"].head_container(tu["container"])["x-container-meta-temp-url-key"] \
        == "ckey"
    c2 = container(owner)
    owner["conn"].put_object(c2, "dir/file.txt", b"other container")
    p2 = tu["path"].replace(tu["container"], c2)
    sig = sign("ckey", "GET", exp, p2)
    r = requests.get(tu["host"] + p2, timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
    assert r.status_code == 401
    # the second account key
    owner["conn"].post_account(headers={"X-Account-Meta-Temp-URL-Key-2": "second"})
    sig = sign("second", "GET", exp, p2)
    r = requests.get(tu["host"] + p2, timeout=10,
                     params={"temp_url_sig": sig, "temp_url_expires": str(exp)})
    assert r.status_code == 200 and r.content == b"other container"


def test_tempurl_keys_hidden_from_readers(owner, other):
    c = owner["conn"]
    name = container(owner, **{"X-Container-Read": "%s:*" % other["project"]["id"],
                               "X-Container-Meta-Temp-URL-Key": "k",
                               "X-Container-Meta-Color": "red"})
    h = req("HEAD", "%s/%s" % (owner["url"], name), other["token"]).headers
    assert h["X-Container-Meta-Color"] == "red"
    assert "X-Container-Meta-Temp-Url-Key" not in h
    assert c.head_container(name)["x-container-meta-temp-url-key"] == "k"
