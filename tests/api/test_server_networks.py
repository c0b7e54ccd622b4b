"""Servers on Neutron networks (fake driver): ports made for "networks"
(uuid, fixed_ip), taken over ({"port"}), chosen ("auto" / absent with one
usable network; 409 with several), bound to the host the scheduler chose,
shown in "addresses"; security groups by name; Nova's errors, with nothing
left behind by a failed create; on delete, the ports compute made go and
the user's are detached."""

import functools

import pytest

from compute_helpers import compute_call
from test_network import net
from test_servers import boot, flavors, image, unlimited, wait, wait_gone  # noqa: F401


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("srvnet")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def make_net(cl, name, cidr):
    """A network with one /24 subnet whose allocation pool is .2-.63: the
    addresses these tests ask for by hand (.77, .99, .201, ...) lie above
    it, so a random allocation (the DHCP port's, a server's) never takes
    one first, as it could in a whole-subnet pool."""
    n = net(cl, "/v2.0/networks", "POST", json={"network": {"name": name}},
            expect=201).json()["network"]
    base = cidr.rsplit(".", 1)[0]
    s = net(cl, "/v2.0/subnets", "POST", json={"subnet": {
        "network_id": n["id"], "cidr": cidr, "ip_version": 4,
        "allocation_pools": [{"start": base + ".2", "end": base + ".63"}]}},
        expect=201).json()["subnet"]
    return n, s


@pytest.fixture(scope="module")
def nets(cl):
    return [make_net(cl, "alpha", "10.10.0.0/24"), make_net(cl, "beta", "10.20.0.0/24")]


def ports_of(cl, sid):
    return net(cl, "/v2.0/ports?device_id=" + sid, expect=200).json()["ports"]


def test_server_on_networks(nova, cl, image, flavors, nets):
    (a, _), (b, _) = nets
    r = boot(nova, image, flavors[0], networks=[{"uuid": a["id"]},
                                                {"uuid": b["id"], "fixed_ip": "10.20.0.77"}])
    sid = r.json()["server"]["id"]
    s = wait(nova, sid, "ACTIVE")
    assert set(s["addresses"]) == {"alpha", "beta"}
    beta = s["addresses"]["beta"]
    assert beta[0]["addr"] == "10.20.0.77" and beta[0]["version"] == 4
    assert beta[0]["OS-EXT-IPS:type"] == "fixed" and beta[0]["OS-EXT-IPS-MAC:mac_addr"]
    ports = ports_of(cl, sid)
    assert len(ports) == 2
    host = s["OS-EXT-SRV-ATTR:host"]
    for p in ports:
        assert p["device_owner"] == "compute:nova" and p["binding:host_id"] == host
        assert p["status"] == "ACTIVE" and len(p["security_groups"]) == 1
    listed = nova("GET", "/servers/detail", expect=200).json()["servers"]
    assert [x for x in listed if x["id"] == sid][0]["addresses"] == s["addresses"]
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)
    assert ports_of(cl, sid) == []
    # the fixed address is free again
    r = boot(nova, image, flavors[0], networks=[{"uuid": b["id"], "fixed_ip": "10.20.0.77"}])
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)


def test_port_taken_over_and_detached(nova, cl, image, flavors, nets):
    (a, _), _ = nets
    p = net(cl, "/v2.0/ports", "POST", json={"port": {"network_id": a["id"], "name": "mine"}},
            expect=201).json()["port"]
    sid = boot(nova, image, flavors[0], networks=[{"port": p["id"]}]).json()["server"]["id"]
    s = wait(nova, sid, "ACTIVE")
    assert s["addresses"]["alpha"][0]["addr"] == p["fixed_ips"][0]["ip_address"]
    # a port in use cannot go to another server
    r = boot(nova, image, flavors[0], networks=[{"port": p["id"]}], expect=409)
    assert r.json()["conflictingRequest"]["message"] == "Port %s is still in use." % p["id"]
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)
    kept = net(cl, "/v2.0/ports/" + p["id"], expect=200).json()["port"]
    assert kept["device_id"] == "" and kept["binding:host_id"] == ""
    assert kept["fixed_ips"] == p["fixed_ips"]


def test_auto_and_default_choice(nova, cl, image, flavors, nets):
    m = cl.member()
    tok = m["token"]
    # a project with no network: "auto" cannot be served, "none" can
    r = boot(nova, image, flavors[0], version="2.37", networks="auto", token=tok, expect=400)
    assert "Unable to automatically allocate a network" in r.text
    n = net(cl, "/v2.0/networks", "POST", token=tok, json={"network": {"name": "only"}},
            expect=201).json()["network"]
    net(cl, "/v2.0/subnets", "POST", token=tok, json={"subnet": {
        "network_id": n["id"], "cidr": "192.168.5.0/24", "ip_version": 4}}, expect=201)
    sid = boot(nova, image, flavors[0], token=tok).json()["server"]["id"]
    s = wait(nova, sid, "ACTIVE")
    assert list(s["addresses"]) == ["only"]
    sid2 = boot(nova, image, flavors[0], version="2.37", networks="none",
                token=tok).json()["server"]["id"]
    assert wait(nova, sid2, "ACTIVE")["addresses"] == {}
    net(cl, "/v2.0/networks", "POST", token=tok, json={"network": {"name": "second"}},
        expect=201)
    r = boot(nova, image, flavors[0], version="2.37", networks="auto", token=tok, expect=409)
    assert "Multiple possible networks found" in r.text


def test_security_groups_by_name(nova, cl, image, flavors, nets):
    (a, _), _ = nets
    g = net(cl, "/v2.0/security-groups", "POST", json={"security_group": {"name": "web"}},
            expect=201).json()["security_group"]
    sid = boot(nova, image, flavors[0], networks=[{"uuid": a["id"]}],
               security_groups=[{"name": "web"}]).json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    assert ports_of(cl, sid)[0]["security_groups"] == [g["id"]]
    r = boot(nova, image, flavors[0], networks=[{"uuid": a["id"]}],
             security_groups=[{"name": "nope"}], expect=400)
    assert "Security group nope not found" in r.text


@pytest.mark.parametrize("networks,status,msg", [
    ([{"uuid": "a-b-c-d-e-f-g-h-i-j", "fixed_ip": "10.0.1.1"}], 400, "Bad networks format"),
    ([{"uuid": "0b0b0b0b-0000-4000-8000-000000000000"}], 400, "could not be found"),
    ([{"port": "0b0b0b0b-0000-4000-8000-000000000000"}], 400, "could not be found"),
    ([{"uuid": None}], 400, ""),
    ([{"fixed_ip": "nope", "uuid": "0b0b0b0b-0000-4000-8000-000000000000"}], 400,
     "Invalid fixed IP address"),
    ([{"uuid": "0b0b0b0b-0000-4000-8000-000000000000", "bogus": 1}], 400, "bogus"),
])
def test_network_errors(nova, image, flavors, networks, status, msg):
    r = boot(nova, image, flavors[0], networks=networks, expect=status)
    assert msg in r.text


def test_failed_create_leaves_no_port(nova, cl, image, flavors, nets):
    (a, _), (b, _) = nets
    before = len(net(cl, "/v2.0/ports", expect=200).json()["ports"])
    # the second NIC's address is taken: the first NIC's port goes again
    taken = net(cl, "/v2.0/ports", "POST", json={"port": {
        "network_id": b["id"], "fixed_ips": [{"ip_address": "10.20.0.99"}]}},
        expect=201).json()["port"]
    r = boot(nova, image, flavors[0], networks=[{"uuid": a["id"]},
                                                {"uuid": b["id"], "fixed_ip": "10.20.0.99"}],
             expect=400)
    assert "10.20.0.99" in r.text
    after = net(cl, "/v2.0/ports", expect=200).json()["ports"]
    assert len(after) == before + 1 and taken["id"] in {p["id"] for p in after}
    r = boot(nova, image, flavors[0], networks=[{"port": taken["id"]}], min_count=2,
             expect=400)
    assert "single configured port ID" in r.text


def test_list_filtered_by_ip(nova, cl, image, flavors, nets):
    (a, _), _ = nets
    one = boot(nova, image, flavors[0], networks=[{"uuid": a["id"],
                                                   "fixed_ip": "10.10.0.201"}])
    two = boot(nova, image, flavors[0], networks=[{"uuid": a["id"],
                                                   "fixed_ip": "10.10.0.202"}])
    ids = [r.json()["server"]["id"] for r in (one, two)]
    for sid in ids:
        wait(nova, sid, "ACTIVE")
    found = lambda q: {s["id"] for s in nova(  # noqa: E731
        "GET", "/servers/detail?" + q, expect=200).json()["servers"]}
    assert found("ip=10.10.0.201") == {ids[0]}
    assert found("ip=10.10.0.20") >= set(ids)
    assert found("ip=^10\\.10\\.0\\.202$") == {ids[1]}
    assert found("ip=192.0.2.") == set()
    # update answers with the basic view: addresses without the extensions
    up = nova("PUT", "/servers/" + ids[0], json={"server": {"name": "renamed"}},
              expect=200).json()["server"]
    assert up["addresses"]["alpha"] == [{"version": 4, "addr": "10.10.0.201"}]
    assert found("ip6=2001:") == set()
    nova("GET", "/servers?ip=(", expect=400)
    for sid in ids:
        nova("DELETE", "/servers/" + sid, expect=204)


def test_interface_attach_list_detach(nova, cl, image, flavors, nets):
    (a, _), _ = nets
    b, bsub = make_net(cl, "gamma", "10.31.0.0/24")
    sid = boot(nova, image, flavors[0], networks=[{"uuid": a["id"]}]).json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    ifs = nova("GET", "/servers/%s/os-interface" % sid,
               expect=200).json()["interfaceAttachments"]
    assert [i["net_id"] for i in ifs] == [a["id"]] and ifs[0]["port_state"] == "ACTIVE"
    att = nova("POST", "/servers/%s/os-interface" % sid, expect=200, json={
        "interfaceAttachment": {"net_id": b["id"],
                                "fixed_ips": [{"ip_address": "10.31.0.99"}]}}
    ).json()["interfaceAttachment"]
    assert att["net_id"] == b["id"] and att["fixed_ips"] == [
        {"subnet_id": bsub["id"], "ip_address": "10.31.0.99"}]
    host = nova("GET", "/servers/" + sid, expect=200).json()["server"]["OS-EXT-SRV-ATTR:host"]
    port = net(cl, "/v2.0/ports/" + att["port_id"], expect=200).json()["port"]
    assert port["device_id"] == sid and port["binding:host_id"] == host
    shown = nova("GET", "/servers/%s/os-interface/%s" % (sid, att["port_id"]),
                 expect=200).json()["interfaceAttachment"]
    assert shown == att
    addrs = nova("GET", "/servers/" + sid, expect=200).json()["server"]["addresses"]
    assert set(addrs) == {"alpha", "gamma"}
    # a port of the user's own is taken over, and only detached later
    own = net(cl, "/v2.0/ports", "POST", expect=201,
              json={"port": {"network_id": b["id"]}}).json()["port"]
    nova("POST", "/servers/%s/os-interface" % sid, expect=200,
         json={"interfaceAttachment": {"port_id": own["id"]}})
    nfault = nova("POST", "/servers/%s/os-interface" % sid,
                  json={"interfaceAttachment": {"port_id": own["id"]}})
    assert nfault.status_code == 409, nfault.text
    bad = nova("POST", "/servers/%s/os-interface" % sid,
               json={"interfaceAttachment": {"net_id": b["id"], "port_id": own["id"]}})
    assert bad.status_code == 400, bad.text
    gone = nova("POST", "/servers/%s/os-interface" % sid,
                json={"interfaceAttachment": {"net_id": "0" * 32}})
    assert gone.status_code == 404, gone.text
    nova("DELETE", "/servers/%s/os-interface/%s" % (sid, att["port_id"]), expect=202)
    net(cl, "/v2.0/ports/" + att["port_id"], expect=404)
    nova("DELETE", "/servers/%s/os-interface/%s" % (sid, own["id"]), expect=202)
    kept = net(cl, "/v2.0/ports/" + own["id"], expect=200).json()["port"]
    assert kept["device_id"] == "" and kept["binding:host_id"] == ""
    nova("DELETE", "/servers/%s/os-interface/%s" % (sid, own["id"]), expect=404)
    actions = [x["action"] for x in nova("GET", "/servers/%s/os-instance-actions" % sid,
                                         expect=200).json()["instanceActions"]]
    assert actions.count("attach_interface") == 2 and actions.count("detach_interface") == 2
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)
    net(cl, "/v2.0/ports/" + own["id"], "DELETE", expect=204)
