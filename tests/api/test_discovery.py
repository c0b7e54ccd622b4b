"""Version discovery at /identity and /identity/v3 (Keystone's root documents)."""

import re

from conftest import describe

MEDIA_TYPE = {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_version(cloud, v):
    assert re.match(r"^v3\.\d+$", v["id"]), v
    assert v["status"] == "stable", v
    assert ISO.match(v["updated"]), v
    selfs = [l["href"] for l in v["links"] if l["rel"] == "self"]
    assert selfs == [cloud.identity_url + "/v3/"], v
    assert MEDIA_TYPE in v["media-types"], v


def test_version_list(cloud):
    for path in ("", "/"):
        r = cloud.get(path, token=None)
        assert r.status_code == 300, describe(r)
        assert r.headers["Content-Type"].startswith("application/json"), describe(r)
        values = r.json()["versions"]["values"]
        v3 = [v for v in values if v["id"].startswith("v3")]
        assert len(v3) == 1, describe(r)
        check_version(cloud, v3[0])
        assert r.headers.get("Location") == cloud.identity_url + "/v3/", describe(r)


def test_version_document(cloud):
    listed = cloud.get("", token=None).json()["versions"]["values"]
    for path in ("/v3", "/v3/"):
        r = cloud.get(path, token=None)
        assert r.status_code == 200, describe(r)
        assert r.headers["Content-Type"].startswith("application/json"), describe(r)
        v = r.json()["version"]
        check_version(cloud, v)
        assert v["id"] in [x["id"] for x in listed]


def test_version_document_ignores_bad_token(cloud):
    # Discovery is public: even an invalid token does not matter.
    r = cloud.get("/v3", token="not-a-token")
    assert r.status_code == 200, describe(r)


def test_head_version_document(cloud):
    r = cloud.head("/v3", token=None)
    assert r.status_code == 200, describe(r)
    assert r.content == b""


def test_request_id_on_every_response(cloud):
    seen = set()
    for method, path, token in (("GET", "", None), ("GET", "/v3", None),
                                ("GET", "/v3/users", None),      # 401
                                ("GET", "/v3/users", "admin"),   # 200
                                ("GET", "/v3/no-such-thing", "admin")):
        r = cloud.request(method, path, token=token)
        rid = r.headers.get("x-openstack-request-id")
        assert rid and REQUEST_ID.match(rid), describe(r)
        seen.add(rid)
    assert len(seen) == 5, "request ids must differ: %s" % seen
