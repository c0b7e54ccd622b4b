"""Neutron security groups and rules: the project's default group (made
once, also under concurrent first requests, not deletable, not
renamable), groups with their egress rules, rule validation in Neutron's
words (protocols, port ranges, ICMP type/code, prefixes against
ethertype, duplicates), ports in groups (default, explicit, port security
off), in-use conflicts and visibility across projects."""

import concurrent.futures

import pytest

from test_network import create, fault, net, unlimited_net


@pytest.fixture(scope="module")
def cl(cloud_factory):
    c = cloud_factory.start("netsg")
    unlimited_net(c)
    return c


def sg(cl, token="admin", **attrs):
    return net(cl, "/v2.0/security-groups", "POST", json={"security_group": attrs},
               expect=201, token=token).json()["security_group"]


def rule(cl, group, expect=201, token="admin", **attrs):
    body = {"security_group_id": group}
    body.update(attrs)
    r = net(cl, "/v2.0/security-group-rules", "POST", json={"security_group_rule": body},
            token=token)
    if expect == 201:
        assert r.status_code == 201, r.text
        return r.json()["security_group_rule"]
    return r


def test_default_group_made_once_and_kept(cl):
    m = cl.member()
    tok = m["token"]
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        lists = list(ex.map(lambda _: net(cl, "/v2.0/security-groups?name=default", token=tok,
                                          expect=200).json()["security_groups"], range(6)))
    ids = {g["id"] for l in lists for g in l}
    assert len(ids) == 1 and all(len(l) == 1 for l in lists)
    d = lists[0][0]
    assert d["description"] == "Default security group" and d["stateful"] is True
    rules = d["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"]) for r in rules) == [
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", d["id"]), ("ingress", "IPv6", d["id"])]
    assert all(r["protocol"] is None and r["port_range_min"] is None for r in rules)
    fault(net(cl, "/v2.0/security-groups/" + d["id"], "DELETE", token=tok), 409,
          "SecurityGroupCannotRemoveDefault")
    fault(net(cl, "/v2.0/security-groups/" + d["id"], "PUT", token=tok,
              json={"security_group": {"name": "other"}}), 409,
          "SecurityGroupCannotUpdateDefault")
    fault(net(cl, "/v2.0/security-groups", "POST", token=tok,
              json={"security_group": {"name": "default"}}), 409,
          "SecurityGroupDefaultAlreadyExists")


def test_group_crud_and_visibility(cl):
    m = cl.member()
    g = sg(cl, token=m["token"], name="web", description="web servers")
    assert g["project_id"] == m["project"]["id"] and g["revision_number"] == 1
    assert sorted((r["direction"], r["ethertype"]) for r in g["security_group_rules"]) == [
        ("egress", "IPv4"), ("egress", "IPv6")]
    up = net(cl, "/v2.0/security-groups/" + g["id"], "PUT", token=m["token"],
             json={"security_group": {"name": "web2", "description": "d"}},
             expect=200).json()["security_group"]
    assert up["name"] == "web2" and up["description"] == "d" and up["revision_number"] == 2
    other = cl.member()
    fault(net(cl, "/v2.0/security-groups/" + g["id"], token=other["token"]), 404,
          "SecurityGroupNotFound")
    names = [x["name"] for x in net(cl, "/v2.0/security-groups", token=other["token"],
                                    expect=200).json()["security_groups"]]
    assert names == ["default"]
    assert net(cl, "/v2.0/security-groups/%s?fields=name" % g["id"], token=m["token"],
               expect=200).json()["security_group"] == {"name": "web2"}
    fault(net(cl, "/v2.0/security-groups", "POST", json={"security_group": {"bogus": 1}}),
          400, "HTTPBadRequest")
    net(cl, "/v2.0/security-groups/" + g["id"], "DELETE", token=m["token"], expect=204)
    fault(net(cl, "/v2.0/security-groups/" + g["id"], token=m["token"]), 404,
          "SecurityGroupNotFound")


def test_rules_valid(cl):
    g = sg(cl, name="rules")
    r = rule(cl, g["id"], direction="ingress", protocol="tcp", port_range_min=22,
             port_range_max=22, remote_ip_prefix="10.1.2.3/16", description="ssh")
    assert r["protocol"] == "tcp" and (r["port_range_min"], r["port_range_max"]) == (22, 22)
    assert r["remote_ip_prefix"] == "10.1.0.0/16" and r["ethertype"] == "IPv4"
    assert r["security_group_id"] == g["id"] and r["description"] == "ssh"
    icmp = rule(cl, g["id"], direction="ingress", protocol="icmp", port_range_min=8)
    assert icmp["port_range_min"] == 8 and icmp["port_range_max"] is None
    v6 = rule(cl, g["id"], direction="ingress", ethertype="IPv6", protocol="58",
              remote_ip_prefix="2001:db8::/64")
    assert v6["protocol"] == "58"
    rg = rule(cl, g["id"], direction="ingress", protocol="udp", port_range_min=53, port_range_max=53,
              remote_group_id=g["id"])
    assert rg["port_range_max"] == 53 and rg["remote_group_id"] == g["id"]
    got = net(cl, "/v2.0/security-groups/" + g["id"], expect=200).json()["security_group"]
    assert {x["id"] for x in got["security_group_rules"]} >= {r["id"], icmp["id"], v6["id"]}
    listed = net(cl, "/v2.0/security-group-rules?security_group_id=%s&direction=ingress"
                 % g["id"], expect=200).json()["security_group_rules"]
    assert len(listed) == 4
    assert net(cl, "/v2.0/security-group-rules/" + r["id"],
               expect=200).json()["security_group_rule"] == r
    e = fault(rule(cl, g["id"], expect=409, direction="ingress", protocol="tcp",
                   port_range_min=22, port_range_max=22, remote_ip_prefix="10.1.0.0/16"),
              409, "SecurityGroupRuleExists")
    assert r["id"] in e["message"]
    net(cl, "/v2.0/security-group-rules/" + r["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/security-group-rules/" + r["id"]), 404, "SecurityGroupRuleNotFound")


@pytest.mark.parametrize("attrs,status,type_", [
    ({"direction": "sideways"}, 400, "HTTPBadRequest"),
    ({"direction": "ingress", "protocol": "bogus"}, 400, "SecurityGroupRuleInvalidProtocol"),
    ({"direction": "ingress", "protocol": "300"}, 400, "SecurityGroupRuleInvalidProtocol"),
    ({"direction": "ingress", "ethertype": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType"),
    ({"direction": "ingress", "port_range_min": 22}, 400,
     "SecurityGroupProtocolRequiredWithPorts"),
    ({"direction": "ingress", "protocol": "tcp", "port_range_min": 30, "port_range_max": 20},
     400, "SecurityGroupInvalidPortRange"),
    ({"direction": "ingress", "protocol": "tcp", "port_range_min": None, "port_range_max": 6},
     400, "SecurityGroupInvalidPortRange"),
    ({"direction": "ingress", "protocol": "tcp", "port_range_min": 70000}, 400,
     "SecurityGroupInvalidPortValue"),
    ({"direction": "ingress", "protocol": "icmp", "port_range_min": 300}, 400,
     "SecurityGroupInvalidIcmpValue"),
    ({"direction": "ingress", "protocol": "icmp", "port_range_max": 3}, 400,
     "SecurityGroupMissingIcmpType"),
    ({"direction": "ingress", "remote_ip_prefix": "2001:db8::/64"}, 400,
     "SecurityGroupRuleParameterConflict"),
    ({"direction": "ingress", "remote_ip_prefix": "nope"}, 400, "HTTPBadRequest"),
    ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8",
      "remote_group_id": "x"}, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
    ({"direction": "ingress", "remote_group_id": "no-such"}, 404, "SecurityGroupNotFound"),
])
def test_rule_errors(cl, attrs, status, type_):
    g = sg(cl, name="bad-rules")
    fault(rule(cl, g["id"], expect=status, **attrs), status, type_)


def test_rule_needs_visible_group(cl):
    fault(rule(cl, "no-such-group", expect=404, direction="ingress"), 404,
          "SecurityGroupNotFound")
    g = sg(cl, name="admins")
    m = cl.member()
    fault(rule(cl, g["id"], expect=404, token=m["token"], direction="ingress"), 404,
          "SecurityGroupNotFound")


def test_ports_in_groups(cl):
    m = cl.member()
    tok = m["token"]
    n = create(cl, token=tok, name="sgnet")
    default = net(cl, "/v2.0/security-groups?name=default", token=tok,
                  expect=200).json()["security_groups"][0]
    p = net(cl, "/v2.0/ports", "POST", token=tok, json={"port": {"network_id": n["id"]}},
            expect=201).json()["port"]
    assert p["security_groups"] == [default["id"]]
    g = sg(cl, token=tok, name="app")
    p2 = net(cl, "/v2.0/ports", "POST", token=tok, json={"port": {
        "network_id": n["id"], "security_groups": [g["id"]]}}, expect=201).json()["port"]
    assert p2["security_groups"] == [g["id"]]
    fault(net(cl, "/v2.0/security-groups/" + g["id"], "DELETE", token=tok), 409,
          "SecurityGroupInUse")
    # port security off: no groups, and none may be added while it is off
    p3 = net(cl, "/v2.0/ports", "POST", token=tok, json={"port": {
        "network_id": n["id"], "port_security_enabled": False}}, expect=201).json()["port"]
    assert p3["security_groups"] == []
    fault(net(cl, "/v2.0/ports/" + p2["id"], "PUT", token=tok,
              json={"port": {"port_security_enabled": False}}), 409,
          "PortSecurityPortHasSecurityGroup")
    up = net(cl, "/v2.0/ports/" + p2["id"], "PUT", token=tok, json={"port": {
        "security_groups": [g["id"], default["id"]]}}, expect=200).json()["port"]
    assert sorted(up["security_groups"]) == sorted([g["id"], default["id"]])
    up = net(cl, "/v2.0/ports/" + p2["id"], "PUT", token=tok, json={"port": {
        "security_groups": [], "port_security_enabled": False}}, expect=200).json()["port"]
    assert up["security_groups"] == [] and up["port_security_enabled"] is False
    fault(net(cl, "/v2.0/ports", "POST", token=tok, json={"port": {
        "network_id": n["id"], "security_groups": ["no-such"]}}), 404, "SecurityGroupNotFound")
    # a failed create leaves no port and no address behind
    ports = net(cl, "/v2.0/ports?network_id=" + n["id"], token=tok,
                expect=200).json()["ports"]
    assert len(ports) == 3
    net(cl, "/v2.0/security-groups/" + g["id"], "DELETE", token=tok, expect=204)


def test_cli_security_group_commands(cl):
    out = cl.cli("security", "group", "create", "cli-sg")
    assert out["name"] == "cli-sg"
    r = cl.cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
               "cli-sg")
    assert r["port_range_min"] == 22 and r["port_range_max"] == 22 and r["protocol"] == "tcp"
    rules = cl.cli("security", "group", "rule", "list", "cli-sg")
    assert len(rules) == 3
    cl.cli("security", "group", "delete", "cli-sg", json_out=False)
