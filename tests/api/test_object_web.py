"""Swift for browsers and listing formats: FormPost (HTML form uploads signed
with a temp URL key), CORS (preflight OPTIONS and the headers of actual
requests), and account/container listings as plain text, JSON and XML with
Swift's negotiation, path=, multi-character delimiters and parameter checks.

Where the installed Swift package has the reference code (swob's Accept
matching, listing_formats' XML writers), the answers are compared with what
that code produces."""

import base64
import hashlib
import hmac
import json
import os
import socket
import time
import urllib.parse

import pytest
import requests
from swift.common.middleware.listing_formats import account_to_xml, container_to_xml
from swift.common.swob import Accept

import objectlib
from conftest import unique

KEY = "formkey"


@pytest.fixture(scope="module")
def owner(cloud):
    m = objectlib.member(cloud)
    m["conn"].post_account({"X-Account-Meta-Temp-URL-Key": KEY})
    return m


def req(method, url, token=None, **kw):
    return objectlib.req(method, url, token, timeout=30, allow_redirects=False, **kw)


def container(owner, **headers):
    return objectlib.container(owner, "w", **headers)


def objects_of(owner, cont):
    return {o["name"]: o for o in owner["conn"].get_container(cont)[1]}


# ---- FormPost -------------------------------------------------------------------------


def multipart(parts, boundary="----fpBoundary7MA4YWxk"):
    """parts: ("field", name, value) or ("file", name, filename, data[, ctype])."""
    out = []
    for p in parts:
        out.append(b"--" + boundary.encode() + b"\r\n")
        if p[0] == "field":
            out.append(('Content-Disposition: form-data; name="%s"\r\n\r\n' % p[1]).encode())
            out.append(p[2].encode() if isinstance(p[2], str) else p[2])
        else:
            fn = p[2].encode() if isinstance(p[2], str) else p[2]
            out.append(b'Content-Disposition: form-data; name="' + p[1].encode() +
                       b'"; filename="' + fn + b'"\r\n')
            if len(p) > 4 and p[4]:
                out.append(("Content-Type: %s\r\n" % p[4]).encode())
            out.append(b"\r\n")
            out.append(p[3])
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def sign(path, redirect="", max_size=1 << 20, max_count=10, expires=None, key=KEY,
         digest="sha1", form="hex"):
    expires = int(time.time()) + 600 if expires is None else expires
    tail = "\n%s\n%s\n%s\n%s" % (redirect, max_size, max_count, expires)
    body = path + tail.encode() if isinstance(path, bytes) else (path + tail).encode()
    mac = hmac.new(key.encode(), body, getattr(hashlib, digest))
    if form == "hex":
        sig = mac.hexdigest()
    elif form == "b64":
        sig = "%s:%s" % (digest, base64.b64encode(mac.digest()).decode())
    else:
        sig = "%s:%s" % (digest, base64.urlsafe_b64encode(mac.digest()).decode().rstrip("="))
    return [("field", "redirect", redirect), ("field", "max_file_size", str(max_size)),
            ("field", "max_file_count", str(max_count)), ("field", "expires", str(expires)),
            ("field", "signature", sig)]


def form_url(owner, cont, prefix=None):
    u = "%s/%s" % (owner["url"], cont)
    return u + "/" + prefix if prefix is not None else u


def post_form(url, parts, headers=None, **kw):
    body, ctype = multipart(parts, **kw)
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return req("POST", url, headers=h, data=body)


def test_formpost_stores_files_under_the_prefix(owner):
    cont = container(owner)
    url = form_url(owner, cont, "up/")
    big = os.urandom(300000)
    parts = sign(urllib.parse.urlsplit(url).path) + [
        ("file", "f1", "one.txt", b"hello", "text/plain"),
        ("file", "f2", "two.bin", big),
        ("file", "f3", "empty", b""),
    ]
    r = post_form(url, parts)
    assert r.status_code == 201 and r.text == "201 Created", r.text
    assert r.headers["Content-Type"] == "text/plain"
    objs = objects_of(owner, cont)
    assert sorted(objs) == ["up/empty", "up/one.txt", "up/two.bin"]
    assert objs["up/one.txt"]["content_type"] == "text/plain"
    assert objs["up/two.bin"]["content_type"] == "application/octet-stream"
    assert objs["up/two.bin"]["hash"] == hashlib.md5(big).hexdigest()
    assert owner["conn"].get_object(cont, "up/two.bin")[1] == big
    assert objs["up/empty"]["bytes"] == 0
    # no token was involved; a prefix without slash is glued to the name
    url = form_url(owner, cont, "pre")
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) +
                  [("file", "f", "fix", b"z")])
    assert r.status_code == 201
    assert owner["conn"].get_object(cont, "prefix")[1] == b"z"


def test_formpost_container_path_and_signature_forms(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    # the path from /v1 on, as Swift itself signs it, is accepted too
    v1 = path[path.index("/v1/"):]
    cases = [("sha1", "hex", path), ("sha256", "hex", path), ("sha512", "hex", v1),
             ("sha256", "b64", path), ("sha512", "b64url", v1), ("sha1", "b64", path)]
    for i, (digest, form, p) in enumerate(cases):
        r = post_form(url, sign(p, digest=digest, form=form) +
                      [("file", "f", "o%d" % i, b"x%d" % i)])
        assert r.status_code == 201, (digest, form, r.text)
    assert sorted(objects_of(owner, cont)) == ["o%d" % i for i in range(len(cases))]


def test_formpost_container_key(owner):
    cont = container(owner, **{"X-Container-Meta-Temp-URL-Key-2": "ckey"})
    url = form_url(owner, cont)
    r = post_form(url, sign(urllib.parse.urlsplit(url).path, key="ckey") +
                  [("file", "f", "c.txt", b"c")])
    assert r.status_code == 201
    # another container's key does not open this one
    other = container(owner)
    url2 = form_url(owner, other)
    r = post_form(url2, sign(urllib.parse.urlsplit(url2).path, key="ckey") +
                  [("file", "f", "c.txt", b"c")])
    assert r.status_code == 401 and r.text == "FormPost: Invalid Signature"
    assert objects_of(owner, other) == {}


def test_formpost_filenames(owner):
    cont = container(owner)
    url = form_url(owner, cont, "d/")
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) + [
        ("file", "a", "na\u00efve \u65e5.txt", b"utf8"),
        ("file", "b", b"caf\xe9", b"latin1"),          # not UTF-8: read as Latin-1
        ("file", "c", "sub/dir/x", b"slashes")])
    assert r.status_code == 201, r.text
    objs = objects_of(owner, cont)
    assert sorted(objs) == sorted(["d/na\u00efve \u65e5.txt", "d/caf\u00e9", "d/sub/dir/x"])
    # a part with an empty filename is a field, not a file
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) + [("file", "a", "", b"x")])
    assert r.status_code == 400 and "No Files To Process" in r.text
    # the prefix of the path must be UTF-8 as any object name
    bad = form_url(owner, cont, "%FF")
    r = post_form(bad, sign(urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(bad).path)) +
                  [("file", "a", "x", b"x")])
    assert r.status_code == 412 and r.text == "412 Precondition Failed"
    assert sorted(objects_of(owner, cont)) == sorted(objs)


def test_formpost_redirect(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    r = post_form(url, sign(path, redirect="http://example.com/done") +
                  [("file", "f", "r1", b"r")])
    assert r.status_code == 303
    assert r.headers["Location"] == "http://example.com/done?status=201&message="
    assert 'href="http://example.com/done?status=201&message="' in r.text
    r = post_form(url, sign(path, redirect="http://example.com/x?a=1", max_count=1) +
                  [("file", "f", "r2", b"r"), ("file", "g", "r3", b"r")])
    assert r.status_code == 303
    assert r.headers["Location"] == \
        "http://example.com/x?a=1&status=400&message=max%20file%20count%20exceeded"
    assert sorted(objects_of(owner, cont)) == ["r1", "r2"]


def test_formpost_bad_signature_and_expired(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    tampered = sign(path)
    tampered[1] = ("field", "max_file_size", "5")     # signed for 1 MiB
    bad = [sign(path, key="wrong"), sign(path + "x"),
           sign(path)[:4] + [("field", "signature", "zz")],
           sign(path, digest="md5", form="b64"), tampered,
           sign(path)[:4]]                                  # no signature at all
    for parts in bad:
        r = post_form(url, parts + [("file", "f", "nope", b"x")])
        assert r.status_code == 401, r.text
        assert r.text == "FormPost: Invalid Signature"
        assert r.headers["Www-Authenticate"].startswith('Swift realm="AUTH_')
    # a form signed with an upper-case hex digest is not Swift's form
    parts = sign(path)
    parts[4] = ("field", "signature", parts[4][2].upper())
    assert post_form(url, parts + [("file", "f", "nope", b"x")]).status_code == 401
    r = post_form(url, sign(path, expires=int(time.time()) - 1) +
                  [("file", "f", "nope", b"x")])
    assert r.status_code == 401 and r.text == "FormPost: Form Expired"
    assert objects_of(owner, cont) == {}
    # no key anywhere: the account path has none
    r = post_form(owner["url"], sign(urllib.parse.urlsplit(owner["url"]).path) +
                  [("file", "f", "nope", b"x")])
    assert r.status_code == 401 and r.text == "FormPost: Invalid Signature"


def test_formpost_limits(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    # a file past max_file_size is dropped; the ones before it stay
    r = post_form(url, sign(path, max_size=10) +
                  [("file", "a", "small", b"0123456789"), ("file", "b", "big", b"x" * 11)])
    assert r.status_code == 400 and r.text == "FormPost: max_file_size exceeded"
    assert sorted(objects_of(owner, cont)) == ["small"]
    big = os.urandom(200000)
    r = post_form(url, sign(path, max_size=100000) + [("file", "b", "big2", big)])
    assert r.status_code == 400 and r.text == "FormPost: max_file_size exceeded"
    r = post_form(url, sign(path, max_count=2) +
                  [("file", "a", "c1", b"1"), ("file", "b", "c2", b"2"),
                   ("file", "c", "c3", b"3")])
    assert r.status_code == 400
    assert r.text == "400 Bad Request\r\nFormPost: Max File Count Exceeded"
    r = post_form(url, sign(path))
    assert r.status_code == 400 and r.text == "400 Bad Request\r\nFormPost: No Files To Process"
    r = post_form(url, sign(path, max_size="big") + [("file", "a", "d1", b"1")])
    assert r.status_code == 400 and r.text == "FormPost: max_file_size not an integer"
    r = post_form(url, sign(path, max_count="two") + [("file", "a", "d1", b"1")])
    assert r.status_code == 400 and r.text == "FormPost: max_file_count not an integer"
    r = post_form(url, sign(path) + [("field", "x_delete_at", "soon"),
                                     ("file", "a", "d1", b"1")])
    assert r.status_code == 400
    assert r.text == "FormPost: x_delete_at not an integer: Unix timestamp required."
    # the PUT's own refusal is its status line
    r = post_form(url, sign(path) + [("field", "x_delete_at", "1000"),
                                     ("file", "a", "d1", b"1")])
    assert r.status_code == 400 and r.text == "400 Bad Request"
    r = post_form(url, sign(path) + [("file", "a", "n" * 1025, b"1")])
    assert r.status_code == 400 and r.text == "400 Bad Request"
    assert sorted(objects_of(owner, cont)) == ["c1", "c2", "small"]


def test_formpost_attributes_apply_to_later_files(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    r = post_form(url, sign(path) + [
        ("file", "a", "plain", b"1", "text/x-one"),
        ("field", "x_delete_after", "600"),
        ("field", "content-type", "text/x-form"),
        ("file", "b", "expiring", b"2", "text/x-ignored")])
    assert r.status_code == 201, r.text
    h = owner["conn"].head_object(cont, "plain")
    assert h["content-type"] == "text/x-one" and "x-delete-at" not in h
    h = owner["conn"].head_object(cont, "expiring")
    assert h["content-type"] == "text/x-form"
    assert abs(int(h["x-delete-at"]) - (time.time() + 600)) < 30
    # clamped after the sum, as Swift's PUT does it
    r = post_form(url, sign(path) + [("field", "x_delete_after", "9999999999"),
                                     ("file", "c", "far", b"3")])
    assert r.status_code == 201, r.text
    assert owner["conn"].head_object(cont, "far")["x-delete-at"] == "9999999999"


def test_formpost_missing_container(owner):
    cont = unique("absent")
    url = form_url(owner, cont)
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) + [("file", "f", "x", b"x")])
    assert r.status_code == 404 and r.text == "404 Not Found"


def test_formpost_files_count_against_quotas_and_versions(owner):
    """Each file is the PUT Swift's formpost would make: container quotas
    refuse it (the files before it stay), a versioned container archives the
    version it replaces."""
    cont = container(owner, **{"X-Container-Meta-Quota-Count": "1"})
    url = form_url(owner, cont)
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) +
                  [("file", "f1", "a", b"first"), ("file", "f2", "b", b"second")])
    assert r.status_code == 413 and r.text == "413 Request Entity Too Large", r.text
    assert sorted(objects_of(owner, cont)) == ["a"]

    arch = container(owner)
    cont = container(owner, **{"X-Versions-Location": arch})
    owner["conn"].put_object(cont, "doc", b"v1")
    url = form_url(owner, cont)
    r = post_form(url, sign(urllib.parse.urlsplit(url).path) + [("file", "f", "doc", b"v2")])
    assert r.status_code == 201, r.text
    assert owner["conn"].get_object(cont, "doc")[1] == b"v2"
    archived = list(objects_of(owner, arch))
    assert len(archived) == 1 and owner["conn"].get_object(arch, archived[0])[1] == b"v1"


def test_formpost_bad_multipart(owner):
    cont = container(owner)
    url = form_url(owner, cont)
    path = urllib.parse.urlsplit(url).path
    body, ctype = multipart(sign(path) + [("file", "f", "x", b"x")])
    r = req("POST", url, headers={"Content-Type": ctype.replace("fpB", "other")}, data=body)
    assert r.status_code == 400 and r.text == "FormPost: invalid starting boundary"
    r = req("POST", url, headers={"Content-Type": ctype}, data=b"garbage" + body)
    assert r.status_code == 400 and r.text == "FormPost: invalid starting boundary"
    r = req("POST", url, headers={"Content-Type": ctype}, data=b"")
    assert r.status_code == 400 and r.text == "FormPost: invalid starting boundary"
    # a file part without its closing boundary is not kept
    cut = body[:body.rindex(b"\r\n--")]
    r = req("POST", url, headers={"Content-Type": ctype}, data=cut)
    assert r.status_code == 400 and r.text.startswith("FormPost: ")
    assert objects_of(owner, cont) == {}


def test_formpost_streams_through_small_chunks(owner):
    """A body that arrives a few bytes at a time (boundaries split across
    pieces) and more files than are committed at once."""
    cont = container(owner)
    url = form_url(owner, cont)
    data = {"f%02d" % i: os.urandom(1000 + 37 * i) for i in range(12)}
    parts = sign(urllib.parse.urlsplit(url).path, max_count=20) + \
        [("file", "x", n, d) for n, d in sorted(data.items())]
    body, ctype = multipart(parts, boundary="b")

    def pieces():
        for i in range(0, len(body), 7):
            yield body[i:i + 7]
    r = req("POST", url, headers={"Content-Type": ctype}, data=pieces())
    assert r.status_code == 201, r.text
    objs = objects_of(owner, cont)
    assert sorted(objs) == sorted(data)
    for n, d in data.items():
        assert objs[n]["hash"] == hashlib.md5(d).hexdigest()


def test_formpost_client_gone_leaves_no_temp_file(cloud, owner):
    cont = container(owner)
    url = form_url(owner, cont)
    body, ctype = multipart(sign(urllib.parse.urlsplit(url).path) +
                            [("file", "f", "done", b"d"), ("file", "g", "half", b"h" * 100000)])
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (u.path, ctype, len(body)))
    s.sendall(head.encode() + body[:len(body) - 50000])
    time.sleep(0.3)
    s.close()
    root = os.path.join(cloud.data_dir, "objects", "AUTH_" + owner["project"]["id"])
    for _ in range(150):
        tmp = [f for _, _, fs in os.walk(root) for f in fs if f.startswith(".tmp-")]
        if not tmp:
            break
        time.sleep(0.1)
    assert not tmp
    # nothing was acknowledged, so nothing of the form is kept
    assert objects_of(owner, cont) == {}


def test_plain_posts_still_update_metadata(owner):
    c = owner["conn"]
    cont = container(owner)
    c.put_object(cont, "o", b"x")
    r = req("POST", form_url(owner, cont), owner["token"], headers={"X-Container-Meta-A": "1"})
    assert r.status_code == 204
    assert c.head_container(cont)["x-container-meta-a"] == "1"
    r = req("POST", form_url(owner, cont, "o"), owner["token"],
            headers={"X-Object-Meta-B": "2", "Content-Type": "text/x-new"}, data=b"ignored")
    assert r.status_code == 202
    h = c.head_object(cont, "o")
    assert h["x-object-meta-b"] == "2" and h["content-type"] == "text/x-new"
    r = req("POST", owner["url"], owner["token"], headers={"X-Account-Meta-C": "3"})
    assert r.status_code == 204
    # without a token a plain POST is still refused
    assert req("POST", form_url(owner, cont)).status_code == 401
    assert req("POST", form_url(owner, cont, "o")).status_code == 401


def test_info_advertises_formpost_and_cors(cloud):
    base = cloud.base_url + "/object-store/info"
    info = requests.get(base, timeout=10).json()
    assert info["formpost"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert info["swift"]["strict_cors_mode"] is True
    r = requests.get(base, headers={"Origin": "http://a.example"}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"
    assert r.headers["Access-Control-Expose-Headers"] == "x-trans-id"
    r = requests.options(base, timeout=10)
    assert r.status_code == 200 and r.headers["Allow"] == "HEAD, GET, OPTIONS"


# ---- CORS ------------------------------------------------------------------------------


def preflight(url, origin="http://good.example", method="GET", headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=h, timeout=10)


def methods(v):
    return sorted(x.strip() for x in v.split(","))


def test_cors_preflight(owner):
    cont = container(owner, **{
        "X-Container-Meta-Access-Control-Allow-Origin": "http://good.example http://b.example",
        "X-Container-Meta-Access-Control-Max-Age": "600"})
    for url in (form_url(owner, cont), form_url(owner, cont, "any/object")):
        r = preflight(url, headers="X-Auth-Token, x-object-meta-a,X-Auth-Token")
        assert r.status_code == 200, r.text
        assert r.headers["Access-Control-Allow-Origin"] == "http://good.example"
        assert r.headers["Access-Control-Max-Age"] == "600"
        assert methods(r.headers["Access-Control-Allow-Methods"]) == \
            ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
        assert sorted(x.strip() for x in r.headers["Access-Control-Allow-Headers"].split(",")) \
            == ["X-Auth-Token", "x-object-meta-a"]
        assert "Origin" in r.headers["Vary"]
        r = preflight(url, origin="http://b.example", method="PUT")
        assert r.status_code == 200 and "Access-Control-Allow-Headers" not in r.headers
        # refused: another origin, a method Swift does not serve
        for bad in (preflight(url, origin="http://evil.example"),
                    preflight(url, method="PATCH"), preflight(url, method="get")):
            assert bad.status_code == 401
            assert "Access-Control-Allow-Origin" not in bad.headers
        # not a preflight: just Allow
        r = requests.options(url, timeout=10)
        assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
        assert methods(r.headers["Allow"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]


def test_cors_preflight_without_rules_or_container(owner):
    plain = container(owner)
    assert preflight(form_url(owner, plain, "o")).status_code == 401
    assert preflight(form_url(owner, unique("none"), "o")).status_code == 401
    star = container(owner, **{"X-Container-Meta-Access-Control-Allow-Origin": "*"})
    r = preflight(form_url(owner, star, "o"), origin="http://anyone.example")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in r.headers and "Access-Control-Max-Age" not in r.headers
    # the account answers with Allow only, CORS is for containers
    r = preflight(owner["url"])
    assert r.status_code == 200 and methods(r.headers["Allow"]) == \
        ["GET", "HEAD", "OPTIONS", "POST"]
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_actual_requests(owner):
    c = owner["conn"]
    cont = container(owner, **{
        "X-Container-Meta-Access-Control-Allow-Origin": "http://good.example",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Custom  x-other"})
    c.put_object(cont, "o", b"data", headers={"X-Object-Meta-Color": "red"})
    tok = owner["token"]
    r = req("GET", form_url(owner, cont, "o"), tok, headers={"Origin": "http://good.example"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://good.example"
    exposed = [x.strip() for x in r.headers["Access-Control-Expose-Headers"].split(",")]
    for h in ("etag", "x-timestamp", "x-trans-id", "content-type", "last-modified",
              "x-object-meta-color", "x-custom", "x-other"):
        assert h in exposed, (h, exposed)
    assert r.headers["Vary"] == "Origin"
    r = req("GET", form_url(owner, cont), tok, headers={"Origin": "http://good.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://good.example"
    assert "x-container-meta-access-control-allow-origin" in \
        r.headers["Access-Control-Expose-Headers"]
    # errors of the container carry them too
    r = req("GET", form_url(owner, cont, "missing"), tok,
            headers={"Origin": "http://good.example"})
    assert r.status_code == 404 and "Access-Control-Allow-Origin" in r.headers
    # strict mode: an origin the container does not allow gets nothing
    r = req("GET", form_url(owner, cont, "o"), tok, headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Expose-Headers" not in r.headers
    r = req("GET", form_url(owner, cont, "o"), tok)
    assert "Access-Control-Allow-Origin" not in r.headers
    # PUT and DELETE too
    r = req("PUT", form_url(owner, cont, "p"), tok, headers={"Origin": "http://good.example"},
            data=b"x")
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == \
        "http://good.example"


# ---- listings ------------------------------------------------------------------------------


def listing(owner, cont, token=True, headers=None, raw=False, **params):
    u = form_url(owner, cont) if cont is not None else owner["url"]
    return req("GET", u, owner["token"] if token else None, headers=headers or {},
               params=params)


@pytest.fixture(scope="module")
def names_container(owner):
    """A container holding awkward names: UTF-8, leading and doubled slashes,
    XML and JSON special characters, and a multi-character delimiter."""
    cont = container(owner)
    names = ["a", "b/1", "b/2", "b/3/x", "c", "d/1", "/lead", "//two/x", "c//path/file",
             "\u00fc/x", "\u65e5\u672c/\u8a9e", "q&<>\"'\t", "s--1", "s--2", "s-x",
             "\U0001f954/p", "z\u00e9/", "z\u00e9/a"]
    for n in names:
        owner["conn"].put_object(cont, n, n.encode(), content_type="text/x-%d" % len(n))
    return cont, sorted(names, key=lambda s: s.encode())


def test_listing_json_is_swifts_json(owner, names_container):
    cont, names = names_container
    r = listing(owner, cont, format="json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Vary" not in r.headers
    items = r.json()
    assert [o["name"] for o in items] == names
    # byte for byte what Swift's json.dumps writes
    assert r.content == json.dumps(items).encode("ascii")
    for o in items:
        assert list(o) == ["name", "hash", "bytes", "content_type", "last_modified"]
        assert o["hash"] == hashlib.md5(o["name"].encode()).hexdigest()
    # the plain form, and Accept as the only hint
    r = listing(owner, cont)
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Vary"] == "Accept"
    assert r.content == "".join(n + "\n" for n in names).encode()
    r = listing(owner, cont, headers={"Accept": "application/json"})
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Vary"] == "Accept" and [o["name"] for o in r.json()] == names


def test_listing_xml_is_swifts_xml(owner, names_container):
    cont, names = names_container
    items = listing(owner, cont, format="json").json()
    r = listing(owner, cont, format="xml")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert r.content == container_to_xml([dict(i) for i in items], cont)
    for d in ("/", "--"):
        items = listing(owner, cont, format="json", delimiter=d).json()
        assert any("subdir" in i for i in items)
        r = listing(owner, cont, format="xml", delimiter=d)
        assert r.content == container_to_xml([dict(i) for i in items], cont)
    r = listing(owner, cont, headers={"Accept": "text/xml"})
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    # accounts
    acc = listing(owner, None, format="json").json()
    account = owner["url"].rsplit("/", 1)[1]
    r = listing(owner, None, format="xml")
    assert r.content == account_to_xml([dict(i) for i in acc], account)
    acc = listing(owner, None, format="json", delimiter="-").json()
    assert any("subdir" in i for i in acc)
    r = listing(owner, None, format="xml", delimiter="-")
    assert r.content == account_to_xml([dict(i) for i in acc], account)
    # empty container: XML and JSON are documents, plain is 204
    empty = container(owner)
    r = listing(owner, empty, format="xml")
    assert r.status_code == 200
    assert r.content == b'<?xml version="1.0" encoding="UTF-8"?>\n<container name="%s" />' \
        % empty.encode()
    r = listing(owner, empty, format="json")
    assert r.status_code == 200 and r.content == b"[]"
    assert listing(owner, empty).status_code == 204


@pytest.mark.parametrize("accept", [
    "*/*", "application/xml", "text/xml", "text/*", "application/*",
    "application/json;q=0.5, text/xml", "text/xml;q=0.1, application/json;q=0.2",
    "image/png, */*;q=0.1", "text/plain;charset=utf-8", "application/xml; q=0.3, text/csv",
    "APPLICATION/JSON", "application/json;q=0", ""])
def test_listing_accept_matches_swob(owner, names_container, accept):
    cont, _ = names_container
    want = Accept(accept).best_match(["text/plain", "application/json", "application/xml",
                                      "text/xml"])
    r = listing(owner, cont, headers={"Accept": accept})
    if want is None:
        assert r.status_code == 406
    else:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == want + "; charset=utf-8"


def test_listing_negotiation_failures(owner, names_container):
    cont, _ = names_container
    r = listing(owner, cont, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "Not Acceptable" in r.text
    for bad in ("garbage", "text/plain;q=1;q=0.5", "text/plain;q=high", "a/b/c"):
        r = listing(owner, cont, headers={"Accept": bad})
        assert r.status_code == 400 and r.text == "Invalid Accept header", bad
        with pytest.raises(ValueError):
            Accept(bad).best_match(["text/plain"])
    # format= wins over Accept; an unknown format is plain text
    r = listing(owner, cont, headers={"Accept": "image/png"}, format="xml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    r = listing(owner, cont, format="yaml")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    # HEAD answers with the type a GET would have
    r = req("HEAD", form_url(owner, cont), owner["token"], headers={"Accept": "text/xml"})
    assert r.status_code == 204 and r.headers["Content-Type"] == "text/xml; charset=utf-8"
    r = req("HEAD", owner["url"], owner["token"], params={"format": "json"})
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert req("HEAD", owner["url"], owner["token"],
               headers={"Accept": "image/png"}).status_code == 406


def raw_get(owner, cont, query):
    return req("GET", form_url(owner, cont) + "?" + query, owner["token"])


def test_listing_parameter_checks(owner, names_container):
    cont, names = names_container
    for p in ("marker", "end_marker", "prefix", "delimiter", "path", "format"):
        r = raw_get(owner, cont, "%s=%%FF%%FE" % p)
        assert r.status_code == 400, p
        assert r.text == '"%s" parameter not valid UTF-8' % p
    for p in ("marker", "prefix", "format"):
        r = req("GET", owner["url"] + "?" + p + "=%C3%28", owner["token"])
        assert r.status_code == 400 and r.text == '"%s" parameter not valid UTF-8' % p
    # surrogates and overlong forms are not UTF-8 either
    assert raw_get(owner, cont, "marker=%ED%A0%80").status_code == 400
    assert raw_get(owner, cont, "marker=%C0%AF").status_code == 400
    r = raw_get(owner, cont, "limit=10001")
    assert r.status_code == 412 and r.text == "Maximum limit is 10000"
    assert req("GET", owner["url"] + "?limit=99999999999", owner["token"]).status_code == 412
    # what is not a number is no limit at all, as in Swift
    assert len(raw_get(owner, cont, "limit=-1&format=json").json()) == len(names)
    assert len(raw_get(owner, cont, "limit=abc&format=json").json()) == len(names)
    assert raw_get(owner, cont, "limit=0").status_code == 204
    r = raw_get(owner, cont, "limit=10000&marker=%C3%BC&format=json")
    assert r.status_code == 200 and r.json()[0]["name"] == "\u00fc/x"


def model(names, prefix=None, delimiter=None, marker=None, end_marker=None, reverse=False,
          limit=10000):
    """Swift's container listing, written from its broker's rules."""
    ns = sorted(names, key=lambda s: s.encode(), reverse=reverse)
    key = lambda s: s.encode()
    out = []
    for n in ns:
        if prefix and not n.startswith(prefix):
            continue
        lo, hi = (end_marker, marker) if reverse else (marker, end_marker)
        if lo and key(n) <= key(lo) or hi and key(n) >= key(hi):
            continue
        if delimiter:
            i = n.find(delimiter, len(prefix or ""))
            if i >= 0:
                sub = n[:i + len(delimiter)]
                if sub == (end_marker if reverse else marker):
                    continue
                if not out or out[-1] != sub:
                    out.append(sub)
                continue
        out.append(n)
    return out[:limit]


@pytest.mark.parametrize("params", [
    {}, {"delimiter": "/"}, {"delimiter": "--"}, {"delimiter": "/", "prefix": "b/"},
    {"delimiter": "/", "prefix": "/"}, {"prefix": "c/"}, {"delimiter": "/", "reverse": "on"},
    {"delimiter": "--", "reverse": "true", "marker": "t"}, {"marker": "b/2"},
    {"delimiter": "/", "marker": "b/"}, {"delimiter": "/", "marker": "a", "end_marker": "d"},
    {"delimiter": "/", "limit": "3", "marker": "a"}, {"reverse": "1", "limit": "4"},
    {"delimiter": "\u65e5"}, {"delimiter": "/", "prefix": "z\u00e9"},
    {"delimiter": "\U0001f954"}, {"prefix": "\U0001f954"},
])
def test_listing_walk_matches_swift(owner, names_container, params):
    cont, names = names_container
    p = dict(params)
    got = listing(owner, cont, format="json", **p).json()
    got = [o.get("name", o.get("subdir")) for o in got]
    rev = p.pop("reverse", None) is not None
    lim = int(p.pop("limit", 10000))
    assert got == model(names, reverse=rev, limit=lim, **p)


def test_listing_path(owner):
    c = owner["conn"]
    cont = container(owner)
    for n in ("Swift", "Swift/", "Swift/a", "Swift/b/c", "Swift/d/", "Swift/e", "Swiftx",
              "Swift0", "other/x"):
        c.put_object(cont, n, b"p")
    lst = lambda **kw: [o["name"] for o in listing(owner, cont, format="json", **kw).json()]
    assert lst(path="Swift") == ["Swift/a", "Swift/d/", "Swift/e"]
    assert lst(path="Swift/") == ["Swift/a", "Swift/d/", "Swift/e"]
    assert lst(path="Swift/b") == ["Swift/b/c"]
    # a name ending in the delimiter counts as directly under the path
    assert lst(path="") == ["Swift", "Swift/", "Swift0", "Swiftx"]
    assert lst(path="Swift", prefix="other") == ["Swift/a", "Swift/d/", "Swift/e"]
    assert lst(path="nothing") == []


def test_no_inline_bytes_left_behind(cloud):
    """Last of the object tests on the shared instance (pytest runs the
    files in name order): after every overwrite, delete, copy, versioned
    write, bulk operation, FormPost and expiry above, each small object's
    inline bytes (store.h) went with its row; none is left that no object
    names."""
    assert objectlib.inline_orphans(cloud) == 0
    assert int(cloud.sql("SELECT COUNT(*) FROM obj_inline")[0][0]) > 0
