"""Compute responses checked against Tempest's response schemas (the
contract Tempest's compute API tests enforce), installed with Debian's
python3-tempest, at the microversions where the shapes change."""

import functools

import jsonschema
import pytest

from conftest import unique
from compute_helpers import compute_call

S = "tempest.lib.api_schema.response.compute."


def schema(module, name):
    import importlib
    return getattr(importlib.import_module(S + module), name)


def check(r, module, name):
    s = schema(module, name)
    assert r.status_code in s["status_code"], (r.status_code, r.text)
    if "response_body" in s:
        jsonschema.validate(r.json(), s["response_body"])


@pytest.fixture(scope="module")
def nova(cloud):
    return functools.partial(compute_call, cloud)


@pytest.fixture(scope="module")
def flavor(nova):
    body = {"name": unique("sch"), "ram": 64, "vcpus": 1, "disk": 0}
    f = nova("POST", "/flavors", json={"flavor": body}, expect=200).json()["flavor"]
    nova("POST", "/flavors/%s/os-extra_specs" % f["id"], json={"extra_specs": {"a": "b"}},
         expect=200)
    yield f
    nova("DELETE", "/flavors/" + f["id"], expect=202)


@pytest.mark.parametrize("version,module", [
    # Tempest has no schema of its own for 2.75 (swap always an integer)
    (None, "v2_1"), ("2.55", "v2_55"), ("2.61", "v2_61"), ("2.75", "v2_61")])
def test_flavor_schemas(nova, flavor, version, module):
    check(nova("GET", "/flavors", version=version), module + ".flavors", "list_flavors")
    check(nova("GET", "/flavors/detail", version=version), module + ".flavors",
          "list_flavors_details")
    check(nova("GET", "/flavors/" + flavor["id"], version=version), module + ".flavors",
          "create_update_get_flavor_details")


def test_flavor_extra_and_access_schemas(nova, flavor):
    base = "/flavors/%s/os-extra_specs" % flavor["id"]
    check(nova("GET", base), "v2_1.flavors_extra_specs", "set_get_flavor_extra_specs")
    check(nova("GET", base + "/a"), "v2_1.flavors_extra_specs",
          "set_get_flavor_extra_specs_key")
    body = {"name": unique("schp"), "ram": 64, "vcpus": 1, "disk": 0,
            "os-flavor-access:is_public": False}
    f = nova("POST", "/flavors", json={"flavor": body}, expect=200).json()["flavor"]
    check(nova("POST", "/flavors/%s/action" % f["id"],
               json={"addTenantAccess": {"tenant": "p1"}}),
          "v2_1.flavors_access", "add_remove_list_flavor_access")
    check(nova("GET", "/flavors/%s/os-flavor-access" % f["id"]),
          "v2_1.flavors_access", "add_remove_list_flavor_access")
    check(nova("DELETE", "/flavors/" + f["id"]), "v2_1.flavors", "delete_flavor")


@pytest.mark.parametrize("version,module", [(None, "v2_1"), ("2.2", "v2_2")])
def test_keypair_schemas(nova, version, module):
    name = unique("schk")
    r = nova("POST", "/os-keypairs", version=version, json={"keypair": {"name": name}})
    check(r, module + ".keypairs", "create_keypair")
    check(nova("GET", "/os-keypairs/" + name, version=version), module + ".keypairs",
          "get_keypair")
    check(nova("GET", "/os-keypairs", version=version), module + ".keypairs",
          "list_keypairs")
    check(nova("DELETE", "/os-keypairs/" + name, version=version), module + ".keypairs",
          "delete_keypair")


def test_limits_and_zone_schemas(nova):
    check(nova("GET", "/limits"), "v2_1.limits", "get_limit")
    check(nova("GET", "/limits", version="2.36"), "v2_36.limits", "get_limit")
    check(nova("GET", "/limits", version="2.39"), "v2_39.limits", "get_limit")
    check(nova("GET", "/limits", version="2.57"), "v2_57.limits", "get_limit")
    check(nova("GET", "/os-availability-zone"), "v2_1.availability_zone",
          "list_availability_zone_list")
    check(nova("GET", "/os-availability-zone/detail"), "v2_1.availability_zone",
          "list_availability_zone_list_detail")


def test_version_schemas(nova):
    check(nova("GET", "//", token=None), "v2_1.versions", "list_versions")
    check(nova("GET", "", token=None), "v2_1.versions", "get_one_version")
