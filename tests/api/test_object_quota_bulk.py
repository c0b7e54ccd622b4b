"""Object storage: account and container quotas, legacy versioned writes
(X-Versions-Location / X-History-Location), bulk delete and archive
extraction (bulk middleware), and their /info entries. Swift's own behaviour
(swift/common/middleware/{account,container}_quotas.py, versioned_writes/
legacy.py, bulk.py) is the reference for every status and text checked."""

import bz2
import gzip
import hashlib
import io
import os
import tarfile

import pytest
import requests

from conftest import unique
from objectlib import container, member, req, status_of


@pytest.fixture(scope="module")
def owner(cloud):
    return member(cloud)


@pytest.fixture(scope="module")
def other(cloud):
    """A member of another project: no rights in owner's account but ACLs."""
    return member(cloud)


@pytest.fixture(scope="module")
def reseller(cloud):
    """A user whose only role is ResellerAdmin (on a project of its own)."""
    return member(cloud, role="ResellerAdmin")


def versioned(m, mode="X-Versions-Location"):
    """An archive container and a container keeping its versions there (mode
    X-Versions-Location: stack, X-History-Location: history): (archive, container)."""
    vc = container(m)
    return vc, container(m, **{mode: vc})


def files_under(cloud, account):
    """inode -> path of every object file of the account on disk."""
    out = {}
    root = os.path.join(cloud.data_dir, "objects", account)
    for d, _, files in os.walk(root):
        for f in files:
            if not f.startswith("."):
                p = os.path.join(d, f)
                out[os.stat(p).st_ino] = p
    return out


# ---- /info ---------------------------------------------------------------------------


def test_info_lists_the_middlewares(cloud):
    info = requests.get(cloud.base_url + "/object-store/info", timeout=10).json()
    assert info["account_quotas"] == {} and info["container_quotas"] == {}
    assert sorted(info["versioned_writes"]["allowed_flags"]) == \
        ["x-history-location", "x-versions-location"]
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert info["bulk_upload"] == {"max_containers_per_extraction": 10000,
                                   "max_failed_extractions": 1000}


# ---- account quotas ------------------------------------------------------------------


@pytest.fixture
def quota_account(cloud, reseller):
    """A fresh member account with a 20-byte quota set by the reseller admin."""
    m = member(cloud)
    r = req("POST", m["url"], reseller["token"], headers={"X-Account-Meta-Quota-Bytes": "20"})
    assert r.status_code == 204, r.text
    return m


def test_only_the_reseller_admin_sets_account_quotas(owner, reseller):
    url, tok = owner["url"], owner["token"]
    for h in ({"X-Account-Meta-Quota-Bytes": "100"}, {"X-Account-Meta-Quota-Bytes": ""},
              {"X-Remove-Account-Meta-Quota-Bytes": "x"}):
        assert req("POST", url, tok, headers=h).status_code == 403
    assert "x-account-meta-quota-bytes" not in owner["conn"].head_account()
    # other metadata is still the owner's to set
    assert req("POST", url, tok, headers={"X-Account-Meta-Color": "red"}).status_code == 204
    # the reseller admin owns every account: sets, reads, changes, removes
    assert req("POST", url, reseller["token"],
               headers={"X-Account-Meta-Quota-Bytes": "25"}).status_code == 204
    r = req("HEAD", url, reseller["token"])
    assert r.status_code == 204 and r.headers["X-Account-Meta-Quota-Bytes"] == "25"
    assert owner["conn"].head_account()["x-account-meta-quota-bytes"] == "25"
    r = req("POST", url, reseller["token"], headers={"X-Account-Meta-Quota-Bytes": "2x"})
    assert r.status_code == 400
    r = req("POST", url, reseller["token"], headers={"X-Account-Meta-Quota-Bytes": "-1"})
    assert r.status_code == 400
    assert owner["conn"].head_account()["x-account-meta-quota-bytes"] == "25"
    assert req("POST", url, reseller["token"],
               headers={"X-Account-Meta-Quota-Bytes": ""}).status_code == 204
    assert "x-account-meta-quota-bytes" not in owner["conn"].head_account()
    assert req("POST", url, reseller["token"],
               headers={"X-Account-Meta-Quota-Bytes": "20"}).status_code == 204
    assert req("POST", url, reseller["token"],
               headers={"X-Remove-Account-Meta-Quota-Bytes": "x"}).status_code == 204
    assert "x-account-meta-quota-bytes" not in owner["conn"].head_account()
    assert owner["conn"].head_account()["x-account-meta-color"] == "red"


def test_reseller_role_is_not_an_owner_of_non_auth_paths(cloud, reseller):
    assert req("GET", cloud.base_url + "/object-store/v1/NOTAUTH_x",
               reseller["token"]).status_code == 403


def test_account_quota_refuses_uploads_past_it(quota_account, reseller):
    m = quota_account
    c = container(m)
    base = "%s/%s" % (m["url"], c)
    assert req("PUT", base + "/a", m["token"], data=b"x" * 15).status_code == 201
    r = req("PUT", base + "/b", m["token"], data=b"y" * 6)
    assert r.status_code == 413 and r.text == "Upload exceeds quota."
    assert req("HEAD", base + "/b", m["token"]).status_code == 404
    # chunked: no length up front, refused once the body is in, nothing kept
    r = req("PUT", base + "/chunked", m["token"], data=iter([b"z" * 3, b"z" * 3]))
    assert r.status_code == 413 and r.text == "Upload exceeds quota."
    assert req("HEAD", base + "/chunked", m["token"]).status_code == 404
    # a copy counts with the source's size
    r = req("PUT", base + "/copy", m["token"], headers={"X-Copy-From": "%s/a" % c,
                                                        "Content-Length": "0"})
    assert r.status_code == 413 and r.text == "Upload exceeds quota."
    r = req("COPY", base + "/a", m["token"], headers={"Destination": "%s/copy2" % c})
    assert r.status_code == 413
    assert int(m["conn"].head_account()["x-account-bytes-used"]) == 15
    # up to the quota exactly is fine
    assert req("PUT", base + "/c", m["token"], data=b"y" * 5).status_code == 201
    # the reseller admin is not held to it
    assert req("PUT", base + "/r", reseller["token"], data=b"r" * 10).status_code == 201
    # deleting frees room; lifting the quota lifts the limit
    m["conn"].delete_object(c, "r")
    assert req("PUT", base + "/b", m["token"], data=b"y").status_code == 413
    m["conn"].delete_object(c, "a")
    assert req("PUT", base + "/b", m["token"], data=b"y" * 6).status_code == 201
    assert req("POST", m["url"], reseller["token"],
               headers={"X-Remove-Account-Meta-Quota-Bytes": "x"}).status_code == 204
    assert req("PUT", base + "/big", m["token"], data=b"b" * 1000).status_code == 201


def test_account_quota_refuses_before_reading_the_body(quota_account):
    m = quota_account
    c = container(m)
    # a declared length past the quota is refused at once (no 100-continue
    # needed): the connection is answered before the body is sent
    r = req("PUT", "%s/%s/big" % (m["url"], c), m["token"], data=b"q" * 100000)
    assert r.status_code == 413
    assert int(m["conn"].head_account()["x-account-bytes-used"]) == 0


# ---- container quotas ----------------------------------------------------------------


def test_container_quota_values_are_checked(owner):
    url, tok = owner["url"], owner["token"]
    name = unique("c")
    for hdr, text in (("X-Container-Meta-Quota-Bytes", "Invalid bytes quota."),
                      ("X-Container-Meta-Quota-Count", "Invalid count quota.")):
        for bad in ("abc", "-1", "1.5", "3 "):
            r = req("PUT", "%s/%s" % (url, name), tok, headers={hdr: bad})
            assert r.status_code == 400 and r.text == text, (hdr, bad, r.text)
    assert req("HEAD", "%s/%s" % (url, name), tok).status_code == 404
    assert req("PUT", "%s/%s" % (url, name), tok,
               headers={"X-Container-Meta-Quota-Bytes": "10"}).status_code == 201
    r = req("POST", "%s/%s" % (url, name), tok, headers={"X-Container-Meta-Quota-Count": "x"})
    assert r.status_code == 400 and r.text == "Invalid count quota."
    h = owner["conn"].head_container(name)
    assert h["x-container-meta-quota-bytes"] == "10" and "x-container-meta-quota-count" not in h
    # an empty value removes it
    assert req("POST", "%s/%s" % (url, name), tok,
               headers={"X-Container-Meta-Quota-Bytes": ""}).status_code == 204
    assert "x-container-meta-quota-bytes" not in owner["conn"].head_container(name)


def test_container_quotas_are_enforced(owner):
    c = owner["conn"]
    name = container(owner, **{"X-Container-Meta-Quota-Bytes": "10",
                               "X-Container-Meta-Quota-Count": "2"})
    base = "%s/%s" % (owner["url"], name)
    r = req("PUT", base + "/big", owner["token"], data=b"x" * 11)
    assert r.status_code == 413 and r.text == "Upload exceeds quota."
    c.put_object(name, "a", b"x" * 5)
    c.put_object(name, "b", b"x" * 5)
    r = req("PUT", base + "/c", owner["token"], data=b"")
    assert r.status_code == 413 and r.text == "Upload exceeds quota."
    assert status_of(c.put_object, name, "c", b"") == 413
    # copies into it count too
    other = container(owner)
    c.put_object(other, "src", b"s")
    r = req("COPY", "%s/%s/src" % (owner["url"], other), owner["token"],
            headers={"Destination": "%s/copied" % name})
    assert r.status_code == 413
    h = c.head_container(name)
    assert h["x-container-object-count"] == "2" and h["x-container-bytes-used"] == "10"
    # raising the quota lets it in
    c.post_container(name, {"X-Container-Meta-Quota-Count": "3"})
    r = req("COPY", "%s/%s/src" % (owner["url"], other), owner["token"],
            headers={"Destination": "%s/copied" % name})
    assert r.status_code == 413     # 11 bytes > 10
    c.post_container(name, {"X-Container-Meta-Quota-Bytes": "11"})
    r = req("COPY", "%s/%s/src" % (owner["url"], other), owner["token"],
            headers={"Destination": "%s/copied" % name})
    assert r.status_code == 201


def test_container_quota_binds_acl_writers_too(owner, other):
    name = container(owner, **{"X-Container-Meta-Quota-Count": "0",
                               "X-Container-Write": "%s:*" % other["project"]["id"]})
    url = "%s/%s/o" % (owner["url"], name)
    r = req("PUT", url, other["token"], data=b"1")
    assert r.status_code == 413
    # and someone who may not write gets 403, not a hint about the quota
    assert req("PUT", url, data=b"1").status_code == 401


# ---- versioned writes ----------------------------------------------------------------


def versions_of(conn, vc, name):
    prefix = "%03x%s/" % (len(name.encode()), name)
    return [o for o in conn.get_container(vc, prefix=prefix)[1]]


def test_versions_location_stack_mode(cloud, owner):
    c = owner["conn"]
    vc, name = versioned(owner)
    h = c.head_container(name)
    assert h["x-versions-location"] == vc and "x-history-location" not in h
    datas = [os.urandom(1024), os.urandom(1000), b"third"]
    for d in datas:
        c.put_object(name, "obj", d)
    assert c.get_object(name, "obj")[1] == b"third"
    vs = versions_of(c, vc, "obj")
    assert len(vs) == 2 and all(v["name"].startswith("003obj/") for v in vs)
    ts = [v["name"].split("/", 1)[1] for v in vs]
    assert ts == sorted(ts) and all(len(t) == 16 and t[10] == "." for t in ts)
    assert [v["bytes"] for v in vs] == [1024, 1000]
    assert c.get_object(vc, vs[0]["name"])[1] == datas[0]
    # each DELETE brings back the newest archived version
    c.delete_object(name, "obj")
    assert c.get_object(name, "obj")[1] == datas[1]
    assert len(versions_of(c, vc, "obj")) == 1
    c.delete_object(name, "obj")
    assert c.get_object(name, "obj")[1] == datas[0]
    h = c.head_container(name)
    assert (h["x-container-object-count"], h["x-container-bytes-used"]) == ("1", "1024")
    c.delete_object(name, "obj")
    assert status_of(c.get_object, name, "obj") == 404
    assert status_of(c.delete_object, name, "obj") == 404
    assert c.head_container(vc)["x-container-object-count"] == "0"
    # POST does not make a version
    c.put_object(name, "p", b"1")
    c.post_object(name, "p", {"X-Object-Meta-A": "b"})
    assert versions_of(c, vc, "p") == []


def test_versions_are_hard_links(cloud, owner):
    c = owner["conn"]
    vc, name = versioned(owner)
    first = b"first version" * 2000     # a file, not kept inline (store.h)
    c.put_object(name, "o", first)
    before = files_under(cloud, owner["account"])
    c.put_object(name, "o", b"second")
    after = files_under(cloud, owner["account"])
    archived = [p for ino, p in after.items() if ino in before]
    # the first version's inode lives on, now under the versions container
    assert len(archived) >= 1
    assert any(open(p, "rb").read() == first for p in archived)
    # and a restore links it back instead of copying
    ino = [i for i, p in after.items() if open(p, "rb").read() == first][0]
    c.delete_object(name, "o")
    assert ino in files_under(cloud, owner["account"])
    assert c.get_object(name, "o")[1] == first


def test_history_location_mode(owner):
    c = owner["conn"]
    vc, name = versioned(owner, "X-History-Location")
    h = c.head_container(name)
    assert h["x-history-location"] == vc and "x-versions-location" not in h
    c.put_object(name, "doc", b"v1")
    c.put_object(name, "doc", b"v2")
    c.delete_object(name, "doc")
    assert status_of(c.get_object, name, "doc") == 404
    vs = versions_of(c, vc, "doc")
    assert [v["content_type"] for v in vs][-1] == \
        "application/x-deleted;swift_versions_deleted=1"
    assert [c.get_object(vc, v["name"])[1] for v in vs[:2]] == [b"v1", b"v2"]
    assert vs[2]["bytes"] == 0
    # deleting what is not there: 404, after a marker as Swift writes one
    assert status_of(c.delete_object, name, "doc") == 404
    assert len(versions_of(c, vc, "doc")) == 4


def test_stack_mode_honours_delete_markers(owner):
    c = owner["conn"]
    vc, name = versioned(owner, "X-History-Location")
    c.put_object(name, "m", b"one")
    c.delete_object(name, "m")              # archives "one", then a marker
    c.post_container(name, {"X-Versions-Location": vc})
    assert c.head_container(name)["x-versions-location"] == vc
    # the object is gone and the marker is on top: the version under it
    # comes back and the marker goes
    c.delete_object(name, "m")
    assert c.get_object(name, "m")[1] == b"one"
    assert [v["content_type"] for v in versions_of(c, vc, "m")] == []


def test_versions_headers_checked(owner):
    url, tok = owner["url"], owner["token"]
    name = unique("c")
    r = req("PUT", "%s/%s" % (url, name), tok,
            headers={"X-Versions-Location": "a", "X-History-Location": "b"})
    assert r.status_code == 400
    assert r.text == "Only one of x-versions-location or x-history-location may be specified"
    r = req("PUT", "%s/%s" % (url, name), tok, headers={"X-Versions-Location": "a/b"})
    assert r.status_code == 412 and r.text == "Container name cannot contain slashes"
    assert req("HEAD", "%s/%s" % (url, name), tok).status_code == 404
    # an empty one of the two gives way
    assert req("PUT", "%s/%s" % (url, name), tok,
               headers={"X-Versions-Location": "", "X-History-Location": "h"}
               ).status_code == 201
    assert owner["conn"].head_container(name)["x-history-location"] == "h"
    assert req("POST", "%s/%s" % (url, name), tok,
               headers={"X-Remove-History-Location": "x"}).status_code == 204
    h = owner["conn"].head_container(name)
    assert "x-history-location" not in h and "x-versions-location" not in h
    assert req("POST", "%s/%s" % (url, name), tok,
               headers={"X-Versions-Location": "v"}).status_code == 204
    assert owner["conn"].head_container(name)["x-versions-location"] == "v"
    assert req("POST", "%s/%s" % (url, name), tok,
               headers={"X-Versions-Location": ""}).status_code == 204
    assert "x-versions-location" not in owner["conn"].head_container(name)
    # not metadata: never listed as X-Container-Meta-*
    assert not [k for k in owner["conn"].head_container(name) if "meta-versions" in k]


def test_versions_container_must_exist(owner):
    c = owner["conn"]
    vc = unique("missing")
    name = container(owner, **{"X-Versions-Location": vc})
    c.put_object(name, "o", b"first")       # nothing to archive yet
    r = req("PUT", "%s/%s/o" % (owner["url"], name), owner["token"], data=b"second")
    assert r.status_code == 412
    assert c.get_object(name, "o")[1] == b"first"
    # chunked uploads too, before their body is read: the 412 goes out and
    # the connection closes, so a client still sending chunks may see its
    # pipe broken instead of the status; either way the old version stays
    try:
        r = req("PUT", "%s/%s/o" % (owner["url"], name), owner["token"],
                data=iter([b"a", b"b"]))
        assert r.status_code == 412
    except requests.exceptions.ConnectionError:
        pass
    assert c.get_object(name, "o")[1] == b"first"
    # stack mode DELETE without its archive container is a plain delete
    c.delete_object(name, "o")
    assert status_of(c.get_object, name, "o") == 404
    # history mode needs it to delete
    hname = container(owner, **{"X-History-Location": vc})
    c.put_object(hname, "o", b"x")
    assert status_of(c.delete_object, hname, "o") == 412
    assert c.get_object(hname, "o")[1] == b"x"
    # once it exists, it works
    c.put_container(vc)
    c.put_object(name, "o", b"1")
    c.put_object(name, "o", b"2")
    assert len(versions_of(c, vc, "o")) == 1


def test_versions_container_must_be_writable(owner, other):
    c = owner["conn"]
    vc = container(owner)
    name = container(owner, **{"X-Versions-Location": vc,
                               "X-Container-Write": "%s:*" % other["project"]["id"],
                               "X-Container-Read": "%s:*" % other["project"]["id"]})
    url = "%s/%s/o" % (owner["url"], name)
    assert req("PUT", url, other["token"], data=b"1").status_code == 201
    assert req("PUT", url, other["token"], data=b"2").status_code == 403
    assert c.get_object(name, "o")[1] == b"1"
    c.post_container(vc, {"X-Container-Write": "%s:*" % other["project"]["id"]})
    assert req("PUT", url, other["token"], data=b"2").status_code == 201
    assert req("DELETE", url, other["token"]).status_code == 204
    assert c.get_object(name, "o")[1] == b"1"


def test_copy_into_versioned_container_archives(owner):
    c = owner["conn"]
    vc, name = versioned(owner)
    c.put_object(name, "o", b"old")
    c.put_object(name, "src", b"new")
    c.copy_object(name, "src", destination="/%s/o" % name)
    assert c.get_object(name, "o")[1] == b"new"
    vs = versions_of(c, vc, "o")
    assert len(vs) == 1 and c.get_object(vc, vs[0]["name"])[1] == b"old"


# ---- bulk delete ---------------------------------------------------------------------


def bulk_delete(m, body, token=None, method="DELETE", accept="application/json",
                headers=None):
    h = {"Content-Type": "text/plain"}
    if accept:
        h["Accept"] = accept
    h.update(headers or {})
    return req(method, m["url"] + "?bulk-delete", m["token"] if token is None else token,
               data=body, headers=h)


def test_bulk_delete_objects_then_containers(owner):
    c = owner["conn"]
    c1, c2 = container(owner), container(owner)
    c.put_object(c1, "o1", b"1")
    c.put_object(c1, "o 2", b"2")
    c.put_object(c1, "dir/o3", b"3")
    body = "%s\n/%s/o1\n%s/o%%202\n/%s/dir/o3/\n%s/dir/o3\n%s/nope\n%s\nmissing-%s\n\n" % (
        c1, c1, c1, c1, c1, c1, c2, c1)
    r = bulk_delete(owner, body)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    out = r.json()
    assert out == {"Response Status": "200 OK", "Response Body": "", "Number Deleted": 5,
                   "Number Not Found": 3, "Errors": []}, out
    assert list(out) == ["Response Status", "Response Body", "Number Deleted",
                         "Number Not Found", "Errors"]
    for n in (c1, c2):
        assert status_of(c.head_container, n) == 404


def test_bulk_delete_by_post_and_text_answer(owner):
    c = owner["conn"]
    name = container(owner)
    c.put_object(name, "o", b"1")
    r = bulk_delete(owner, "%s/o\n%s" % (name, name), method="POST", accept=None)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == ("Number Deleted: 2\nNumber Not Found: 0\nResponse Body: \n"
                      "Response Status: 200 OK\nErrors:\n")


def test_bulk_delete_failures_per_item(owner, other):
    c = owner["conn"]
    full = container(owner)
    c.put_object(full, "keep", b"1")
    c.put_object(full, "a&b", b"1")
    r = bulk_delete(owner, "%s\n%s/a&b" % (full, full), accept="application/xml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    assert r.text == ("<delete>\n<number_deleted>1</number_deleted>\n"
                      "<number_not_found>0</number_not_found>\n"
                      "<response_body></response_body>\n"
                      "<response_status>400 Bad Request</response_status>\n<errors>\n"
                      "<object><name>%s</name><status>409 Conflict</status></object>\n"
                      "</errors>\n</delete>\n" % full)
    assert c.get_object(full, "keep")[1] == b"1"
    # another project's member: 403 for each item, nothing goes
    r = bulk_delete(owner, "%s/keep\n%s" % (full, full), token=other["token"])
    out = r.json()
    assert out["Response Status"] == "400 Bad Request"
    assert out["Errors"] == [["%s/keep" % full, "403 Forbidden"], [full, "403 Forbidden"]]
    # no token at all: 401 for each
    r = req("DELETE", owner["url"] + "?bulk-delete", data="%s/keep" % full,
            headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["Errors"] == [["%s/keep" % full, "401 Unauthorized"]]
    assert c.get_object(full, "keep")[1] == b"1"
    # a writer by ACL may delete objects but not the container
    c.post_container(full, {"X-Container-Write": "%s:*" % other["project"]["id"]})
    r = bulk_delete(owner, "%s/keep\n%s" % (full, full), token=other["token"])
    assert r.json()["Number Deleted"] == 1
    assert r.json()["Errors"] == [[full, "403 Forbidden"]]
    # invalid UTF-8 and NUL in names: 412
    r = bulk_delete(owner, "%s/%%FF\n%s/a%%00b" % (full, full))
    assert [e[1] for e in r.json()["Errors"]] == ["412 Precondition Failed"] * 2


def test_bulk_delete_refusals(owner):
    name = container(owner)
    owner["conn"].put_object(name, "o", b"1")
    r = bulk_delete(owner, "%s/o" % name, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["Response Status"] == "406 Not Acceptable"
    r = bulk_delete(owner, "%s/o" % name, accept="image/png")
    assert r.status_code == 200
    assert r.text.endswith("Response Status: 406 Not Acceptable\nErrors:\n")
    # swob matches media types as written (case and all) and refuses a malformed header
    for accept in ("Application/JSON", "application/json;q", "text/plain;q=x"):
        r = bulk_delete(owner, "%s/o" % name, accept=accept)
        assert r.status_code == 200
        assert r.text.endswith("Response Status: 406 Not Acceptable\nErrors:\n"), accept
    r = bulk_delete(owner, "\n".join(["%s/o" % name] * 10001))
    assert r.json()["Response Status"] == "413 Request Entity Too Large"
    assert r.json()["Response Body"] == "Maximum Bulk Deletes: 10000 per request"
    r = bulk_delete(owner, "x" * 3000)
    assert r.json()["Response Status"] == "400 Bad Request"
    assert r.json()["Response Body"] == "Invalid File Name"
    r = bulk_delete(owner, "\n\n")
    assert r.json()["Response Status"] == "400 Bad Request"
    assert r.json()["Response Body"] == "Invalid bulk delete."
    assert owner["conn"].get_object(name, "o")[1] == b"1"
    # accounts themselves are not deleted
    assert req("DELETE", owner["url"], owner["token"]).status_code == 405


def test_bulk_delete_many_streams(owner):
    """A body far past the control-plane ceiling (114688 bytes) streams."""
    name = container(owner)
    for i in range(3):
        owner["conn"].put_object(name, "o%d" % i, b"x")
    lines = ["%s/o%d" % (name, i) for i in range(3)]
    lines += ["%s/%s" % (name, "n" * 900 + str(i)) for i in range(200)]
    r = bulk_delete(owner, "\n".join(lines))
    out = r.json()
    assert (out["Number Deleted"], out["Number Not Found"]) == (3, 200), out
    # on a container path (bounded body) it works the same
    owner["conn"].put_object(name, "p", b"x")
    r = req("POST", "%s/%s?bulk-delete" % (owner["url"], name), owner["token"],
            data="%s/p" % name, headers={"Accept": "application/json"})
    assert r.json()["Number Deleted"] == 1


def test_bulk_delete_in_versioned_container_restores(owner):
    c = owner["conn"]
    vc, name = versioned(owner)
    c.put_object(name, "o", b"1")
    c.put_object(name, "o", b"2")
    r = bulk_delete(owner, "%s/o" % name)
    assert r.json()["Number Deleted"] == 1
    assert c.get_object(name, "o")[1] == b"1"


# ---- archive extraction --------------------------------------------------------------


def make_tar(members, mode="w", fmt=tarfile.PAX_FORMAT):
    """members: (name, bytes or None for a directory, pax dict or None)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode, format=fmt) as t:
        for name, data, pax in members:
            ti = tarfile.TarInfo(name)
            if pax:
                ti.pax_headers = pax
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def extract(m, path, data, kind="tar", token=None, accept="application/json", headers=None):
    h = {}
    if accept:
        h["Accept"] = accept
    h.update(headers or {})
    url = m["url"] + (("/" + path) if path else "") + "?extract-archive=" + kind
    return req("PUT", url, m["token"] if token is None else token, data=data, headers=h)


def test_extract_into_account(owner):
    c = owner["conn"]
    c1, c2 = unique("x"), unique("x")
    big = os.urandom(3 * 1024 * 1024 + 17)
    data = make_tar([(c1, None, None), (c1 + "/a.txt", b"hello", None),
                     (c1 + "/sub/b", b"", None), ("./" + c2 + "/big", big, None),
                     ("top-level-file", b"ignored", None)])
    r = extract(owner, "", data)
    assert r.status_code == 200, r.text
    assert r.json() == {"Response Status": "201 Created", "Response Body": "",
                        "Number Files Created": 3, "Errors": []}
    h, body = c.get_object(c1, "a.txt")
    assert body == b"hello" and h["etag"] == hashlib.md5(b"hello").hexdigest()
    assert h["content-type"] == "application/octet-stream"
    assert c.get_object(c1, "sub/b")[1] == b""
    assert c.get_object(c2, "big")[1] == big
    names = [x["name"] for x in c.get_account()[1]]
    assert c1 in names and c2 in names and "top-level-file" not in names


def test_extract_text_answer_and_compressed_kinds(owner):
    c = owner["conn"]
    name = container(owner)
    raw = make_tar([("d/one", b"1", None), ("two", b"22", None)])
    r = extract(owner, name, gzip.compress(raw), kind="tar.gz", accept=None)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert r.text == ("Number Files Created: 2\nResponse Body: \n"
                      "Response Status: 201 Created\nErrors:\n")
    assert c.get_object(name, "d/one")[1] == b"1" and c.get_object(name, "two")[1] == b"22"
    r = extract(owner, name + "/pre/fix/", bz2.compress(raw), kind=".TAR.BZ2.")
    assert r.json()["Number Files Created"] == 2, r.text
    assert c.get_object(name, "pre/fix/d/one")[1] == b"1"
    # GNU long names and pax paths over 100 bytes
    long = "l" * 150 + "/" + "m" * 120
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        r = extract(owner, name, make_tar([(long, b"L", None)], fmt=fmt))
        assert r.json()["Number Files Created"] == 1
        assert c.get_object(name, long)[1] == b"L"
    r = extract(owner, name, raw, accept="text/xml")
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.text.startswith("<extract>\n<number_files_created>2</number_files_created>\n")


def test_extract_metadata_from_pax_and_request(owner):
    c = owner["conn"]
    name = container(owner)
    data = make_tar([("f.txt", b"meta", {"SCHILY.xattr.user.mime_type": "text/x-test",
                                         "SCHILY.xattr.user.meta.Color": "blue",
                                         "LIBARCHIVE.xattr.user.meta.shape": "round"})])
    r = extract(owner, name, data, headers={"X-Object-Meta-From": "request",
                                            "X-Delete-After": "3600"})
    assert r.json()["Number Files Created"] == 1
    h = c.head_object(name, "f.txt")
    assert h["content-type"] == "text/x-test"
    assert (h["x-object-meta-color"], h["x-object-meta-shape"], h["x-object-meta-from"]) == \
        ("blue", "round", "request")
    assert "x-delete-at" in h
    # bad request headers fail every file
    r = extract(owner, name, data, headers={"X-Delete-At": "1"})
    assert r.json()["Errors"] == [[name + "/f.txt", "400 Bad Request"]]
    # a pax value that is not UTF-8 fails its member, as its PUT would, rather than vanish
    bad = make_tar([("g.txt", b"x", {"SCHILY.xattr.user.meta.Bad": "\udcff"})])
    r = extract(owner, name, bad)
    assert r.json()["Errors"] == [[name + "/g.txt", "400 Bad Request"]], r.text
    assert status_of(c.head_object, name, "g.txt") == 404


def test_extract_refusals_and_invalid_archives(owner):
    c = owner["conn"]
    name = container(owner)
    r = extract(owner, name, b"x", kind="zip")
    assert r.status_code == 400 and r.text == "Unsupported archive format"
    good = make_tar([("a", b"A" * 700, None), ("b", b"B" * 700, None)])
    noisy = make_tar([("a", os.urandom(70000), None), ("b", os.urandom(70000), None)])
    # garbage: nothing is created
    r = extract(owner, name, b"\x01" * 4096)
    out = r.json()
    assert r.status_code == 200 and out["Response Status"] == "400 Bad Request"
    assert out["Response Body"].startswith("Invalid Tar File: ") and out["Number Files Created"] == 0
    r = extract(owner, name, b"")
    assert r.json()["Response Body"] == "Invalid Tar File: empty file"
    r = extract(owner, name, good, kind="tar.gz")
    assert r.json()["Response Body"].startswith("Invalid Tar File: ")
    r = extract(owner, name, good, kind="tar.bz2")
    assert r.json()["Response Body"] == "Invalid Tar File: not a bzip2 file"
    assert c.get_container(name)[1] == []
    # a damaged second header: the first member stays, the rest is refused
    bad = bytearray(good)
    bad[1536 + 10] ^= 0xff
    out = extract(owner, name, bytes(bad)).json()
    assert out["Response Body"] == "Invalid Tar File: bad checksum"
    assert out["Number Files Created"] == 1
    assert [o["name"] for o in c.get_container(name)[1]] == ["a"]
    c.delete_object(name, "a")
    # a gzip stream cut inside the second member: the first is whole and
    # kept, the cut one is nowhere
    gz = gzip.compress(noisy)
    cut = gz[:len(gz) - 40000]
    out = extract(owner, name, cut, kind="tar.gz").json()
    assert out["Response Status"] == "400 Bad Request"
    assert out["Response Body"].startswith("Invalid Tar File: ")
    listed = [o["name"] for o in c.get_container(name)[1]]
    assert "b" not in listed
    # a plain tar cut inside a member
    out = extract(owner, name, good[:1536 + 512 + 100]).json()
    assert out["Response Body"] == "Invalid Tar File: unexpected end of data"
    assert "b" not in [o["name"] for o in c.get_container(name)[1]]
    # an archive with no files at all
    out = extract(owner, "", make_tar([("dironly", None, None)])).json()
    assert out["Response Body"] == "Invalid Tar File: No Valid Files"


def test_extract_per_file_failures(owner, other):
    c = owner["conn"]
    name = container(owner, **{"X-Container-Meta-Quota-Count": "1"})
    data = make_tar([("f1", b"1", None), ("f2", b"2", None), ("o" * 1100, b"3", None)])
    out = extract(owner, name, data).json()
    assert out["Number Files Created"] == 1
    assert out["Response Status"] == "400 Bad Request"
    # quotas come before the name check, as in Swift's pipeline
    assert out["Errors"] == [[name + "/f2", "413 Request Entity Too Large"],
                             [name + "/" + "o" * 1100, "413 Request Entity Too Large"]]
    c.post_container(name, {"X-Container-Meta-Quota-Count": "10"})
    out = extract(owner, name, make_tar([("o" * 1100, b"3", None)])).json()
    assert out["Errors"] == [[name + "/" + "o" * 1100, "400 Bad Request"]]
    # someone with no rights in the account: container and file refused
    target = unique("x")
    out = extract(owner, "", make_tar([(target + "/f", b"1", None)]),
                  token=other["token"]).json()
    assert out["Errors"] == [["/v1/%s/%s" % (owner["account"], target), "403 Forbidden"],
                             [target + "/f", "403 Forbidden"]]
    assert status_of(c.head_container, target) == 404
    # anonymous: stopped with 401
    r = req("PUT", owner["url"] + "?extract-archive=tar",
            data=make_tar([(target + "/f", b"1", None)]), headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["Response Status"] == "401 Unauthorized"
    # an ACL writer may extract into the container it may write
    c.post_container(name, {"X-Container-Write": "%s:*" % other["project"]["id"],
                            "X-Container-Meta-Quota-Count": ""})
    out = extract(owner, name, make_tar([("w", b"w", None)]), token=other["token"]).json()
    assert out["Number Files Created"] == 1 and out["Errors"] == []
    # invalid UTF-8 in a member name: 412
    out = extract(owner, name, make_tar([("bad\udcff", b"x", None)],
                                        fmt=tarfile.GNU_FORMAT)).json()
    assert out["Errors"][0][1] == "412 Precondition Failed"


def test_extract_into_versioned_container_archives(owner):
    c = owner["conn"]
    vc, name = versioned(owner)
    c.put_object(name, "f", b"before")
    out = extract(owner, name, make_tar([("f", b"after", None)])).json()
    assert out["Number Files Created"] == 1
    assert c.get_object(name, "f")[1] == b"after"
    vs = versions_of(c, vc, "f")
    assert len(vs) == 1 and c.get_object(vc, vs[0]["name"])[1] == b"before"


def test_extract_streams_a_large_archive(owner):
    """Many members and a large one, fed chunked: parsed as it arrives."""
    name = container(owner)
    members = [("m%03d" % i, os.urandom(i * 37), None) for i in range(60)]
    members.append(("large", os.urandom(9 * 1024 * 1024), None))
    data = make_tar(members)

    def chunks():
        for i in range(0, len(data), 65536 + 7):
            yield data[i:i + 65536 + 7]

    r = extract(owner, name, chunks())
    assert r.json()["Number Files Created"] == 61, r.text
    c = owner["conn"]
    assert c.get_object(name, "large")[1] == members[-1][1]
    assert c.get_object(name, "m059")[1] == members[59][1]


def test_concurrent_overwrites_keep_every_version(owner):
    """Racing overwrites of one versioned object: each replaced version is
    archived exactly once, none is lost or duplicated."""
    import concurrent.futures
    c = owner["conn"]
    vc, name = versioned(owner)
    url = "%s/%s/o" % (owner["url"], name)
    bodies = [("version %d" % i).encode() for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda b: req("PUT", url, owner["token"], data=b).status_code,
                              bodies))
    assert codes == [201] * len(bodies)
    kept = [c.get_object(vc, v["name"])[1] for v in versions_of(c, vc, "o")]
    kept.append(c.get_object(name, "o")[1])
    assert sorted(kept) == sorted(bodies)
