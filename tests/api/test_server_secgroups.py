"""Nova's security group API over Neutron's groups (fake driver):
os-security-groups create / list / show / update / delete in Nova's shapes
(ingress rules only, ip_range and group), Nova's codes (in use and the
default group are 400, unknown 404, gone after microversion 2.35),
os-security-group-rules, a server's groups, addSecurityGroup and
removeSecurityGroup on the server's ports, checked from Neutron's side."""

import functools

import pytest

from compute_helpers import compute_call
from test_network import net
from test_server_networks import make_net
from test_servers import boot, flavors, image, unlimited, wait, wait_gone  # noqa: F401


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("srvsg")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def nfault(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    (name, f), = body.items()
    assert f["code"] == status and f["message"], body
    return f["message"]


def sg(nova, name="g", desc="d", **kw):
    return nova("POST", "/os-security-groups", json={"security_group": {
        "name": name, "description": desc}}, expect=200, **kw).json()["security_group"]


def test_groups_crud_in_novas_shape(nova, cl):
    g = sg(nova, "web", "web servers")
    assert set(g) == {"id", "name", "description", "tenant_id", "rules"}
    assert g["rules"] == []     # Nova shows no egress rules
    got = nova("GET", "/os-security-groups/" + g["id"], expect=200).json()["security_group"]
    assert got == g
    names = [x["name"] for x in nova("GET", "/os-security-groups",
                                     expect=200).json()["security_groups"]]
    assert "web" in names and "default" in names
    u = nova("PUT", "/os-security-groups/" + g["id"], expect=200, json={"security_group": {
        "name": "web2", "description": "new"}}).json()["security_group"]
    assert (u["name"], u["description"]) == ("web2", "new")
    # the same group from Neutron's side
    n = net(cl, "/v2.0/security-groups/" + g["id"], expect=200).json()["security_group"]
    assert n["name"] == "web2"
    nova("DELETE", "/os-security-groups/" + g["id"], expect=202)
    nfault(nova("GET", "/os-security-groups/" + g["id"]), 404)
    nfault(nova("PUT", "/os-security-groups/" + g["id"],
                json={"security_group": {"name": "x", "description": "y"}}), 404)
    nfault(nova("DELETE", "/os-security-groups/" + g["id"]), 404)
    nfault(nova("POST", "/os-security-groups", json={"security_group": {"name": "",
                                                                         "description": "d"}}),
           400)
    nfault(nova("POST", "/os-security-groups", json={"security_group": {"name": 5,
                                                                         "description": "d"}}),
           400)
    nfault(nova("GET", "/os-security-groups", version="2.36"), 404)
    nfault(nova("DELETE", "/os-security-groups/"), 404)


def test_default_group_cannot_be_deleted_by_member(nova, cl):
    m = cl.member()
    groups = nova("GET", "/os-security-groups", token=m["token"],
                  expect=200).json()["security_groups"]
    (d,) = [g for g in groups if g["name"] == "default"]
    assert d["tenant_id"] == m["project"]["id"]
    # the default group's ingress rules name the group itself
    assert {r["group"]["name"] for r in d["rules"]} == {"default"}
    nfault(nova("DELETE", "/os-security-groups/" + d["id"], token=m["token"]), 400)


def test_rules(nova):
    g = sg(nova, "ruled")
    r = nova("POST", "/os-security-group-rules", expect=200, json={"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}}).json()["security_group_rule"]
    assert (r["ip_protocol"], r["from_port"], r["to_port"]) == ("tcp", 22, 22)
    assert r["ip_range"] == {"cidr": "10.0.0.0/8"} and r["group"] == {}
    icmp = nova("POST", "/os-security-group-rules", expect=200, json={"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "icmp", "from_port": -1, "to_port": -1}}
    ).json()["security_group_rule"]
    assert icmp["from_port"] is None and icmp["ip_range"] == {"cidr": "0.0.0.0/0"}
    nfault(nova("POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}}), 400)       # the same rule twice
    nfault(nova("POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": g["id"], "ip_protocol": "tcp", "from_port": 30, "to_port": 20}}),
        400)
    rules = nova("GET", "/os-security-groups/" + g["id"],
                 expect=200).json()["security_group"]["rules"]
    assert {x["id"] for x in rules} == {r["id"], icmp["id"]}
    nova("DELETE", "/os-security-group-rules/" + r["id"], expect=202)
    nfault(nova("DELETE", "/os-security-group-rules/" + r["id"]), 404)


def test_server_groups_add_remove(nova, cl, image, flavors):
    n, _ = make_net(cl, "sgnet", "10.90.0.0/24")
    a, b = sg(nova, "ga"), sg(nova, "gb")
    sid = boot(nova, image, flavors[0], networks=[{"uuid": n["id"]}]).json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    names = lambda: sorted(g["name"] for g in nova(  # noqa: E731
        "GET", "/servers/%s/os-security-groups" % sid, expect=200).json()["security_groups"])
    assert names() == ["default"]
    for g in (a, b):
        nova("POST", "/servers/%s/action" % sid, json={"addSecurityGroup": {"name": g["name"]}},
             expect=202)
    assert names() == ["default", "ga", "gb"]
    shown = nova("GET", "/servers/" + sid, expect=200).json()["server"]["security_groups"]
    assert shown == [{"name": "default"}, {"name": "ga"}, {"name": "gb"}]
    listed = {s["id"]: s for s in nova("GET", "/servers/detail", expect=200).json()["servers"]}
    assert listed[sid]["security_groups"] == shown
    port = net(cl, "/v2.0/ports?device_id=" + sid, expect=200).json()["ports"][0]
    assert set(port["security_groups"]) >= {a["id"], b["id"]}
    # in use: Nova's 400
    nfault(nova("DELETE", "/os-security-groups/" + a["id"]), 400)
    nova("POST", "/servers/%s/action" % sid, json={"removeSecurityGroup": {"name": "ga"}},
         expect=202)
    assert names() == ["default", "gb"]
    nfault(nova("POST", "/servers/%s/action" % sid,
                json={"removeSecurityGroup": {"name": "ga"}}), 400)
    nfault(nova("POST", "/servers/%s/action" % sid,
                json={"addSecurityGroup": {"name": "no-such"}}), 404)
    nova("DELETE", "/os-security-groups/" + a["id"], expect=202)
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)
    nova("DELETE", "/os-security-groups/" + b["id"], expect=202)
