"""Image sharing (Glance v2 members) and who sees which image: the member
lifecycle (pending, accepted, rejected), Glance's default policies (the
owner adds and removes members, a member answers for itself), the
visibility and member_status list filters, community and public images,
the member schemas and the member quota."""

import pytest

from image_helpers import JSON, OCTET, PATCH, create_image


@pytest.fixture(scope="module")
def owner(cloud):
    return cloud.member()


@pytest.fixture(scope="module")
def other(cloud):
    return cloud.member()


@pytest.fixture(scope="module")
def third(cloud):
    return cloud.member()


def create(img, token, **body):
    return create_image(img, token, "share", **body).json()


def listed(img, token, **params):
    r = img("GET", "/v2/images", token=token, params=dict(limit=1000, **params), expect=200)
    return {i["id"] for i in r.json()["images"]}


def members_path(image_id, member=None):
    return "/v2/images/%s/members%s" % (image_id, "/" + member if member else "")


def test_member_schemas(img):
    s = img("GET", "/v2/schemas/member", expect=200).json()
    assert s["name"] == "member" and s["additionalProperties"] is False
    assert s["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    s = img("GET", "/v2/schemas/members", expect=200).json()
    assert s["name"] == "members"
    assert s["properties"]["members"]["items"]["name"] == "member"
    assert {l["rel"] for l in s["links"]} == {"first", "next", "describedby"}


def test_share_accept_reject_lifecycle(img, owner, other, third):
    tok, otok = owner["token"], other["token"]
    im = create(img, tok)
    assert im["visibility"] == "shared"
    path = "/v2/images/" + im["id"]
    img("PUT", path + "/file", token=tok, data=b"shared bytes", headers=OCTET, expect=204)
    oid = other["project"]["id"]

    # not a member yet: the image does not exist for the other project
    img("GET", path, token=otok, expect=404)
    assert im["id"] not in listed(img, otok, member_status="all")

    m = img("POST", members_path(im["id"]), token=tok, json={"member": oid}, expect=200).json()
    assert m["member_id"] == oid and m["image_id"] == im["id"] and m["status"] == "pending"
    assert m["schema"] == "/v2/schemas/member" and m["created_at"].endswith("Z")
    r = img("POST", members_path(im["id"]), token=tok, json={"member": oid}, expect=409,
            headers=JSON)
    assert "is duplicated for image" in r.json()["message"]

    # a pending member sees the image, and lists it only when it asks
    assert img("GET", path, token=otok, expect=200).json()["id"] == im["id"]
    assert im["id"] not in listed(img, otok)
    assert im["id"] in listed(img, otok, member_status="pending")
    assert im["id"] in listed(img, otok, member_status="all")
    assert im["id"] not in listed(img, otok, member_status="rejected")
    assert im["id"] not in listed(img, otok, visibility="shared")
    assert im["id"] in listed(img, otok, visibility="shared", member_status="pending")
    # a stranger sees nothing of it
    img("GET", path, token=third["token"], expect=404)
    img("GET", members_path(im["id"]), token=third["token"], expect=404)

    # the owner may not answer for the member, the member for itself
    img("PUT", members_path(im["id"], oid), token=tok, json={"status": "accepted"},
        expect=403)
    r = img("PUT", members_path(im["id"], oid), token=otok, json={"status": "maybe"},
            expect=400, headers=JSON)
    assert 'Status must be "pending", "accepted" or "rejected"' in r.json()["message"]
    img("PUT", members_path(im["id"], oid), token=otok, json={}, expect=400)
    m = img("PUT", members_path(im["id"], oid), token=otok, json={"status": "accepted"},
            expect=200).json()
    assert m["status"] == "accepted"
    assert im["id"] in listed(img, otok)
    assert im["id"] in listed(img, otok, visibility="shared")
    r = img("GET", path + "/file", token=otok, expect=200)
    assert r.content == b"shared bytes"

    # a member changes nothing else: neither the image nor its members
    img("PATCH", path, token=otok, headers=PATCH, expect=403,
        json=[{"op": "replace", "path": "/name", "value": "mine"}])
    img("DELETE", path, token=otok, expect=403)
    img("POST", members_path(im["id"]), token=otok, json={"member": third["project"]["id"]},
        expect=403)
    img("DELETE", members_path(im["id"], oid), token=otok, expect=403)

    # who sees which memberships
    img("POST", members_path(im["id"]), token=tok, json={"member": third["project"]["id"]},
        expect=200)
    ms = img("GET", members_path(im["id"]), token=tok, expect=200).json()
    assert ms["schema"] == "/v2/schemas/members"
    assert {x["member_id"] for x in ms["members"]} == {oid, third["project"]["id"]}
    ms = img("GET", members_path(im["id"]), token=otok, expect=200).json()["members"]
    assert [x["member_id"] for x in ms] == [oid]
    assert img("GET", members_path(im["id"], oid), token=otok, expect=200).json()["status"] == \
        "accepted"
    img("GET", members_path(im["id"], third["project"]["id"]), token=otok, expect=404)
    img("GET", members_path(im["id"], "nobody"), token=tok, expect=404)
    img("PUT", members_path(im["id"], "nobody"), token=tok, json={"status": "accepted"},
        expect=403)
    img("PUT", members_path(im["id"], "nobody"), json={"status": "accepted"}, expect=404)

    # rejected: still visible by id, listed only when asked for
    img("PUT", members_path(im["id"], oid), token=otok, json={"status": "rejected"},
        expect=200)
    img("GET", path, token=otok, expect=200)
    assert im["id"] not in listed(img, otok)
    assert im["id"] in listed(img, otok, member_status="rejected")

    # only shared images have members; a membership outlives a change of
    # visibility but gives nothing meanwhile
    img("PATCH", path, token=tok, headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/visibility", "value": "private"}])
    img("GET", path, token=otok, expect=404)
    r = img("GET", members_path(im["id"]), token=tok, expect=403, headers=JSON)
    assert "Only shared images have members" in r.json()["message"]
    img("GET", members_path(im["id"], oid), token=tok, expect=404)
    img("POST", members_path(im["id"]), token=tok, json={"member": "someone"}, expect=403)
    img("PATCH", path, token=tok, headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/visibility", "value": "shared"}])
    img("GET", path, token=otok, expect=200)

    # removed: gone for the member
    img("DELETE", members_path(im["id"], oid), token=tok, expect=204)
    img("DELETE", members_path(im["id"], oid), token=tok, expect=404)
    img("GET", path, token=otok, expect=404)
    assert im["id"] not in listed(img, otok, member_status="all")
    # deleting the image takes its members along
    img("DELETE", path, token=tok, expect=204)
    img("GET", members_path(im["id"]), token=tok, expect=404)


def test_member_request_errors(img, owner):
    tok = owner["token"]
    im = create(img, tok)
    p = members_path(im["id"])
    r = img("POST", p, token=tok, expect=400, headers=JSON)
    assert r.json()["message"].startswith("Body expected in request.")
    r = img("POST", p, token=tok, json={}, expect=400, headers=JSON)
    assert r.json()["message"].startswith("Member to be added not specified")
    r = img("POST", p, token=tok, json={"member": ""}, expect=400, headers=JSON)
    assert r.json()["message"].startswith("Member can't be empty")
    img("POST", p, token=tok, json={"member": 5}, expect=400)
    img("POST", p, token=tok, data="{not json", expect=400)
    # a body that is no object: Glance names the form each request takes
    r = img("POST", p, token=tok, json=[1], expect=400, headers=JSON)
    assert r.json()["message"].startswith('Expected a member in the form: {"member": '
                                          '"image_id"}')
    r = img("PUT", members_path(im["id"], "x"), token=tok, json=[1], expect=400, headers=JSON)
    assert r.json()["message"].startswith('Expected a status in the form: {"status": '
                                          '"status"}')
    img("POST", members_path("00000000-0000-0000-0000-000000000000"), token=tok,
        json={"member": "x"}, expect=404)
    # a private image has no members
    pv = create(img, tok, visibility="private")
    r = img("POST", members_path(pv["id"]), token=tok, json={"member": "x"}, expect=403,
            headers=JSON)
    assert r.json()["message"].startswith("Not allowed to create members for image")


def test_admin_shares_anyones_image(img, owner, other):
    im = create(img, owner["token"])
    oid = other["project"]["id"]
    img("POST", members_path(im["id"]), json={"member": oid}, expect=200)
    # the admin may also set a member's status
    m = img("PUT", members_path(im["id"], oid), json={"status": "accepted"}, expect=200).json()
    assert m["status"] == "accepted"
    assert im["id"] in listed(img, other["token"])


def test_member_quota(img, owner):
    tok = owner["token"]
    im = create(img, tok)
    for i in range(128):
        img("POST", members_path(im["id"]), token=tok, json={"member": "p%03d" % i},
            expect=200)
    r = img("POST", members_path(im["id"]), token=tok, json={"member": "one-more"},
            expect=413, headers=JSON)
    assert "Image member limit exceeded" in r.json()["message"]
    assert len(img("GET", members_path(im["id"]), token=tok).json()["members"]) == 128


def test_visibility_rules_in_lists(img, owner, other):
    tok, otok = owner["token"], other["token"]
    priv = create(img, tok, visibility="private")
    shared = create(img, tok)
    comm = create(img, tok, visibility="community")
    pub = create(img, "admin")
    img("PATCH", "/v2/images/" + pub["id"], headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/visibility", "value": "public"}])
    mine = listed(img, tok)
    assert {priv["id"], shared["id"], comm["id"], pub["id"]} <= mine
    theirs = listed(img, otok)
    # community images stay out of default lists but anyone may see them
    assert pub["id"] in theirs and not {priv["id"], shared["id"], comm["id"]} & theirs
    assert comm["id"] in listed(img, otok, visibility="community")
    assert img("GET", "/v2/images/" + comm["id"], token=otok, expect=200).json()["id"]
    assert comm["id"] in listed(img, otok, visibility="all")
    assert priv["id"] not in listed(img, otok, visibility="all")
    assert priv["id"] not in listed(img, otok, visibility="private")
    assert listed(img, tok, visibility="private") >= {priv["id"]}
    assert shared["id"] not in listed(img, tok, visibility="private")
    # the admin sees other projects' private images, community ones on request
    assert priv["id"] in listed(img, "admin")
    assert comm["id"] not in listed(img, "admin")
    assert comm["id"] in listed(img, "admin", visibility="community")
    img("GET", "/v2/images", token=otok, params={"member_status": "maybe"}, expect=400)
    img("GET", "/v2/images", token=otok, params={"visibility": "friends"}, expect=400)
    # only the admin publishes; a member may make its image community
    r = img("PATCH", "/v2/images/" + priv["id"], token=tok, headers=PATCH, expect=403,
            json=[{"op": "replace", "path": "/visibility", "value": "public"}],
            params=None)
    assert r.status_code == 403
    img("PATCH", "/v2/images/" + priv["id"], token=tok, headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/visibility", "value": "community"}])
