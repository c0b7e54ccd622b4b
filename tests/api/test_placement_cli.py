"""The unmodified `openstack` CLI with its placement plugin (osc-placement
from Debian) against /placement: providers, inventories, resource
classes, traits, allocation candidates and allocations."""

import uuid

import pytest

from conftest import REFERENCE, unique

pytestmark = pytest.mark.skipif(bool(REFERENCE), reason="the reference Keystone has no placement")


@pytest.fixture(scope="module")
def osc(cloud):
    def run(*args, mv=None, **kw):
        extra = ["--os-placement-api-version", mv] if mv else []
        return cloud.cli(*(extra + list(args)), **kw)
    return run


def test_cli_provider_inventory_allocation(osc, cloud):
    name = unique("clirp")
    rp = osc("resource", "provider", "create", name)
    assert rp["name"] == name and rp["generation"] == 0
    u = rp["uuid"]
    listed = osc("resource", "provider", "list", "--name", name)
    assert [r["uuid"] for r in listed] == [u]
    shown = osc("resource", "provider", "show", u, mv="1.14")
    assert shown["root_provider_uuid"] == u and shown["parent_provider_uuid"] is None

    inv = osc("resource", "provider", "inventory", "set", u, "--resource", "VCPU=4",
              "--resource", "VCPU:allocation_ratio=2.0", "--resource", "MEMORY_MB=2048",
              "--resource", "MEMORY_MB:reserved=512")
    by = {r["resource_class"]: r for r in inv}
    assert by["VCPU"]["total"] == 4 and by["VCPU"]["allocation_ratio"] == 2.0
    assert by["MEMORY_MB"]["reserved"] == 512
    listed = osc("resource", "provider", "inventory", "list", u)
    assert {r["resource_class"] for r in listed} == {"VCPU", "MEMORY_MB"}

    cands = osc("allocation", "candidate", "list", "--resource", "VCPU=1", mv="1.10")
    assert u in [c["resource provider"] for c in cands], cands

    consumer = str(uuid.uuid4())
    project, user = uuid.uuid4().hex, uuid.uuid4().hex
    got = osc("resource", "provider", "allocation", "set", consumer, "--allocation",
              "rp=%s,VCPU=2,MEMORY_MB=256" % u, "--project-id", project, "--user-id", user,
              mv="1.12")
    assert got[0]["resource_provider"] == u and got[0]["resources"] == {
        "VCPU": 2, "MEMORY_MB": 256}, got
    shown = osc("resource", "provider", "allocation", "show", consumer, mv="1.12")
    assert shown[0]["resources"] == {"VCPU": 2, "MEMORY_MB": 256}, shown
    usage = osc("resource", "provider", "usage", "show", u)
    assert {r["resource_class"]: r["usage"] for r in usage} == {"VCPU": 2, "MEMORY_MB": 256}
    # more than the capacity (4 * 2.0 = 8 VCPU) fails cleanly
    p = osc("resource", "provider", "allocation", "set", str(uuid.uuid4()), "--allocation",
            "rp=%s,VCPU=7" % u, "--project-id", project, "--user-id", user, mv="1.12",
            expect_rc=1, json_out=False)
    assert "409" in p.stderr or "capacity" in p.stderr, p.stderr
    osc("resource", "provider", "allocation", "delete", consumer, json_out=False)
    assert osc("resource", "provider", "allocation", "show", consumer, mv="1.12") == []
    osc("resource", "provider", "delete", u, json_out=False)
    p = osc("resource", "provider", "show", u, expect_rc=1, json_out=False)
    assert "404" in p.stderr or "No resource provider" in p.stderr, p.stderr


def test_cli_classes_and_traits(osc):
    rc = "CUSTOM_CLI_" + uuid.uuid4().hex[:6].upper()
    osc("resource", "class", "create", rc, mv="1.2", json_out=False)
    names = [r["name"] for r in osc("resource", "class", "list", mv="1.2")]
    assert rc in names and "VCPU" in names
    osc("resource", "class", "delete", rc, mv="1.2", json_out=False)

    trait = "CUSTOM_CLI_" + uuid.uuid4().hex[:6].upper()
    osc("trait", "create", trait, mv="1.6", json_out=False)
    names = [r["name"] for r in osc("trait", "list", mv="1.6")]
    assert trait in names and "STORAGE_DISK_SSD" in names
    rp = osc("resource", "provider", "create", unique("clirp"))
    got = osc("resource", "provider", "trait", "set", "--trait", trait, "--trait",
              "STORAGE_DISK_SSD", rp["uuid"], mv="1.6")
    assert sorted(r["name"] for r in got) == sorted([trait, "STORAGE_DISK_SSD"])
    got = osc("resource", "provider", "trait", "list", rp["uuid"], mv="1.6")
    assert sorted(r["name"] for r in got) == sorted([trait, "STORAGE_DISK_SSD"])
    osc("resource", "provider", "trait", "delete", rp["uuid"], mv="1.6", json_out=False)
    osc("trait", "delete", trait, mv="1.6", json_out=False)
    osc("resource", "provider", "delete", rp["uuid"], json_out=False)
