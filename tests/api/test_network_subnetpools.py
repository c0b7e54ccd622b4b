"""Neutron subnet pools: create with compacted prefixes and default
bounds, show/list/update/delete, bounds and prefix validation, subnets
taken from a pool (first free block, a requested cidr, prefixlen, the
default pool per IP version), the per-project quota, in-use conflicts,
visibility, and concurrent allocations never sharing a block."""

import concurrent.futures
import ipaddress

import pytest

from test_network import create, fault, net


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("netpools")


def pool(cl, token="admin", expect=201, **attrs):
    r = net(cl, "/v2.0/subnetpools", "POST", json={"subnetpool": attrs}, token=token)
    if expect != 201:
        return r
    assert r.status_code == 201, r.text
    return r.json()["subnetpool"]


def subnet(cl, token="admin", **attrs):
    return net(cl, "/v2.0/subnets", "POST", json={"subnet": attrs}, token=token)


def test_create_show_update_delete(cl):
    p = pool(cl, name="p1", prefixes=["10.30.0.0/17", "10.30.128.0/17", "10.30.7.0/24"])
    assert p["prefixes"] == ["10.30.0.0/16"] and p["ip_version"] == 4
    assert (p["min_prefixlen"], p["max_prefixlen"], p["default_prefixlen"]) == (8, 32, 8)
    assert p["shared"] is False and p["is_default"] is False and p["default_quota"] is None
    assert p["address_scope_id"] is None and p["revision_number"] == 1
    assert net(cl, "/v2.0/subnetpools/" + p["id"], expect=200).json()["subnetpool"] == p
    names = [x["name"] for x in net(cl, "/v2.0/subnetpools?name=p1",
                                    expect=200).json()["subnetpools"]]
    assert names == ["p1"]
    u = net(cl, "/v2.0/subnetpools/" + p["id"], "PUT", expect=200, json={"subnetpool": {
        "name": "p1b", "prefixes": ["10.30.0.0/16", "10.31.0.0/16"],
        "default_prefixlen": 24}}).json()["subnetpool"]
    assert u["name"] == "p1b" and u["prefixes"] == ["10.30.0.0/15"]
    assert u["default_prefixlen"] == 24 and u["revision_number"] == 2
    fault(net(cl, "/v2.0/subnetpools/" + p["id"], "PUT", json={"subnetpool": {
        "prefixes": ["10.30.0.0/16"]}}), 400, "IllegalSubnetPoolPrefixUpdate")
    fault(net(cl, "/v2.0/subnetpools/" + p["id"], "PUT", json={"subnetpool": {
        "shared": True}}), 400, "HTTPBadRequest")
    net(cl, "/v2.0/subnetpools/" + p["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/subnetpools/" + p["id"]), 404, "SubnetPoolNotFound")


@pytest.mark.parametrize("attrs,type_", [
    ({"name": "x"}, "HTTPBadRequest"),
    ({"prefixes": ["10.0.0.0/8"]}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": []}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": ["10.0.0.0/33"]}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16},
     "IllegalSubnetPoolPrefixBounds"),
    ({"name": "x", "prefixes": ["10.0.0.0/8"], "default_prefixlen": 4},
     "IllegalSubnetPoolPrefixBounds"),
    ({"name": "x", "prefixes": ["10.0.0.0/8"], "max_prefixlen": "abc"}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": ["10.0.0.0/8"], "default_quota": -1}, "HTTPBadRequest"),
    ({"name": "x", "prefixes": ["10.0.0.0/8"], "bogus": 1}, "HTTPBadRequest"),
])
def test_create_validation(cl, attrs, type_):
    fault(pool(cl, expect=400, **attrs), 400, type_)


def test_subnets_from_a_pool(cl):
    p = pool(cl, name="alloc", prefixes=["10.40.0.0/16"], default_prefixlen=24,
             min_prefixlen=20, max_prefixlen=28)
    n = create(cl, name="pooled")
    base = {"network_id": n["id"], "ip_version": 4, "subnetpool_id": p["id"]}
    s1 = subnet(cl, **base).json()["subnet"]
    assert s1["cidr"] == "10.40.0.0/24" and s1["subnetpool_id"] == p["id"]
    assert s1["gateway_ip"] == "10.40.0.1"
    s2 = subnet(cl, prefixlen=26, **base).json()["subnet"]
    assert s2["cidr"] == "10.40.1.0/26"
    s3 = subnet(cl, **base).json()["subnet"]
    assert s3["cidr"] == "10.40.2.0/24"
    s4 = subnet(cl, cidr="10.40.1.64/26", **base).json()["subnet"]
    assert s4["cidr"] == "10.40.1.64/26"
    fault(subnet(cl, cidr="10.40.0.128/25", **base), 400, "SubnetAllocationError")
    fault(subnet(cl, cidr="10.41.0.0/24", **base), 400, "SubnetAllocationError")
    fault(subnet(cl, prefixlen=30, **base), 400, "IllegalSubnetPoolPrefixBounds")
    fault(subnet(cl, prefixlen=24, cidr="10.40.9.0/24", **base), 400, "BadRequest")
    fault(subnet(cl, network_id=n["id"], ip_version=6, subnetpool_id=p["id"]), 400,
          "BadRequest")
    fault(net(cl, "/v2.0/subnetpools/" + p["id"], "DELETE"), 409, "SubnetPoolInUse")
    for s in (s1, s2, s3, s4):
        net(cl, "/v2.0/subnets/" + s["id"], "DELETE", expect=204)
    net(cl, "/v2.0/subnetpools/" + p["id"], "DELETE", expect=204)


def test_full_pool_and_quota(cl):
    p = pool(cl, name="small", prefixes=["10.50.0.0/23"], default_prefixlen=24,
             default_quota=256)
    n = create(cl, name="quota")
    base = {"network_id": n["id"], "ip_version": 4, "subnetpool_id": p["id"]}
    subnet(cl, **base).json()["subnet"]
    fault(subnet(cl, **base), 409, "SubnetPoolQuotaExceeded")
    net(cl, "/v2.0/subnetpools/" + p["id"], "PUT", expect=200,
        json={"subnetpool": {"default_quota": None}})
    assert subnet(cl, **base).json()["subnet"]["cidr"] == "10.50.1.0/24"
    fault(subnet(cl, **base), 400, "SubnetAllocationError")


def test_default_pool_per_version_and_policy(cl):
    m = cl.member()
    fault(pool(cl, token=m["token"], expect=403, name="d", prefixes=["10.60.0.0/16"],
               is_default=True), 403, "HTTPForbidden")
    fault(pool(cl, token=m["token"], expect=403, name="d", prefixes=["10.60.0.0/16"],
               shared=True), 403, "HTTPForbidden")
    d6 = pool(cl, name="d6", prefixes=["2001:db8:60::/48"], is_default=True, shared=True)
    assert d6["min_prefixlen"] == 64 and d6["max_prefixlen"] == 128
    fault(pool(cl, expect=400, name="d6b", prefixes=["2001:db8:61::/48"], is_default=True),
          400, "InvalidInput")
    n = create(cl, token=m["token"], name="v6")
    s = subnet(cl, token=m["token"], network_id=n["id"], ip_version=6,
               use_default_subnetpool=True, ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    assert s.status_code == 201, s.text
    assert s.json()["subnet"]["cidr"] == "2001:db8:60::/64"
    fault(subnet(cl, token=m["token"], network_id=n["id"], ip_version=4,
                 use_default_subnetpool=True), 400, "BadRequest")
    # the member sees the shared pool but may not change it
    assert net(cl, "/v2.0/subnetpools/" + d6["id"], token=m["token"], expect=200)
    fault(net(cl, "/v2.0/subnetpools/" + d6["id"], "PUT", token=m["token"],
              json={"subnetpool": {"name": "mine"}}), 403, "HTTPForbidden")
    own = pool(cl, token=m["token"], name="own", prefixes=["10.61.0.0/16"])
    other = cl.member()
    fault(net(cl, "/v2.0/subnetpools/" + own["id"], token=other["token"]), 404,
          "SubnetPoolNotFound")
    ids = {x["id"] for x in net(cl, "/v2.0/subnetpools", token=other["token"],
                                expect=200).json()["subnetpools"]}
    assert d6["id"] in ids and own["id"] not in ids


def test_concurrent_allocations_never_overlap(cl):
    p = pool(cl, name="race", prefixes=["10.70.0.0/16"], default_prefixlen=26)
    n = create(cl, name="race")
    body = {"network_id": n["id"], "ip_version": 4, "subnetpool_id": p["id"]}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: subnet(cl, **body), range(16)))
    assert all(r.status_code == 201 for r in rs), [r.text for r in rs if r.status_code != 201]
    nets = [ipaddress.ip_network(r.json()["subnet"]["cidr"]) for r in rs]
    assert len(set(nets)) == 16
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
