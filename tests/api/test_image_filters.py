"""Glance's list filters and the JSON-patch details: extra-property
filters, the "in:" operator, size ranges and exact sizes, created_at
comparisons, os_hidden and protected, several tags, several sort keys
with paging, the errors Glance gives for each bad parameter, draft-4
patches (the v2.0 media type), JSON-pointer checks, reserved attributes
and the trailing-slash paths Glance does not route."""

import time

import pytest

from conftest import unique
from image_helpers import JSON, OCTET, PATCH, PATCH20


@pytest.fixture(scope="module")
def family(img):
    """Five images under one tag: sizes 10..50, names a-0..a-4, every
    other one with os_distro=debian, the last hidden, the third
    protected."""
    tag = unique("fam")
    ims = []
    for i in range(5):
        body = {"name": "%s-%d" % (tag, i), "tags": [tag, "t%d" % (i % 2)],
                "disk_format": "raw" if i % 2 else "qcow2", "container_format": "bare",
                "hw_idx": str(i)}
        if i % 2 == 0:
            body["os_distro"] = "debian"
        if i == 4:
            body["os_hidden"] = True
        if i == 2:
            body["protected"] = True
        im = img("POST", "/v2/images", json=body, expect=201).json()
        img("PUT", "/v2/images/%s/file" % im["id"], data=b"x" * (10 * (i + 1)),
            headers=OCTET, expect=204)
        ims.append(im["id"])
        time.sleep(0.01)
    yield tag, ims
    img("PATCH", "/v2/images/" + ims[2], headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/protected", "value": False}])


def ids(img, **params):
    r = img("GET", "/v2/images", params=dict(limit=1000, **params), expect=200)
    return [i["id"] for i in r.json()["images"]]


def test_property_filters(img, family):
    tag, ims = family
    assert set(ids(img, tag=tag, os_distro="debian")) == {ims[0], ims[2]}
    assert ids(img, tag=tag, hw_idx="3") == [ims[3]]
    assert ids(img, tag=tag, hw_idx="3", os_distro="debian") == []
    assert ids(img, tag=tag, no_such_prop="1") == []
    # several tag parameters: every one must be on the image
    assert set(ids(img, tag=[tag, "t1"])) == {ims[1], ims[3]}
    assert ids(img, tag=[tag, "t1", "t0"]) == []


def test_size_filters(img, family):
    tag, ims = family
    assert ids(img, tag=tag, size="20") == [ims[1]]
    assert set(ids(img, tag=tag, size_min="20", size_max="30")) == {ims[1], ims[2]}
    assert set(ids(img, tag=tag, size_min="35")) == {ims[3]}
    assert ids(img, tag=tag, size="lots") == []
    r = img("GET", "/v2/images", params={"size_min": "big"}, expect=400, headers=JSON)
    assert "non-numeric" in r.json()["message"]
    assert set(ids(img, tag=tag, min_ram="0")) == set(ims[:4])


def test_in_operator_and_columns(img, family):
    tag, ims = family
    names = "in:%s-1,%s-3" % (tag, tag)
    assert set(ids(img, name=names)) == {ims[1], ims[3]}
    assert set(ids(img, id="in:%s,%s" % (ims[0], ims[2]))) == {ims[0], ims[2]}
    assert set(ids(img, tag=tag, disk_format="in:qcow2")) == {ims[0], ims[2]}
    assert ids(img, tag=tag, name="eq:%s-0" % tag) == [ims[0]]
    assert set(ids(img, tag=tag, status="in:active,queued")) == set(ims[:4])
    r = img("GET", "/v2/images", params={"name": "like:x"}, expect=400, headers=JSON)
    assert "Unable to filter by unknown operator 'like'" in r.json()["message"]
    # quoted values may hold commas
    im = img("POST", "/v2/images", json={"name": "a,b %s" % tag}, expect=201).json()
    assert ids(img, name='in:"a,b %s",zzz' % tag) == [im["id"]]
    img("GET", "/v2/images", params={"name": 'in:"open'}, expect=400)


def test_time_filters(img, family):
    tag, ims = family
    first = img("GET", "/v2/images/" + ims[0], expect=200).json()["created_at"]
    assert set(ids(img, tag=tag, created_at="gte:" + first)) == set(ims[:4])
    assert ids(img, tag=tag, created_at="lt:" + first) == []
    assert set(ids(img, tag=tag, updated_at="lte:2999-01-01T00:00:00Z")) == set(ims[:4])
    img("GET", "/v2/images", params={"created_at": "gt:yesterday"}, expect=400)
    img("GET", "/v2/images", params={"created_at": "near:" + first}, expect=400)
    r = img("GET", "/v2/images", params={"changes-since": first}, expect=400, headers=JSON)
    assert "no longer available on v2" in r.json()["message"]


def test_hidden_and_protected(img, family):
    tag, ims = family
    assert ims[4] not in ids(img, tag=tag)
    assert ids(img, tag=tag, os_hidden="true") == [ims[4]]
    assert ids(img, tag=tag, os_hidden="True") == [ims[4]]
    assert ids(img, tag=tag, protected="true") == [ims[2]]
    assert ims[2] not in ids(img, tag=tag, protected="false")
    img("GET", "/v2/images", params={"os_hidden": "maybe"}, expect=400)
    img("GET", "/v2/images", params={"protected": "True"}, expect=400)
    # a hidden image is still there by id
    assert img("GET", "/v2/images/" + ims[4], expect=200).json()["os_hidden"] is True


def test_sorting_and_paging(img, family):
    tag, ims = family
    # sizes grow with the index: desc by size is reverse order
    assert ids(img, tag=tag, sort_key="size") == ims[3::-1]
    assert ids(img, tag=tag, sort="disk_format:asc,size:desc") == \
        [ims[2], ims[0], ims[3], ims[1]]
    assert ids(img, tag=tag, sort_key=["disk_format", "size"], sort_dir=["asc", "asc"]) == \
        [ims[0], ims[2], ims[1], ims[3]]
    # paging through a two-key order gives every image once, in order
    want = ids(img, tag=tag, sort="disk_format:desc,name:asc")
    seen, url = [], "/v2/images?tag=%s&sort=disk_format:desc,name:asc&limit=1" % tag
    while url:
        r = img("GET", url, expect=200).json()
        seen += [i["id"] for i in r["images"]]
        url = r.get("next")
        assert len(seen) <= 5
    assert seen == want and len(seen) == 4
    for params in [{"sort": "size:sideways"}, {"sort": "min_ram"},
                   {"sort": "size", "sort_key": "name"},
                   {"sort_key": ["name", "size", "id"], "sort_dir": ["asc", "desc"]}]:
        img("GET", "/v2/images", params=params, expect=400)


def test_patch_draft4_and_pointer_checks(img):
    im = img("POST", "/v2/images", json={"name": unique("p4"), "color": "red"},
             expect=201).json()
    p = "/v2/images/" + im["id"]
    r = img("PATCH", p, headers=PATCH20, expect=200,
            json=[{"replace": "/name", "value": "renamed"}, {"add": "/size_hint",
                                                             "value": "big"},
                  {"remove": "/color"}]).json()
    assert r["name"] == "renamed" and r["size_hint"] == "big" and "color" not in r
    # draft 4: adding what exists is a conflict (v2.1 replaces it)
    img("PATCH", p, headers=PATCH20, expect=409, json=[{"add": "/size_hint", "value": "x"}])
    img("PATCH", p, headers=PATCH, expect=200,
        json=[{"op": "add", "path": "/size_hint", "value": "x"}])
    img("PATCH", p, headers=PATCH20, expect=400, json=[{"value": "x"}])
    img("PATCH", p, headers=PATCH20, expect=400,
        json=[{"add": "/a", "replace": "/a", "value": "x"}])
    for ptr in ["name", "/a//b", "/a/", "/a~2", "/a/b"]:
        img("PATCH", p, headers=PATCH, expect=400,
            json=[{"op": "replace", "path": ptr, "value": "x"}])
    # "~1" is "/" and "~0" is "~" in a pointer
    r = img("PATCH", p, headers=PATCH, expect=200,
            json=[{"op": "add", "path": "/a~1b~0c", "value": "v"}]).json()
    assert r["a/b~c"] == "v"
    img("PATCH", p, headers=PATCH, expect=400, json=[[]])
    img("PATCH", p, headers=PATCH, expect=400, json={"op": "add"})
    r = img("PATCH", p, headers={"Content-Type": "application/json"}, expect=415,
            json=[{"op": "add", "path": "/x", "value": "y"}])
    assert "openstack-images-v2.1-json-patch" in r.headers["Accept-Patch"]
    # a bad patch is refused before the image is looked up
    img("PATCH", "/v2/images/00000000-0000-0000-0000-000000000000", headers=PATCH,
        expect=400, json=[{"op": "move", "path": "/a", "value": "x"}])
    img("PATCH", "/v2/images/00000000-0000-0000-0000-000000000000", headers=PATCH,
        expect=404, json=[{"op": "add", "path": "/a", "value": "x"}])
    # an owner change is the admin's
    r = img("PATCH", p, headers=PATCH, expect=200,
            json=[{"op": "replace", "path": "/owner", "value": "someone"}]).json()
    assert r["owner"] == "someone"


def test_reserved_and_read_only(img):
    r = img("POST", "/v2/images", json={"os_glance_x": "1"}, expect=403, headers=JSON)
    assert r.json()["message"].startswith("Attribute 'os_glance_x' is reserved.")
    img("POST", "/v2/images", json={"locations": []}, expect=403)
    img("POST", "/v2/images", json={"self": "x"}, expect=403)
    img("POST", "/v2/images", json={"k" * 256: "v"}, expect=400)
    im = img("POST", "/v2/images", json={"name": unique("ro")}, expect=201).json()
    p = "/v2/images/" + im["id"]
    for attr in ["/os_glance_import_task", "/deleted", "/id", "/checksum"]:
        img("PATCH", p, headers=PATCH, expect=403,
            json=[{"op": "add", "path": attr, "value": "x"}])
    img("PATCH", p, headers=PATCH, expect=403, json=[{"op": "remove", "path": "/id"}])


def test_not_owner_and_trailing_slash(img, cloud):
    m = cloud.member()
    im = img("POST", "/v2/images", json={"name": unique("pub")}, expect=201).json()
    img("PATCH", "/v2/images/" + im["id"], headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/visibility", "value": "public"}])
    r = img("PATCH", "/v2/images/" + im["id"], token=m["token"], headers=PATCH, expect=403,
            json=[{"op": "replace", "path": "/name", "value": "x"}], )
    assert "You do not own this image" in r.text
    # Glance routes no path with a trailing slash
    img("GET", "/v2/images/", expect=404)
    img("DELETE", "/v2/images/", expect=404)
    img("DELETE", "/v2/images", expect=405)
    img("GET", "/v2/images/%s/" % im["id"], expect=404)
