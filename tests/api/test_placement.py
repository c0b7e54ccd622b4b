"""Placement (/placement) through raw HTTP: version document and
microversion headers, resource providers, inventories, usages, resource
classes, traits, aggregates, allocations in every shape, allocation
candidates, Placement's error bodies, generation conflicts and capacity
that parallel writers never exceed."""

import concurrent.futures
import uuid

import pytest
import requests

from conftest import REFERENCE, describe, unique

LATEST = "1.39"

pytestmark = pytest.mark.skipif(bool(REFERENCE), reason="the reference Keystone has no placement")


@pytest.fixture(scope="module")
def pl(cloud):
    """pl(method, path, mv=LATEST, expect=None, **kw) against /placement."""
    def call(method, path, mv=LATEST, **kw):
        headers = kw.pop("headers", {})
        if mv:
            headers["OpenStack-API-Version"] = "placement " + mv
        return cloud.request(method, cloud.base_url + "/placement" + path, headers=headers,
                             **kw)
    return call


def new_rp(pl, name=None, **body):
    body.setdefault("name", name or unique("rp"))
    return pl("POST", "/resource_providers", json=body, expect=200).json()


def set_inv(pl, rp, inventories, gen=None):
    if gen is None:
        gen = pl("GET", "/resource_providers/%s" % rp["uuid"], expect=200).json()["generation"]
    return pl("PUT", "/resource_providers/%s/inventories" % rp["uuid"],
              json={"resource_provider_generation": gen, "inventories": inventories},
              expect=200).json()


def alloc_body(rp_uuid, resources, gen=None, project="p1", user="u1"):
    return {"allocations": {rp_uuid: {"resources": resources}}, "project_id": project,
            "user_id": user, "consumer_generation": gen, "consumer_type": "INSTANCE"}


def error(r, status, code=None):
    assert r.status_code == status, describe(r)
    errs = r.json()["errors"]
    assert len(errs) == 1 and errs[0]["status"] == status, describe(r)
    assert errs[0]["request_id"].startswith("req-") and errs[0]["title"], describe(r)
    if code:
        assert errs[0]["code"] == code, describe(r)
    return errs[0]


def test_version_document_and_headers(cloud, pl):
    r = requests.get(cloud.base_url + "/placement", timeout=10)
    assert r.status_code == 200, describe(r)
    v = r.json()["versions"][0]
    assert (v["id"], v["min_version"], v["max_version"], v["status"]) == \
        ("v1.0", "1.0", "1.39", "CURRENT")
    r = pl("GET", "/resource_providers", mv="latest", expect=200)
    assert r.headers["OpenStack-API-Version"] == "placement 1.39"
    assert "openstack-api-version" in r.headers["Vary"].lower()
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["Last-Modified"]
    r = pl("GET", "/resource_providers", mv=None, expect=200)
    assert r.headers["OpenStack-API-Version"] == "placement 1.0"
    assert "Cache-Control" not in r.headers
    error(pl("GET", "/resource_providers", mv="1.40"), 406)
    error(pl("GET", "/resource_providers", mv="2.0"), 406)
    error(pl("GET", "/resource_providers", mv="one"), 400)


def test_needs_token_and_admin(cloud, pl):
    r = pl("GET", "/resource_providers", token=None)
    assert r.status_code == 401 and r.json()["error"]["code"] == 401, describe(r)
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")
    m = cloud.member()
    error(pl("GET", "/resource_providers", token=m["token"]), 403)


def test_provider_lifecycle(pl):
    name = unique("rp")
    u = str(uuid.uuid4())
    r = pl("POST", "/resource_providers", mv="1.19", json={"name": name, "uuid": u},
           expect=201)
    assert r.headers["Location"].endswith("/placement/resource_providers/" + u)
    assert r.text == ""
    rp = pl("GET", "/resource_providers/" + u, expect=200).json()
    assert rp["name"] == name and rp["generation"] == 0
    assert rp["root_provider_uuid"] == u and rp["parent_provider_uuid"] is None
    rels = {l["rel"] for l in rp["links"]}
    assert {"self", "inventories", "usages", "aggregates", "traits", "allocations"} <= rels
    old = pl("GET", "/resource_providers/" + u, mv="1.0", expect=200).json()
    assert "root_provider_uuid" not in old
    assert {l["rel"] for l in old["links"]} == {"self", "inventories", "usages"}
    # listing and filters
    got = pl("GET", "/resource_providers", params={"name": name}, expect=200).json()
    assert [p["uuid"] for p in got["resource_providers"]] == [u]
    got = pl("GET", "/resource_providers", params={"uuid": u}, expect=200).json()
    assert [p["name"] for p in got["resource_providers"]] == [name]
    error(pl("GET", "/resource_providers", params={"bogus": "1"}), 400)
    # duplicates
    error(pl("POST", "/resource_providers", json={"name": name}), 409,
          "placement.duplicate_name")
    error(pl("POST", "/resource_providers", json={"name": unique("rp"), "uuid": u}), 409)
    # update
    new = unique("rp")
    rp = pl("PUT", "/resource_providers/" + u, json={"name": new}, expect=200).json()
    assert rp["name"] == new and rp["generation"] == 1
    # child
    child = new_rp(pl, parent_provider_uuid=u)
    assert child["root_provider_uuid"] == u and child["parent_provider_uuid"] == u
    tree = pl("GET", "/resource_providers", params={"in_tree": child["uuid"]},
              expect=200).json()
    assert {p["uuid"] for p in tree["resource_providers"]} == {u, child["uuid"]}
    error(pl("DELETE", "/resource_providers/" + u), 409,
          "placement.resource_provider.cannot_delete_parent")
    # re-parenting: refused before 1.37, allowed (without loops) from 1.37
    other = new_rp(pl)
    grand = new_rp(pl, parent_provider_uuid=child["uuid"])
    error(pl("PUT", "/resource_providers/" + child["uuid"], mv="1.36",
             json={"name": child["name"], "parent_provider_uuid": other["uuid"]}), 400)
    error(pl("PUT", "/resource_providers/" + child["uuid"],
             json={"name": child["name"], "parent_provider_uuid": grand["uuid"]}), 400)
    moved = pl("PUT", "/resource_providers/" + child["uuid"], expect=200,
               json={"name": child["name"], "parent_provider_uuid": other["uuid"]}).json()
    assert moved["root_provider_uuid"] == other["uuid"]
    g = pl("GET", "/resource_providers/" + grand["uuid"], expect=200).json()
    assert g["root_provider_uuid"] == other["uuid"]
    root = pl("PUT", "/resource_providers/" + child["uuid"], expect=200,
              json={"name": child["name"], "parent_provider_uuid": None}).json()
    assert root["root_provider_uuid"] == child["uuid"]
    assert root["parent_provider_uuid"] is None
    pl("DELETE", "/resource_providers/" + grand["uuid"], expect=204)
    pl("DELETE", "/resource_providers/" + other["uuid"], expect=204)
    pl("DELETE", "/resource_providers/" + child["uuid"], expect=204)
    pl("DELETE", "/resource_providers/" + u, expect=204)
    error(pl("GET", "/resource_providers/" + u), 404)
    error(pl("DELETE", "/resource_providers/" + u), 404)


def test_provider_bad_input(pl):
    error(pl("POST", "/resource_providers", data="{not json"), 400)
    error(pl("POST", "/resource_providers", json={}), 400)
    error(pl("POST", "/resource_providers", json={"name": 5}), 400)
    error(pl("POST", "/resource_providers", json={"name": "x", "extra": 1}), 400)
    error(pl("POST", "/resource_providers", json={"name": "x", "uuid": "nope"}), 400)
    error(pl("POST", "/resource_providers",
             json={"name": unique("rp"), "parent_provider_uuid": str(uuid.uuid4())}), 400)
    error(pl("POST", "/resource_providers", mv="1.13",
             json={"name": unique("rp"), "parent_provider_uuid": str(uuid.uuid4())}), 400)
    e = error(pl("GET", "/resource_providers/" + str(uuid.uuid4())), 404,
              "placement.undefined_code")
    assert e["detail"].startswith("The resource could not be found.")


def test_inventories(pl):
    rp = new_rp(pl)
    u = rp["uuid"]
    inv = set_inv(pl, rp, {"VCPU": {"total": 8, "allocation_ratio": 4.0},
                           "MEMORY_MB": {"total": 4096, "reserved": 512}})
    assert inv["resource_provider_generation"] == 1
    v = inv["inventories"]["VCPU"]
    assert v == {"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 2147483647,
                 "step_size": 1, "allocation_ratio": 4.0}
    assert inv["inventories"]["MEMORY_MB"]["reserved"] == 512
    # stale generation
    error(pl("PUT", "/resource_providers/%s/inventories" % u,
             json={"resource_provider_generation": 0, "inventories": {}}), 409,
          "placement.concurrent_update")
    # validation
    for bad in ({"VCPU": {"total": 0}}, {"VCPU": {"total": "8"}}, {"VCPU": {}},
                {"VCPU": {"total": 4, "reserved": 5}}, {"VCPU": {"total": 4, "color": 1}},
                {"NOT_A_CLASS": {"total": 1}}):
        error(pl("PUT", "/resource_providers/%s/inventories" % u,
                 json={"resource_provider_generation": 1, "inventories": bad}), 400)
    error(pl("PUT", "/resource_providers/%s/inventories" % u, data="[1,"), 400)
    # one class
    one = pl("GET", "/resource_providers/%s/inventories/VCPU" % u, expect=200).json()
    assert one["total"] == 8 and one["resource_provider_generation"] == 1
    one = pl("PUT", "/resource_providers/%s/inventories/DISK_GB" % u,
             json={"resource_provider_generation": 1, "total": 100, "step_size": 10},
             expect=200).json()
    assert one["step_size"] == 10 and one["resource_provider_generation"] == 2
    got = pl("GET", "/resource_providers/%s/inventories" % u, expect=200).json()
    assert set(got["inventories"]) == {"VCPU", "MEMORY_MB", "DISK_GB"}
    pl("DELETE", "/resource_providers/%s/inventories/DISK_GB" % u, expect=204)
    error(pl("DELETE", "/resource_providers/%s/inventories/DISK_GB" % u), 404)
    # POST adds one class
    r = pl("POST", "/resource_providers/%s/inventories" % u, expect=201,
           json={"resource_class": "DISK_GB", "total": 10, "resource_provider_generation": 3})
    assert r.headers["Location"].endswith("/inventories/DISK_GB")
    assert r.json()["total"] == 10 and r.json()["resource_provider_generation"] == 4
    error(pl("POST", "/resource_providers/%s/inventories" % u,
             json={"resource_class": "DISK_GB", "total": 10,
                   "resource_provider_generation": 4}), 409)
    pl("DELETE", "/resource_providers/%s/inventories/DISK_GB" % u, expect=204)
    error(pl("GET", "/resource_providers/%s/inventories/DISK_GB" % u), 404)
    # in use: the class cannot go
    c = str(uuid.uuid4())
    pl("PUT", "/allocations/" + c, json=alloc_body(u, {"VCPU": 2}), expect=204)
    e = error(pl("DELETE", "/resource_providers/%s/inventories" % u), 409,
              "placement.inventory.inuse")
    assert "VCPU" in e["detail"]
    error(pl("DELETE", "/resource_providers/%s/inventories/VCPU" % u), 409,
          "placement.inventory.inuse")
    error(pl("DELETE", "/resource_providers/" + u), 409)
    pl("DELETE", "/allocations/" + c, expect=204)
    pl("DELETE", "/resource_providers/%s/inventories" % u, expect=204)
    assert pl("GET", "/resource_providers/%s/inventories" % u,
              expect=200).json()["inventories"] == {}
    pl("DELETE", "/resource_providers/" + u, expect=204)


def test_resource_classes(pl):
    names = [c["name"] for c in
             pl("GET", "/resource_classes", expect=200).json()["resource_classes"]]
    for std in ("VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "IPV4_ADDRESS",
                "VGPU", "PCPU"):
        assert std in names
    name = "CUSTOM_" + uuid.uuid4().hex[:8].upper()
    r = pl("POST", "/resource_classes", json={"name": name}, expect=201)
    assert r.headers["Location"].endswith("/resource_classes/" + name)
    error(pl("POST", "/resource_classes", json={"name": name}), 409)
    error(pl("POST", "/resource_classes", json={"name": "lower"}), 400)
    error(pl("POST", "/resource_classes", json={"name": "VCPU"}), 400)
    got = pl("GET", "/resource_classes/" + name, expect=200).json()
    assert got["name"] == name and got["links"][0]["rel"] == "self"
    # 1.7: PUT makes sure it exists
    pl("PUT", "/resource_classes/" + name, expect=204)
    other = name + "_B"
    pl("PUT", "/resource_classes/" + other, expect=201)
    error(pl("PUT", "/resource_classes/NOPE"), 400)
    # 1.2: rename
    renamed = name + "_R"
    got = pl("PUT", "/resource_classes/" + name, mv="1.2", json={"name": renamed},
             expect=200).json()
    assert got["name"] == renamed
    error(pl("GET", "/resource_classes/" + name), 404)
    error(pl("DELETE", "/resource_classes/VCPU"), 400)
    # in use
    rp = new_rp(pl)
    set_inv(pl, rp, {renamed: {"total": 3}})
    error(pl("DELETE", "/resource_classes/" + renamed), 409)
    pl("DELETE", "/resource_providers/" + rp["uuid"], expect=204)
    pl("DELETE", "/resource_classes/" + renamed, expect=204)
    pl("DELETE", "/resource_classes/" + other, expect=204)
    error(pl("DELETE", "/resource_classes/" + other), 404)


def test_traits(pl):
    allt = pl("GET", "/traits", expect=200).json()["traits"]
    assert "STORAGE_DISK_SSD" in allt and "HW_CPU_X86_AVX2" in allt
    assert any(t.startswith("COMPUTE_") for t in allt)
    name = "CUSTOM_T_" + uuid.uuid4().hex[:8].upper()
    r = pl("PUT", "/traits/" + name, expect=201)
    assert r.headers["Location"].endswith("/traits/" + name)
    pl("PUT", "/traits/" + name, expect=204)
    pl("GET", "/traits/" + name, expect=204)
    error(pl("PUT", "/traits/lower_case"), 400)
    error(pl("GET", "/traits/CUSTOM_NOT_THERE_X"), 404)
    got = pl("GET", "/traits", params={"name": "startswith:CUSTOM_T_"}, expect=200).json()
    assert name in got["traits"] and all(t.startswith("CUSTOM_T_") for t in got["traits"])
    got = pl("GET", "/traits", params={"name": "in:%s,STORAGE_DISK_SSD" % name},
             expect=200).json()
    assert sorted(got["traits"]) == sorted([name, "STORAGE_DISK_SSD"])
    error(pl("GET", "/traits", params={"name": "bad"}), 400)
    error(pl("GET", "/traits", mv="1.5"), 404)
    # provider traits
    rp = new_rp(pl)
    u = rp["uuid"]
    got = pl("GET", "/resource_providers/%s/traits" % u, expect=200).json()
    assert got == {"traits": [], "resource_provider_generation": 0}
    got = pl("PUT", "/resource_providers/%s/traits" % u,
             json={"traits": [name, "STORAGE_DISK_SSD"], "resource_provider_generation": 0},
             expect=200).json()
    assert sorted(got["traits"]) == sorted([name, "STORAGE_DISK_SSD"])
    assert got["resource_provider_generation"] == 1
    error(pl("PUT", "/resource_providers/%s/traits" % u,
             json={"traits": [], "resource_provider_generation": 0}), 409,
          "placement.concurrent_update")
    error(pl("PUT", "/resource_providers/%s/traits" % u,
             json={"traits": ["CUSTOM_NO_SUCH_TRAIT_Z"], "resource_provider_generation": 1}),
          400)
    error(pl("PUT", "/resource_providers/%s/traits" % u, json={"traits": []}), 400)
    got = pl("GET", "/traits", params={"associated": "true", "name": "in:" + name},
             expect=200).json()
    assert got["traits"] == [name]
    error(pl("DELETE", "/traits/" + name), 409)
    error(pl("DELETE", "/traits/STORAGE_DISK_SSD"), 400)
    listed = pl("GET", "/resource_providers", params={"required": name},
                expect=200).json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [u]
    listed = pl("GET", "/resource_providers", params={"required": "!" + name},
                expect=200).json()["resource_providers"]
    assert u not in [p["uuid"] for p in listed]
    pl("DELETE", "/resource_providers/%s/traits" % u, expect=204)
    pl("DELETE", "/traits/" + name, expect=204)
    error(pl("DELETE", "/traits/" + name), 404)
    pl("DELETE", "/resource_providers/" + u, expect=204)


def test_aggregates(pl):
    rp = new_rp(pl)
    u = rp["uuid"]
    agg = str(uuid.uuid4())
    got = pl("GET", "/resource_providers/%s/aggregates" % u, mv="1.1", expect=200).json()
    assert got == {"aggregates": []}
    got = pl("PUT", "/resource_providers/%s/aggregates" % u, mv="1.1", json=[agg],
             expect=200).json()
    assert got == {"aggregates": [agg]}
    got = pl("GET", "/resource_providers/%s/aggregates" % u, expect=200).json()
    assert got["aggregates"] == [agg] and got["resource_provider_generation"] == 1
    error(pl("PUT", "/resource_providers/%s/aggregates" % u,
             json={"aggregates": [], "resource_provider_generation": 0}), 409,
          "placement.concurrent_update")
    error(pl("PUT", "/resource_providers/%s/aggregates" % u,
             json={"aggregates": ["not-a-uuid"], "resource_provider_generation": 1}), 400)
    listed = pl("GET", "/resource_providers", params={"member_of": "in:" + agg},
                expect=200).json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [u]
    error(pl("GET", "/resource_providers/%s/aggregates" % u, mv="1.0"), 404)
    pl("DELETE", "/resource_providers/" + u, expect=204)


def test_allocations_shapes_and_usages(pl):
    rp = new_rp(pl)
    u = rp["uuid"]
    set_inv(pl, rp, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024, "max_unit": 512},
                     "DISK_GB": {"total": 100, "step_size": 10}})
    project, user = unique("proj"), unique("user")
    c1, c2, c3 = (str(uuid.uuid4()) for _ in range(3))
    # 1.0 list form, no project
    pl("PUT", "/allocations/" + c1, mv="1.0", expect=204, json={
        "allocations": [{"resource_provider": {"uuid": u}, "resources": {"VCPU": 1}}]})
    # 1.8 list form with project/user, required
    error(pl("PUT", "/allocations/" + c2, mv="1.8", json={
        "allocations": [{"resource_provider": {"uuid": u}, "resources": {"VCPU": 1}}]}), 400)
    pl("PUT", "/allocations/" + c2, mv="1.8", expect=204, json={
        "allocations": [{"resource_provider": {"uuid": u}, "resources": {"VCPU": 1}}],
        "project_id": project, "user_id": user})
    # 1.12 dict form
    pl("PUT", "/allocations/" + c3, mv="1.12", expect=204, json={
        "allocations": {u: {"resources": {"MEMORY_MB": 256, "DISK_GB": 20}}},
        "project_id": project, "user_id": user})
    got = pl("GET", "/allocations/" + c3, mv="1.12", expect=200).json()
    assert got["allocations"][u]["resources"] == {"MEMORY_MB": 256, "DISK_GB": 20}
    assert got["project_id"] == project and got["user_id"] == user
    assert "consumer_generation" not in got
    got = pl("GET", "/allocations/" + c3, expect=200).json()
    assert got["consumer_generation"] == 0
    old = pl("GET", "/allocations/" + c3, mv="1.0", expect=200).json()
    assert "project_id" not in old
    # 1.28: generation required and checked
    error(pl("PUT", "/allocations/" + c3, mv="1.28", json={
        "allocations": {u: {"resources": {"MEMORY_MB": 128}}}, "project_id": project,
        "user_id": user}), 400)
    error(pl("PUT", "/allocations/" + c3, mv="1.28", json={
        "allocations": {u: {"resources": {"MEMORY_MB": 128}}}, "project_id": project,
        "user_id": user, "consumer_generation": None}), 409, "placement.concurrent_update")
    pl("PUT", "/allocations/" + c3, mv="1.28", expect=204, json={
        "allocations": {u: {"resources": {"MEMORY_MB": 128}}}, "project_id": project,
        "user_id": user, "consumer_generation": 0})
    assert pl("GET", "/allocations/" + c3, expect=200).json()["consumer_generation"] == 1
    # constraints and capacity
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(u, {"MEMORY_MB": 513})), 409)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(u, {"DISK_GB": 15})), 409)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(u, {"VCPU": 3})), 409)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(u, {"PCI_DEVICE": 1})), 409)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(str(uuid.uuid4()), {"VCPU": 1})), 400)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()),
             json=alloc_body(u, {"VCPU": 0})), 400)
    error(pl("PUT", "/allocations/" + str(uuid.uuid4()), data="nope"), 400)
    # usages
    us = pl("GET", "/resource_providers/%s/usages" % u, expect=200).json()
    assert us["usages"] == {"VCPU": 2, "MEMORY_MB": 128, "DISK_GB": 0}
    us = pl("GET", "/usages", mv="1.9", params={"project_id": project}, expect=200).json()
    assert us["usages"] == {"VCPU": 1, "MEMORY_MB": 128}
    us = pl("GET", "/usages", mv="1.9", params={"project_id": project, "user_id": "x"},
            expect=200).json()
    assert us["usages"] == {}
    error(pl("GET", "/usages", mv="1.9"), 400)
    error(pl("GET", "/usages", mv="1.8", params={"project_id": project}), 404)
    error(pl("GET", "/usages", mv="1.9", params={"project_id": project,
                                                 "consumer_type": "all"}), 400)
    # 1.38: grouped by consumer type (these consumers were made untyped)
    us = pl("GET", "/usages", params={"project_id": project}, expect=200).json()
    assert us["usages"] == {"unknown": {"consumer_count": 2, "VCPU": 1, "MEMORY_MB": 128}}
    us = pl("GET", "/usages", params={"project_id": project, "consumer_type": "all"},
            expect=200).json()
    assert us["usages"] == {"all": {"consumer_count": 2, "VCPU": 1, "MEMORY_MB": 128}}
    us = pl("GET", "/usages", params={"project_id": project, "consumer_type": "INSTANCE"},
            expect=200).json()
    assert us["usages"] == {}
    # the provider's allocations
    ra = pl("GET", "/resource_providers/%s/allocations" % u, expect=200).json()
    assert set(ra["allocations"]) == {c1, c2, c3}
    assert ra["allocations"][c1]["resources"] == {"VCPU": 1}
    # POST /allocations: both or none
    c4, c5 = str(uuid.uuid4()), str(uuid.uuid4())
    body = {c4: alloc_body(u, {"VCPU": 2}), c5: alloc_body(u, {"VCPU": 2})}
    error(pl("POST", "/allocations", json=body), 409)     # 2 of 4 are used
    assert pl("GET", "/allocations/" + c4, expect=200).json()["allocations"] == {}
    body = {c4: alloc_body(u, {"VCPU": 1}), c3: alloc_body(u, {"VCPU": 1}, gen=1)}
    body[c3]["project_id"], body[c3]["user_id"] = project, user
    pl("POST", "/allocations", json=body, expect=204)
    assert pl("GET", "/allocations/" + c3, expect=200).json()["allocations"][u][
        "resources"] == {"VCPU": 1}
    # delete
    for c in (c1, c2, c3, c4):
        pl("DELETE", "/allocations/" + c, expect=204)
    error(pl("DELETE", "/allocations/" + c1), 404)
    assert pl("GET", "/resource_providers/%s/usages" % u,
              expect=200).json()["usages"]["VCPU"] == 0
    pl("DELETE", "/resource_providers/" + u, expect=204)


def test_allocation_candidates(pl):
    agg = str(uuid.uuid4())
    small, big = new_rp(pl, unique("small")), new_rp(pl, unique("big"))
    set_inv(pl, small, {"VCPU": {"total": 1}, "MEMORY_MB": {"total": 512}})
    set_inv(pl, big, {"VCPU": {"total": 16}, "MEMORY_MB": {"total": 8192},
                      "DISK_GB": {"total": 50}})
    pl("PUT", "/resource_providers/%s/traits" % big["uuid"],
       json={"traits": ["STORAGE_DISK_SSD"], "resource_provider_generation": 1}, expect=200)
    pl("PUT", "/resource_providers/%s/aggregates" % big["uuid"],
       json={"aggregates": [agg], "resource_provider_generation": 2}, expect=200)

    def cands(mv=LATEST, **params):
        return pl("GET", "/allocation_candidates", mv=mv, params=params, expect=200).json()

    got = cands(resources="VCPU:2,MEMORY_MB:1024")
    ids = [list(a["allocations"])[0] for a in got["allocation_requests"]]
    assert big["uuid"] in ids and small["uuid"] not in ids
    s = got["provider_summaries"][big["uuid"]]
    assert s["resources"]["VCPU"] == {"capacity": 16, "used": 0}
    assert s["resources"]["DISK_GB"] == {"capacity": 50, "used": 0}   # 1.27: all classes
    assert s["traits"] == ["STORAGE_DISK_SSD"]
    assert s["root_provider_uuid"] == big["uuid"]
    req = [a for a in got["allocation_requests"] if big["uuid"] in a["allocations"]][0]
    assert req["allocations"][big["uuid"]]["resources"] == {"VCPU": 2, "MEMORY_MB": 1024}
    assert req["mappings"] == {"": [big["uuid"]]}
    old = cands(mv="1.10", resources="VCPU:1")
    r0 = [a for a in old["allocation_requests"]
          if a["allocations"][0]["resource_provider"]["uuid"] == big["uuid"]][0]
    assert r0["allocations"][0]["resources"] == {"VCPU": 1}
    assert "traits" not in old["provider_summaries"][big["uuid"]]
    assert "DISK_GB" not in old["provider_summaries"][big["uuid"]]["resources"]
    both = cands(resources="VCPU:1")
    assert {small["uuid"], big["uuid"]} <= set(both["provider_summaries"])
    one = cands(resources="VCPU:1", required="STORAGE_DISK_SSD")
    assert big["uuid"] in one["provider_summaries"] and \
        small["uuid"] not in one["provider_summaries"]
    no = cands(resources="VCPU:1", required="!STORAGE_DISK_SSD")
    assert big["uuid"] not in no["provider_summaries"]
    mem = cands(resources="VCPU:1", member_of="in:" + agg)
    assert list(mem["provider_summaries"]) == [big["uuid"]]
    lim = cands(resources="VCPU:1", limit="1")
    assert len(lim["allocation_requests"]) == 1
    error(pl("GET", "/allocation_candidates"), 400)
    error(pl("GET", "/allocation_candidates", params={"resources": "VCPU"}), 400)
    error(pl("GET", "/allocation_candidates", params={"resources": "NOPE:1"}), 400)
    error(pl("GET", "/allocation_candidates", params={"resources": "VCPU:1", "x": "1"}), 400)
    error(pl("GET", "/allocation_candidates", mv="1.9", params={"resources": "VCPU:1"}), 404)
    # what is used is gone
    pl("PUT", "/allocations/" + str(uuid.uuid4()), json=alloc_body(small["uuid"], {"VCPU": 1}),
       expect=204)
    got = cands(resources="VCPU:1,MEMORY_MB:1")
    assert small["uuid"] not in got["provider_summaries"]


def test_parallel_allocations_never_overcommit(pl):
    rp = new_rp(pl)
    u = rp["uuid"]
    set_inv(pl, rp, {"VCPU": {"total": 10}})

    def claim(i):
        return pl("PUT", "/allocations/" + str(uuid.uuid4()),
                  json=alloc_body(u, {"VCPU": 1})).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
        codes = list(ex.map(claim, range(40)))
    assert codes.count(204) == 10, codes
    assert set(codes) <= {204, 409}, codes
    us = pl("GET", "/resource_providers/%s/usages" % u, expect=200).json()
    assert us["usages"]["VCPU"] == 10
    allocs = pl("GET", "/resource_providers/%s/allocations" % u, expect=200).json()
    assert len(allocs["allocations"]) == 10
