"""Neutron subnets and ports: cidr, gateway, pools, DNS and routes
validation in Neutron's words; IPv6 modes and SLAAC addresses; the DHCP
port following the DHCP subnets; IPAM (asked-for and automatic addresses,
exhaustion, no address ever given twice under concurrent creates); MAC
addresses; in-use conflicts on subnet and network delete."""

import concurrent.futures
import ipaddress

import pytest

from test_network import create, fault, net


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("netports")


def subnet(cl, network, cidr, expect=201, **kw):
    body = {"network_id": network, "cidr": cidr,
            "ip_version": 6 if ":" in cidr else 4}
    body.update(kw)
    r = net(cl, "/v2.0/subnets", "POST", json={"subnet": body})
    if expect == 201:
        assert r.status_code == 201, r.text
        return r.json()["subnet"]
    return r


def port(cl, network, expect=201, **kw):
    body = {"network_id": network}
    body.update(kw)
    r = net(cl, "/v2.0/ports", "POST", json={"port": body})
    if expect == 201:
        assert r.status_code == 201, r.text
        return r.json()["port"]
    return r


def dhcp_ports(cl, network):
    return net(cl, "/v2.0/ports?device_owner=network:dhcp&network_id=" + network,
               expect=200).json()["ports"]


def test_subnet_defaults_and_dhcp_port(cl):
    n = create(cl, name="s1")
    s = subnet(cl, n["id"], "10.1.0.0/24", dns_nameservers=["10.1.0.53"],
               host_routes=[{"destination": "192.168.0.0/24", "nexthop": "10.1.0.5"}])
    assert s["gateway_ip"] == "10.1.0.1" and s["enable_dhcp"] is True
    assert s["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    assert s["ipv6_ra_mode"] is None and s["revision_number"] == 1
    got = net(cl, "/v2.0/networks/" + n["id"], expect=200).json()["network"]
    assert got["subnets"] == [s["id"]]
    d = dhcp_ports(cl, n["id"])
    assert len(d) == 1 and d[0]["status"] == "ACTIVE"
    assert d[0]["fixed_ips"][0]["subnet_id"] == s["id"]
    # DHCP off: the DHCP port goes
    net(cl, "/v2.0/subnets/" + s["id"], "PUT", json={"subnet": {"enable_dhcp": False}},
        expect=200)
    assert dhcp_ports(cl, n["id"]) == []
    up = net(cl, "/v2.0/subnets/" + s["id"], "PUT", json={"subnet": {
        "name": "renamed", "gateway_ip": None, "dns_nameservers": []}}, expect=200).json()
    assert up["subnet"]["gateway_ip"] is None and up["subnet"]["name"] == "renamed"
    net(cl, "/v2.0/subnets/" + s["id"], "DELETE", expect=204)
    fault(net(cl, "/v2.0/subnets/" + s["id"]), 404, "SubnetNotFound")


@pytest.mark.parametrize("cidr, kw, status, type_", [
    ("10.2.0.1/24", {}, 400, "InvalidInput"),                  # host bits
    ("10.2.0.0/33", {}, 400, "InvalidInput"),
    ("nonsense", {}, 400, "InvalidInput"),
    ("10.2.0.0/24", {"ip_version": 6}, 400, "InvalidInput"),
    ("10.2.0.0/24", {"gateway_ip": "10.2.0.0"}, 400, "InvalidInput"),
    ("10.2.0.0/24", {"allocation_pools": [{"start": "10.2.1.1", "end": "10.2.1.9"}]}, 400,
     "OutOfBoundsAllocationPool"),
    ("10.2.0.0/24", {"allocation_pools": [{"start": "10.2.0.1", "end": "10.2.0.9"}]}, 409,
     "GatewayConflictWithAllocationPools"),
    ("10.2.0.0/24", {"allocation_pools": [{"start": "10.2.0.10", "end": "10.2.0.20"},
                                          {"start": "10.2.0.15", "end": "10.2.0.30"}]}, 400,
     "OverlappingAllocationPools"),
    ("10.2.0.0/24", {"dns_nameservers": ["10.0.0.1", "10.0.0.1"]}, 400, "InvalidInput"),
    ("10.2.0.0/24", {"dns_nameservers": ["1.1.1.%d" % i for i in range(6)]}, 400,
     "DNSNameServersExhausted"),
    ("10.2.0.0/24", {"host_routes": [{"destination": "x", "nexthop": "10.2.0.1"}]}, 400,
     "InvalidInput"),
    ("10.2.0.0/24", {"ipv6_ra_mode": "slaac"}, 400, "InvalidInput"),
    ("2001:db8::/64", {"ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"}, 400,
     "InvalidInput"),
    ("2001:db8::/64", {"ipv6_address_mode": "bogus"}, 400, "InvalidInput"),
    ("2001:db8::/80", {"ipv6_address_mode": "slaac"}, 400, "InvalidInput"),
])
def test_subnet_validation(cl, cidr, kw, status, type_):
    n = create(cl, name="bad")
    fault(subnet(cl, n["id"], cidr, expect=None, **kw), status, type_)


def test_overlap_and_visibility(cl):
    n = create(cl, name="ov")
    subnet(cl, n["id"], "10.3.0.0/24")
    fault(subnet(cl, n["id"], "10.3.0.128/25", expect=None), 400, "InvalidInput")
    other = create(cl, name="ov2")
    subnet(cl, other["id"], "10.3.0.0/24")       # another network may reuse it
    m = cl.member()
    fault(net(cl, "/v2.0/subnets", "POST", token=m["token"], json={"subnet": {
        "network_id": n["id"], "cidr": "10.9.0.0/24", "ip_version": 4}}), 404,
        "NetworkNotFound")
    assert net(cl, "/v2.0/subnets", token=m["token"], expect=200).json()["subnets"] == []


def test_ports_ipam_mac_and_conflicts(cl):
    n = create(cl, name="p1")
    # the addresses asked for by hand (.77, .78) lie above the pool, where
    # the random allocations (the DHCP port's, port a's) cannot take them
    s = subnet(cl, n["id"], "10.4.0.0/24",
               allocation_pools=[{"start": "10.4.0.2", "end": "10.4.0.63"}])
    p = port(cl, n["id"], name="a")
    assert p["status"] == "DOWN" and p["mac_address"].startswith("fa:16:3e:")
    ip = p["fixed_ips"][0]["ip_address"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.4.0.0/24")
    q = port(cl, n["id"], fixed_ips=[{"subnet_id": s["id"], "ip_address": "10.4.0.77"}])
    assert q["fixed_ips"] == [{"subnet_id": s["id"], "ip_address": "10.4.0.77"}]
    fault(port(cl, n["id"], expect=None, fixed_ips=[{"ip_address": "10.4.0.77"}]), 409,
          "IpAddressAlreadyAllocated")
    fault(port(cl, n["id"], expect=None, fixed_ips=[{"ip_address": "10.5.0.1"}]), 400,
          "InvalidIpForSubnet")
    fault(port(cl, n["id"], expect=None, mac_address=p["mac_address"]), 409, "MacAddressInUse")
    fault(port(cl, n["id"], expect=None, mac_address="01:00:5e:00:00:01"), 400,
          "HTTPBadRequest")
    fault(port(cl, n["id"], expect=None, port_security_enabled=False,
               allowed_address_pairs=[{"ip_address": "10.4.0.0/24"}]), 409,
          "AddressPairAndPortSecurityRequired")
    # binding is the admin's; the view shows it to the admin only
    b = net(cl, "/v2.0/ports/" + p["id"], "PUT", json={"port": {
        "binding:host_id": "host1", "device_owner": "compute:nova", "device_id": "vm-1"}},
        expect=200).json()["port"]
    assert b["status"] == "ACTIVE" and b["binding:vif_type"] == "bridge"
    # new fixed_ips replace the old ones, the old address is free again
    u = net(cl, "/v2.0/ports/" + q["id"], "PUT", json={"port": {
        "fixed_ips": [{"ip_address": "10.4.0.78"}]}}, expect=200).json()["port"]
    assert [f["ip_address"] for f in u["fixed_ips"]] == ["10.4.0.78"]
    port(cl, n["id"], fixed_ips=[{"ip_address": "10.4.0.77"}])
    # in use: the subnet and the network
    fault(net(cl, "/v2.0/subnets/" + s["id"], "DELETE"), 409, "SubnetInUse")
    fault(net(cl, "/v2.0/networks/" + n["id"], "DELETE"), 409, "NetworkInUse")
    for x in net(cl, "/v2.0/ports?network_id=" + n["id"], expect=200).json()["ports"]:
        if x["device_owner"] != "network:dhcp":
            net(cl, "/v2.0/ports/" + x["id"], "DELETE", expect=204)
    net(cl, "/v2.0/networks/" + n["id"], "DELETE", expect=204)
    assert net(cl, "/v2.0/ports?network_id=" + n["id"], expect=200).json()["ports"] == []
    fault(net(cl, "/v2.0/subnets/" + s["id"]), 404, "SubnetNotFound")


def test_ipv6_slaac_and_stateful(cl):
    n = create(cl, name="v6")
    s4 = subnet(cl, n["id"], "10.6.0.0/24")
    sl = subnet(cl, n["id"], "2001:db8:6::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    st = subnet(cl, n["id"], "2001:db8:7::/64", ipv6_ra_mode="dhcpv6-stateful",
                ipv6_address_mode="dhcpv6-stateful")
    p = port(cl, n["id"], mac_address="fa:16:3e:12:34:56")
    by = {f["subnet_id"]: f["ip_address"] for f in p["fixed_ips"]}
    assert set(by) == {s4["id"], sl["id"], st["id"]}, p["fixed_ips"]
    assert by[sl["id"]] == "2001:db8:6:0:f816:3eff:fe12:3456"
    fault(port(cl, n["id"], expect=None, fixed_ips=[
        {"subnet_id": sl["id"], "ip_address": "2001:db8:6::99"}]), 400, "InvalidInput")


def test_exhaustion_and_concurrent_creates_never_share_an_address(cl):
    n = create(cl, name="small")
    s = subnet(cl, n["id"], "10.7.0.0/27", enable_dhcp=False)   # 29 addresses in the pool
    pool = 29

    def one(i):
        return net(cl, "/v2.0/ports", "POST", json={"port": {"network_id": n["id"]}})
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(pool + 6)))
    ok = [r.json()["port"] for r in results if r.status_code == 201]
    full = [r for r in results if r.status_code == 409]
    assert len(ok) == pool and len(full) == 6, [r.status_code for r in results]
    assert all(r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure" for r in full)
    ips = [p["fixed_ips"][0]["ip_address"] for p in ok]
    assert len(set(ips)) == pool
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(s["cidr"]) for ip in ips)
    rows = cl.sql("SELECT COUNT(*), COUNT(DISTINCT ip_address) FROM net_ipalloc WHERE "
                  "subnet_id = '%s'" % s["id"])
    assert [int(x) for x in rows[0]] == [pool, pool]


def test_listing_ports_by_device(cl):
    n = create(cl, name="dev")
    subnet(cl, n["id"], "10.8.0.0/24")
    a = port(cl, n["id"], device_id="srv-a", device_owner="compute:nova")
    port(cl, n["id"], device_id="srv-b", device_owner="compute:nova")
    got = net(cl, "/v2.0/ports?device_id=srv-a", expect=200).json()["ports"]
    assert [p["id"] for p in got] == [a["id"]]
    m = cl.member()
    fault(net(cl, "/v2.0/ports/" + a["id"], token=m["token"]), 404, "PortNotFound")
    fault(net(cl, "/v2.0/ports", "POST", token=m["token"], json={"port": {
        "network_id": n["id"], "binding:host_id": "h"}}), 403, "HTTPForbidden")


def test_cli_network_subnet_port(cl):
    cl.cli("network", "create", "cli-net")
    s = cl.cli("subnet", "create", "--network", "cli-net", "--subnet-range", "10.20.0.0/24",
               "cli-sub")
    assert s["cidr"] == "10.20.0.0/24" and s["gateway_ip"] == "10.20.0.1"
    p = cl.cli("port", "create", "--network", "cli-net", "--fixed-ip",
               "subnet=cli-sub,ip-address=10.20.0.9", "cli-port")
    assert "10.20.0.9" in str(p["fixed_ips"])
    names = [x["Name"] for x in cl.cli("port", "list", "--network", "cli-net")]
    assert "cli-port" in names
    cl.cli("port", "delete", "cli-port", json_out=False)
    cl.cli("subnet", "delete", "cli-sub", json_out=False)
    cl.cli("network", "delete", "cli-net", json_out=False)
    assert "cli-net" not in [x["Name"] for x in cl.cli("network", "list")]
