"""Neutron routers and floating IPs: create with an external gateway (a
port on the external network, SNAT on), interfaces by subnet (the gateway
address) and by port, overlap and gateway checks, extra routes, router
ports protected from the port API, in-use conflicts; floating IPs created,
associated through the router, disassociated, released with their address;
the CLI's router / floating ip commands."""

import pytest

from test_network import create, fault, net


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("netrouters")


def subnet(cl, network, cidr, **kw):
    body = {"network_id": network, "cidr": cidr, "ip_version": 4}
    body.update(kw)
    return net(cl, "/v2.0/subnets", "POST", json={"subnet": body}, expect=201).json()["subnet"]


def router(cl, **attrs):
    return net(cl, "/v2.0/routers", "POST", json={"router": attrs},
               expect=201).json()["router"]


def iface(cl, rid, op="add", expect=200, token="admin", **body):
    return net(cl, "/v2.0/routers/%s/%s_router_interface" % (rid, op), "PUT", json=body,
               expect=expect, token=token)


@pytest.fixture(scope="module")
def ext(cl):
    n = create(cl, name="public", **{"router:external": True})
    s = subnet(cl, n["id"], "203.0.113.0/24", enable_dhcp=False,
               allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.20"}])
    return n, s


def test_router_gateway_interfaces_routes(cl, ext):
    e, es = ext
    r = router(cl, name="r1", external_gateway_info={"network_id": e["id"]})
    gw = r["external_gateway_info"]
    assert gw["network_id"] == e["id"] and gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["subnet_id"] == es["id"]
    assert r["status"] == "ACTIVE" and r["routes"] == [] and r["admin_state_up"] is True
    n = create(cl, name="inside")
    s = subnet(cl, n["id"], "10.50.0.0/24")
    out = iface(cl, r["id"], subnet_id=s["id"]).json()
    assert out["id"] == r["id"] and out["subnet_id"] == s["id"]
    assert out["network_id"] == n["id"] and out["subnet_ids"] == [s["id"]]
    p = net(cl, "/v2.0/ports/" + out["port_id"], expect=200).json()["port"]
    assert p["device_owner"] == "network:router_interface" and p["device_id"] == r["id"]
    assert p["fixed_ips"][0]["ip_address"] == "10.50.0.1"
    fault(net(cl, "/v2.0/ports/" + p["id"], "DELETE"), 409, "L3PortInUse")
    # the same subnet twice, an overlapping one, a subnet with no gateway
    e = fault(iface(cl, r["id"], expect=400, subnet_id=s["id"]), 400, "BadRequest")
    assert "already has a port on subnet" in e["message"]
    n2 = create(cl, name="overlap")
    s2 = subnet(cl, n2["id"], "10.50.0.0/25")
    fault(iface(cl, r["id"], expect=400, subnet_id=s2["id"]), 400, "BadRequest")
    s3 = subnet(cl, create(cl, name="nogw")["id"], "10.60.0.0/24", gateway_ip=None)
    fault(iface(cl, r["id"], expect=400, subnet_id=s3["id"]), 400, "BadRequest")
    fault(iface(cl, r["id"], expect=400), 400, "BadRequest")
    # extra routes: the nexthop must be on an interface's subnet
    up = net(cl, "/v2.0/routers/" + r["id"], "PUT", json={"router": {"routes": [
        {"destination": "192.168.9.0/24", "nexthop": "10.50.0.9"}]}},
        expect=200).json()["router"]
    assert up["routes"] == [{"destination": "192.168.9.0/24", "nexthop": "10.50.0.9"}]
    fault(net(cl, "/v2.0/routers/" + r["id"], "PUT", json={"router": {"routes": [
        {"destination": "192.168.9.0/24", "nexthop": "172.16.0.1"}]}}), 400, "InvalidRoutes")
    # null clears the routes (as Tempest's clean-ups send it); {} is no gateway
    up = net(cl, "/v2.0/routers/" + r["id"], "PUT", json={"router": {"routes": None}},
             expect=200).json()["router"]
    assert up["routes"] == []
    bare = net(cl, "/v2.0/routers", "POST", json={"router": {
        "name": "bare", "external_gateway_info": {}}}, expect=201).json()["router"]
    assert bare["external_gateway_info"] is None
    net(cl, "/v2.0/routers/" + bare["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/routers/" + r["id"], "DELETE"), 409, "RouterInUse")
    iface(cl, r["id"], "remove", subnet_id=s["id"])
    fault(iface(cl, r["id"], "remove", expect=404, subnet_id=s["id"]), 404,
          "RouterInterfaceNotFoundForSubnet")
    fault(net(cl, "/v2.0/ports/" + p["id"]), 404, "PortNotFound")
    # interface by port
    port = net(cl, "/v2.0/ports", "POST", json={"port": {"network_id": n["id"]}},
               expect=201).json()["port"]
    out = iface(cl, r["id"], port_id=port["id"]).json()
    assert out["port_id"] == port["id"]
    iface(cl, r["id"], "remove", port_id=port["id"])
    # a gateway on a network that is not external
    fault(net(cl, "/v2.0/routers/" + r["id"], "PUT", json={"router": {
        "external_gateway_info": {"network_id": n["id"]}}}), 400, "BadRequest")
    gwport = net(cl, "/v2.0/ports?device_owner=network:router_gateway&device_id=" + r["id"],
                 expect=200).json()["ports"]
    assert len(gwport) == 1
    cleared = net(cl, "/v2.0/routers/" + r["id"], "PUT", json={"router": {
        "external_gateway_info": None}}, expect=200).json()["router"]
    assert cleared["external_gateway_info"] is None
    assert net(cl, "/v2.0/ports?device_id=" + r["id"], expect=200).json()["ports"] == []
    net(cl, "/v2.0/routers/" + r["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/routers/" + r["id"]), 404, "RouterNotFound")


def test_floating_ips(cl, ext):
    e, es = ext
    m = cl.member()
    tok = m["token"]
    n = net(cl, "/v2.0/networks", "POST", token=tok, json={"network": {"name": "mine"}},
            expect=201).json()["network"]
    s = net(cl, "/v2.0/subnets", "POST", token=tok, json={"subnet": {
        "network_id": n["id"], "cidr": "10.70.0.0/24", "ip_version": 4}},
        expect=201).json()["subnet"]
    port = net(cl, "/v2.0/ports", "POST", token=tok, json={"port": {"network_id": n["id"]}},
               expect=201).json()["port"]
    fixed = port["fixed_ips"][0]["ip_address"]
    # no router to the external network yet
    fault(net(cl, "/v2.0/floatingips", "POST", token=tok, json={"floatingip": {
        "floating_network_id": e["id"], "port_id": port["id"]}}), 404,
        "ExternalGatewayForFloatingIPNotFound")
    r = net(cl, "/v2.0/routers", "POST", token=tok, json={"router": {
        "name": "mr", "external_gateway_info": {"network_id": e["id"]}}},
        expect=201).json()["router"]
    iface(cl, r["id"], token=tok, subnet_id=s["id"])
    f = net(cl, "/v2.0/floatingips", "POST", token=tok, json={"floatingip": {
        "floating_network_id": e["id"], "port_id": port["id"]}},
        expect=201).json()["floatingip"]
    assert f["fixed_ip_address"] == fixed and f["router_id"] == r["id"]
    assert f["status"] == "ACTIVE" and f["floating_ip_address"].startswith("203.0.113.")
    assert f["project_id"] == m["project"]["id"]
    fault(net(cl, "/v2.0/floatingips", "POST", token=tok, json={"floatingip": {
        "floating_network_id": e["id"], "port_id": port["id"]}}), 409,
        "FloatingIPPortAlreadyAssociated")
    fault(net(cl, "/v2.0/floatingips", "POST", token=tok, json={"floatingip": {
        "floating_network_id": n["id"]}}), 400, "BadRequest")
    fault(net(cl, "/v2.0/floatingips", "POST", token=tok, json={"floatingip": {
        "floating_network_id": e["id"], "floating_ip_address": "203.0.113.15"}}), 403,
        "HTTPForbidden")
    # the interface is needed while the floating IP uses it
    fault(iface(cl, r["id"], "remove", expect=409, token=tok, subnet_id=s["id"]), 409,
          "RouterInterfaceInUseByFloatingIP")
    d = net(cl, "/v2.0/floatingips/" + f["id"], "PUT", token=tok,
            json={"floatingip": {"port_id": None}}, expect=200).json()["floatingip"]
    assert d["port_id"] is None and d["fixed_ip_address"] is None and d["status"] == "DOWN"
    a = net(cl, "/v2.0/floatingips/" + f["id"], "PUT", token=tok,
            json={"floatingip": {"port_id": port["id"]}}, expect=200).json()["floatingip"]
    assert a["fixed_ip_address"] == fixed
    other = cl.member()
    fault(net(cl, "/v2.0/floatingips/" + f["id"], token=other["token"]), 404,
          "FloatingIPNotFound")
    # deleting the port disassociates the floating IP
    net(cl, "/v2.0/ports/" + port["id"], "DELETE", token=tok, expect=204)
    got = net(cl, "/v2.0/floatingips/" + f["id"], token=tok, expect=200).json()["floatingip"]
    assert got["port_id"] is None
    net(cl, "/v2.0/floatingips/" + f["id"], "DELETE", token=tok, expect=204)
    fault(net(cl, "/v2.0/floatingips/" + f["id"], token=tok), 404, "FloatingIPNotFound")
    # admin picks the address (one no port holds: IPAM hands out addresses
    # in random order); the same one twice is refused
    held = {ip["ip_address"] for p in net(cl, "/v2.0/ports?network_id=" + e["id"],
                                          expect=200).json()["ports"] for ip in p["fixed_ips"]}
    free = next("203.0.113.%d" % i for i in range(15, 250) if "203.0.113.%d" % i not in held)
    f2 = net(cl, "/v2.0/floatingips", "POST", json={"floatingip": {
        "floating_network_id": e["id"], "floating_ip_address": free}},
        expect=201).json()["floatingip"]
    assert f2["floating_ip_address"] == free
    fault(net(cl, "/v2.0/floatingips", "POST", json={"floatingip": {
        "floating_network_id": e["id"], "floating_ip_address": free}}), 409,
        "IpAddressInUse")
    net(cl, "/v2.0/floatingips/" + f2["id"], "DELETE", expect=204)


def test_cli_router_and_floating_ip(cl, ext):
    e, _ = ext
    cl.cli("network", "create", "cli-net")
    cl.cli("subnet", "create", "--network", "cli-net", "--subnet-range", "10.80.0.0/24",
           "cli-sub")
    cl.cli("router", "create", "cli-router")
    cl.cli("router", "add", "subnet", "cli-router", "cli-sub", json_out=False)
    cl.cli("router", "set", "--external-gateway", e["id"], "cli-router", json_out=False)
    r = cl.cli("router", "show", "cli-router")
    assert r["external_gateway_info"]["network_id"] == e["id"]
    f = cl.cli("floating", "ip", "create", e["id"])
    assert f["floating_ip_address"].startswith("203.0.113.")
    cl.cli("floating", "ip", "delete", f["id"], json_out=False)
    cl.cli("router", "remove", "subnet", "cli-router", "cli-sub", json_out=False)
    cl.cli("router", "delete", "cli-router", json_out=False)
