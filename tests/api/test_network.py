"""The Neutron API's foundation: version documents, extensions, networks
(create, list with filters / fields / sorting / paging, show, update,
delete), visibility across projects, the admin-only attributes and
Neutron's fault body."""

import pytest

from conftest import describe
from daemon import Daemon, DaemonError


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("network")


def net(cl, path, method="GET", **kw):
    return cl.request(method, cl.base_url + "/network" + path, **kw)


def fault(r, status, type_):
    assert r.status_code == status, describe(r)
    e = r.json()["NeutronError"]
    assert e["type"] == type_ and e["message"] and e["detail"] == "", e
    return e


def unlimited_net(cl):
    """Lifts the admin project's network quotas (tests make more groups and
    ports than Neutron's defaults allow one project)."""
    pid = cl.request("GET", cl.base_url + "/identity/v3/projects?name=" + cl.admin_project,
                     expect=200).json()["projects"][0]["id"]
    net(cl, "/v2.0/quotas/" + pid, "PUT", expect=200, json={"quota": {
        k: -1 for k in ("network", "subnet", "port", "router", "floatingip", "security_group",
                        "security_group_rule", "subnetpool")}})


def create(cl, token="admin", **attrs):
    return net(cl, "/v2.0/networks", "POST", json={"network": attrs}, expect=201,
               token=token).json()["network"]


def test_versions_and_extensions(cl):
    v = net(cl, "/", expect=200, token=None).json()["versions"]
    assert v[0]["id"] == "v2.0" and v[0]["status"] == "CURRENT"
    assert v[0]["links"][0]["href"].endswith("/network/v2.0/")
    res = net(cl, "/v2.0", expect=200).json()["resources"]
    assert {"name": "network", "collection": "networks"}.items() <= res[0].items()
    ext = net(cl, "/v2.0/extensions", expect=200).json()["extensions"]
    aliases = {e["alias"] for e in ext}
    assert {"external-net", "network-mtu", "standard-attr-revisions"} <= aliases
    assert net(cl, "/v2.0/extensions/external-net", expect=200).json()["extension"]["name"]
    fault(net(cl, "/v2.0/extensions/no-such-alias"), 404, "HTTPNotFound")
    net(cl, "/v2.0/networks", token=None, expect=401)


def test_create_show_update_delete(cl):
    n = create(cl, name="n1", description="first")
    assert n["status"] == "ACTIVE" and n["admin_state_up"] is True and n["shared"] is False
    assert n["mtu"] == 1450 and n["router:external"] is False and n["subnets"] == []
    assert n["project_id"] == n["tenant_id"] and n["revision_number"] == 1
    assert n["provider:network_type"] == "vxlan" and n["provider:segmentation_id"] >= 1
    assert n["created_at"].endswith("Z") and n["port_security_enabled"] is True
    got = net(cl, "/v2.0/networks/" + n["id"], expect=200).json()["network"]
    assert got == n
    up = net(cl, "/v2.0/networks/" + n["id"], "PUT", json={"network": {
        "name": "renamed", "admin_state_up": False, "mtu": 1400}}, expect=200).json()["network"]
    assert up["name"] == "renamed" and up["admin_state_up"] is False and up["mtu"] == 1400
    assert up["revision_number"] == 2
    net(cl, "/v2.0/networks/" + n["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/networks/" + n["id"]), 404, "NetworkNotFound")
    fault(net(cl, "/v2.0/networks/" + n["id"], "DELETE"), 404, "NetworkNotFound")


@pytest.mark.parametrize("attrs, type_", [
    ({"bogus": 1}, "HTTPBadRequest"),
    ({"admin_state_up": "maybe"}, "HTTPBadRequest"),
    ({"name": 5}, "HTTPBadRequest"),
    ({"name": "x" * 256}, "HTTPBadRequest"),
    ({"mtu": 10}, "HTTPBadRequest"),
    ({"mtu": 100000}, "InvalidInput"),
    ({"provider:network_type": "gre"}, "InvalidInput"),
])
def test_create_validation(cl, attrs, type_):
    fault(net(cl, "/v2.0/networks", "POST", json={"network": attrs}), 400, type_)


def test_body_required(cl):
    fault(net(cl, "/v2.0/networks", "POST", json={"net": {}}), 400, "HTTPBadRequest")


def test_visibility_and_admin_only_attributes(cl):
    m = cl.member()
    tok = m["token"]
    mine = create(cl, token=tok, name="member-net")
    assert "provider:network_type" not in mine
    shared = create(cl, name="shared-net", shared=True)
    ext = create(cl, **{"name": "public", "router:external": True})
    assert ext["mtu"] == 1500 and ext["provider:network_type"] == "flat"
    private = create(cl, name="admin-private")
    ids = {n["id"] for n in net(cl, "/v2.0/networks", token=tok, expect=200).json()["networks"]}
    assert {mine["id"], shared["id"], ext["id"]} <= ids and private["id"] not in ids
    fault(net(cl, "/v2.0/networks/" + private["id"], token=tok), 404, "NetworkNotFound")
    fault(net(cl, "/v2.0/networks", "POST", token=tok, json={"network": {"shared": True}}),
          403, "HTTPForbidden")
    fault(net(cl, "/v2.0/networks", "POST", token=tok,
              json={"network": {"project_id": "someone-else"}}), 403, "HTTPForbidden")
    fault(net(cl, "/v2.0/networks/" + shared["id"], "PUT", token=tok,
              json={"network": {"name": "mine now"}}), 403, "HTTPForbidden")
    fault(net(cl, "/v2.0/networks/" + shared["id"], "DELETE", token=tok), 403,
          "HTTPForbidden")
    # the admin may create for another project
    other = create(cl, project_id=m["project"]["id"], name="for-member")
    assert other["project_id"] == m["project"]["id"]


def test_list_filters_fields_sort_paging(cl):
    made = [create(cl, name="pg-%d" % i, description="page") for i in range(5)]
    ids = sorted(n["id"] for n in made)
    r = net(cl, "/v2.0/networks?description=page&fields=id&fields=name", expect=200).json()
    assert sorted(n["id"] for n in r["networks"]) == ids
    assert all(set(n) == {"id", "name"} for n in r["networks"])
    r = net(cl, "/v2.0/networks?name=pg-1&name=pg-3", expect=200).json()["networks"]
    assert sorted(n["name"] for n in r) == ["pg-1", "pg-3"]
    r = net(cl, "/v2.0/networks?description=page&sort_key=name&sort_dir=desc",
            expect=200).json()["networks"]
    assert [n["name"] for n in r] == ["pg-4", "pg-3", "pg-2", "pg-1", "pg-0"]
    r = net(cl, "/v2.0/networks?description=page&limit=2", expect=200).json()
    assert [n["id"] for n in r["networks"]] == ids[:2]
    nxt = [l for l in r["networks_links"] if l["rel"] == "next"][0]["href"]
    marker = nxt.split("marker=")[1]
    r = net(cl, "/v2.0/networks?description=page&limit=2&marker=" + marker, expect=200).json()
    assert [n["id"] for n in r["networks"]] == ids[2:4]
    assert any(l["rel"] == "previous" for l in r["networks_links"])
    r = net(cl, "/v2.0/networks?admin_state_up=true&description=page", expect=200).json()
    assert len(r["networks"]) == 5
    fault(net(cl, "/v2.0/networks?sort_key=name&sort_dir=up"), 400, "HTTPBadRequest")
    fault(net(cl, "/v2.0/networks?sort_key=nope"), 400, "HTTPBadRequest")
    fault(net(cl, "/v2.0/networks?marker=nope"), 400, "HTTPBadRequest")
    fault(net(cl, "/v2.0/networks?limit=x"), 400, "HTTPBadRequest")
    n = net(cl, "/v2.0/networks/%s?fields=name" % made[0]["id"], expect=200).json()["network"]
    assert n == {"name": "pg-0"}


def test_external_network_hides_its_subnets_unless_shared(cl):
    ext = create(cl, name="ext-vis", **{"router:external": True})
    sub = net(cl, "/v2.0/subnets", "POST", expect=201, json={"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": "198.51.100.0/24"}}).json()["subnet"]
    m = cl.member()
    ids = {n["id"] for n in net(cl, "/v2.0/networks", token=m["token"],
                                expect=200).json()["networks"]}
    assert ext["id"] in ids
    subs = net(cl, "/v2.0/subnets", token=m["token"], expect=200).json()["subnets"]
    assert sub["id"] not in {s["id"] for s in subs}
    fault(net(cl, "/v2.0/subnets/" + sub["id"], token=m["token"]), 404, "SubnetNotFound")
    net(cl, "/v2.0/networks/" + ext["id"], "PUT", expect=200,
        json={"network": {"shared": True}})
    net(cl, "/v2.0/subnets/" + sub["id"], token=m["token"], expect=200)


def test_bulk_create_all_or_nothing(cl):
    r = net(cl, "/v2.0/networks", "POST", expect=201, json={"networks": [
        {"name": "bulk-a"}, {"name": "bulk-b"}]}).json()["networks"]
    assert [n["name"] for n in r] == ["bulk-a", "bulk-b"]
    ports = net(cl, "/v2.0/ports", "POST", expect=201, json={"ports": [
        {"network_id": r[0]["id"]}, {"network_id": r[1]["id"], "name": "p2"}]}).json()["ports"]
    assert [p["network_id"] for p in ports] == [r[0]["id"], r[1]["id"]]
    # the second is bad: the first is not left behind
    fault(net(cl, "/v2.0/networks", "POST", json={"networks": [
        {"name": "bulk-c"}, {"name": "bulk-d", "mtu": 10}]}), 400, "HTTPBadRequest")
    names = {n["name"] for n in net(cl, "/v2.0/networks", expect=200).json()["networks"]}
    assert "bulk-c" not in names


def test_network_ip_availability(cl):
    n = create(cl, name="avail")
    s = net(cl, "/v2.0/subnets", "POST", expect=201, json={"subnet": {
        "network_id": n["id"], "ip_version": 4, "cidr": "10.123.0.0/28"}}).json()["subnet"]
    s6 = net(cl, "/v2.0/subnets", "POST", expect=201, json={"subnet": {
        "network_id": n["id"], "ip_version": 6, "cidr": "2001:db8:123::/64",
        "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}}).json()["subnet"]
    for _ in range(3):
        net(cl, "/v2.0/ports", "POST", expect=201, json={"port": {"network_id": n["id"]}})
    a = net(cl, "/v2.0/network-ip-availabilities/" + n["id"],
            expect=200).json()["network_ip_availability"]
    subs = {x["subnet_id"]: x for x in a["subnet_ip_availability"]}
    # a /28 less network, broadcast and gateway: 13; 3 ports and the DHCP port
    assert subs[s["id"]]["total_ips"] == 13 and subs[s["id"]]["used_ips"] == 4
    assert subs[s6["id"]]["total_ips"] > 2 ** 63 and subs[s6["id"]]["used_ips"] == 4
    assert a["network_name"] == "avail" and a["used_ips"] == 8
    listed = net(cl, "/v2.0/network-ip-availabilities?network_id=" + n["id"],
                 expect=200).json()["network_ip_availabilities"]
    assert [x["network_id"] for x in listed] == [n["id"]]
    m = cl.member()
    fault(net(cl, "/v2.0/network-ip-availabilities", token=m["token"]), 403, "HTTPForbidden")
    fault(net(cl, "/v2.0/network-ip-availabilities/" + "0" * 32), 404, "NetworkNotFound")


def test_quotas(cl):
    m, other = cl.member(), cl.member()
    pid, tok = m["project"]["id"], m["token"]
    q = net(cl, "/v2.0/quotas/" + pid, token=tok, expect=200).json()["quota"]
    assert q["network"] == 100 and q["port"] == 500 and q["security_group"] == 10
    assert net(cl, "/v2.0/quotas/%s/default" % pid, token=tok,
               expect=200).json()["quota"] == q
    fault(net(cl, "/v2.0/quotas/" + other["project"]["id"], token=tok), 403, "HTTPForbidden")
    fault(net(cl, "/v2.0/quotas/" + pid, "PUT", token=tok,
              json={"quota": {"network": 5}}), 403, "HTTPForbidden")
    fault(net(cl, "/v2.0/quotas/" + pid, "PUT", json={"quota": {"nets": 5}}), 400,
          "HTTPBadRequest")
    fault(net(cl, "/v2.0/quotas/" + pid, "PUT", json={"quota": {"network": -2}}), 400,
          "HTTPBadRequest")
    up = net(cl, "/v2.0/quotas/" + pid, "PUT", expect=200,
             json={"quota": {"network": 1, "port": 2}}).json()["quota"]
    assert up["network"] == 1 and up["port"] == 2 and up["subnet"] == 100
    assert pid in {x["project_id"] for x in net(cl, "/v2.0/quotas",
                                                expect=200).json()["quotas"]}
    n = create(cl, token=tok, name="q1")
    fault(net(cl, "/v2.0/networks", "POST", token=tok, json={"network": {"name": "q2"}}),
          409, "OverQuota")
    for _ in range(2):
        net(cl, "/v2.0/ports", "POST", token=tok, expect=201,
            json={"port": {"network_id": n["id"]}})
    e = fault(net(cl, "/v2.0/ports", "POST", token=tok,
                  json={"port": {"network_id": n["id"]}}), 409, "OverQuota")
    assert e["message"] == "Quota exceeded for resources: ['port']."
    d = net(cl, "/v2.0/quotas/%s/details.json" % pid, token=tok, expect=200).json()["quota"]
    assert d["network"] == {"limit": 1, "used": 1, "reserved": 0}
    assert d["port"]["used"] == 2
    net(cl, "/v2.0/quotas/" + pid, "DELETE", expect=204)
    assert net(cl, "/v2.0/quotas/" + pid, token=tok, expect=200).json()["quota"]["network"] == 100
    create(cl, token=tok, name="q2")


def test_tags(cl):
    a, b = create(cl, name="tag-a"), create(cl, name="tag-b")
    base = "/v2.0/networks/%s/tags"
    got = net(cl, base % a["id"], "PUT", expect=200,
              json={"tags": ["red", "blue", "red"]}).json()["tags"]
    assert got == ["blue", "red"]
    net(cl, base % b["id"] + "/red", "PUT", expect=201)
    net(cl, base % b["id"] + "/green", "PUT", expect=201)
    assert net(cl, "/v2.0/networks/" + a["id"], expect=200).json()["network"]["tags"] == [
        "blue", "red"]
    net(cl, base % a["id"] + "/blue", expect=204)
    fault(net(cl, base % a["id"] + "/green"), 404, "TagNotFound")

    def names(q):
        return {n["name"] for n in net(cl, "/v2.0/networks?" + q, expect=200).json()["networks"]
                if n["name"].startswith("tag-")}
    assert names("tags=red") == {"tag-a", "tag-b"}
    assert names("tags=red,blue") == {"tag-a"}
    assert names("tags-any=blue,green") == {"tag-a", "tag-b"}
    assert names("not-tags=red,green") == {"tag-a"}
    assert names("not-tags-any=blue") == {"tag-b"}
    net(cl, base % a["id"] + "/blue", "DELETE", expect=204)
    fault(net(cl, base % a["id"] + "/blue", "DELETE"), 404, "TagNotFound")
    net(cl, base % a["id"], "DELETE", expect=204)
    assert net(cl, base % a["id"], expect=200).json()["tags"] == []
    fault(net(cl, base % a["id"], "PUT", json={"tags": ["a,b"]}), 400, "HTTPBadRequest")
    fault(net(cl, base % a["id"], "PUT", json={"tags": "x"}), 400, "HTTPBadRequest")
    fault(net(cl, "/v2.0/widgets/%s/tags" % a["id"]), 404, "HTTPNotFound")
    fault(net(cl, base % ("0" * 32)), 404, "NetworkNotFound")
    # another project sees neither the network nor its tags, nor may tag it
    m = cl.member()
    fault(net(cl, base % b["id"], token=m["token"]), 404, "NetworkNotFound")
    shared = create(cl, name="tag-shared", shared=True)
    fault(net(cl, base % shared["id"] + "/x", "PUT", token=m["token"]), 403, "HTTPForbidden")
    # ports and the rest carry tags the same way; a deleted port's go too
    p = net(cl, "/v2.0/ports", "POST", expect=201,
            json={"port": {"network_id": b["id"]}}).json()["port"]
    net(cl, "/v2.0/ports/%s/tags/web" % p["id"], "PUT", expect=201)
    assert net(cl, "/v2.0/ports?tags=web", expect=200).json()["ports"][0]["id"] == p["id"]
    net(cl, "/v2.0/ports/" + p["id"], "DELETE", expect=204)
    rows = net(cl, "/v2.0/ports?tags=web", expect=200).json()["ports"]
    assert rows == []


def test_if_match_revision(cl):
    n = create(cl, name="rev")
    url = "/v2.0/networks/" + n["id"]
    up = net(cl, url, "PUT", expect=200, headers={"If-Match": "revision_number=1"},
             json={"network": {"name": "rev2"}}).json()["network"]
    assert up["revision_number"] == 2
    fault(net(cl, url, "PUT", headers={"If-Match": "revision_number=1"},
              json={"network": {"name": "rev3"}}), 412, "RevisionNumberConstraintFailed")
    fault(net(cl, url, "DELETE", headers={"If-Match": "revision_number=7"}), 412,
          "RevisionNumberConstraintFailed")
    assert net(cl, url, expect=200).json()["network"]["name"] == "rev2"
    net(cl, url, "DELETE", expect=204, headers={"If-Match": "revision_number=2"})


def test_rbac_share_with_one_project(cl):
    a, b, c = cl.member(), cl.member(), cl.member()
    n = create(cl, token=a["token"], name="rbac-net")
    s = net(cl, "/v2.0/subnets", "POST", token=a["token"], expect=201, json={"subnet": {
        "network_id": n["id"], "ip_version": 4, "cidr": "10.124.0.0/24"}}).json()["subnet"]
    fault(net(cl, "/v2.0/networks/" + n["id"], token=b["token"]), 404, "NetworkNotFound")

    def policy(tok, expect=201, **kw):
        body = {"object_type": "network", "object_id": n["id"], "action": "access_as_shared",
                "target_tenant": b["project"]["id"]}
        body.update(kw)
        r = net(cl, "/v2.0/rbac-policies", "POST", token=tok, json={"rbac_policy": body})
        assert r.status_code == expect, r.text
        return r.json().get("rbac_policy") if expect == 201 else r
    fault(policy(b["token"], 404), 404, "NetworkNotFound")
    fault(policy(a["token"], 400, object_type="qos_policy"), 400, "HTTPBadRequest")
    fault(policy(a["token"], 400, action="access_as_wizard"), 400, "HTTPBadRequest")
    p = policy(a["token"])
    assert p["target_tenant"] == b["project"]["id"] and p["project_id"] == a["project"]["id"]
    fault(policy(a["token"], 409), 409, "DuplicateRbacPolicy")
    # b sees and uses it, c does not; it is not "shared" with everyone
    got = net(cl, "/v2.0/networks/" + n["id"], token=b["token"], expect=200).json()["network"]
    assert got["shared"] is False
    net(cl, "/v2.0/subnets/" + s["id"], token=b["token"], expect=200)
    fault(net(cl, "/v2.0/networks/" + n["id"], token=c["token"]), 404, "NetworkNotFound")
    port = net(cl, "/v2.0/ports", "POST", token=b["token"], expect=201,
               json={"port": {"network_id": n["id"]}}).json()["port"]
    fault(net(cl, "/v2.0/ports", "POST", token=c["token"],
              json={"port": {"network_id": n["id"]}}), 404, "NetworkNotFound")
    assert [x["id"] for x in net(cl, "/v2.0/rbac-policies", token=a["token"],
                                 expect=200).json()["rbac_policies"]] == [p["id"]]
    fault(net(cl, "/v2.0/rbac-policies/" + p["id"], token=b["token"]), 404,
          "RbacPolicyNotFound")
    # in use while b has a port there
    fault(net(cl, "/v2.0/rbac-policies/" + p["id"], "DELETE", token=a["token"]), 409,
          "RbacPolicyInUse")
    net(cl, "/v2.0/ports/" + port["id"], "DELETE", token=b["token"], expect=204)
    net(cl, "/v2.0/rbac-policies/" + p["id"], "DELETE", token=a["token"], expect=204)
    fault(net(cl, "/v2.0/networks/" + n["id"], token=b["token"]), 404, "NetworkNotFound")
    # "*" is the shared flag
    star = policy(cl.admin_token, target_tenant="*")
    assert net(cl, "/v2.0/networks/" + n["id"], token=c["token"],
               expect=200).json()["network"]["shared"] is True
    net(cl, "/v2.0/rbac-policies/" + star["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/networks/" + n["id"], token=c["token"]), 404, "NetworkNotFound")


@pytest.mark.parametrize("value", ["qrouter-x", "a b", "x" * 33])
def test_bad_external_namespace_setting_refuses_to_start(value):
    """[network] external_namespace is checked at start: a value no
    namespace may have (or one the agent manages per router) stops the
    daemon, rather than every host plan being refused later."""
    d = Daemon(env={"ONESTACK_NETWORK_EXTERNAL_NAMESPACE": value}, name="network-bad-extns")
    with pytest.raises(DaemonError) as e:
        d.start()
    d.proc = None
    assert d.stop() == []
    assert "external_namespace" in str(e.value)
