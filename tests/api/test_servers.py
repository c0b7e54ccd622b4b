"""Servers through the Nova API on the fake virt driver (every guest a state
file, so the whole state machine runs in milliseconds): create and its
validation, quota, list/detail filters and paging, per-microversion views
checked against Tempest's schemas, every lifecycle action with Nova's 409s,
metadata, tags, instance actions, snapshots, resize with Placement
allocations following, build failures with retries, power sync, delete
leaving nothing behind, and restart convergence."""

import base64
import functools
import importlib
import os
import time

import pytest
from tempest.lib.common import jsonschema_validator as JV

from conftest import describe, unique
from compute_helpers import compute_call
from image_helpers import restart

S = "tempest.lib.api_schema.response.compute."
TIMEOUT = 30


def check(r, module, name):
    """r against Tempest's schema, validated as Tempest does (formats too)."""
    s = getattr(importlib.import_module(S + module), name)
    assert r.status_code in s["status_code"], describe(r)
    if "response_body" in s:
        v = JV.JSONSCHEMA_VALIDATOR(s["response_body"], format_checker=JV.FORMAT_CHECKER)
        v.validate(r.json())


@pytest.fixture(scope="module")
def cl(cloud_factory):
    """A cloud of this module's own: restarts and quota changes stay here."""
    return cloud_factory.start("servers")


def unlimited(nova, cl):
    """This module boots more servers than Nova's default quota allows."""
    pid = cl.sql("SELECT id FROM project WHERE name = 'admin'")[0][0]
    nova("PUT", "/os-quota-sets/" + pid, json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}}, expect=200)


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def upload(cl, data, name=None):
    g = cl.base_url + "/image/v2/images"
    im = cl.request("POST", g, json={"name": name or unique("img"), "disk_format": "raw",
                                     "container_format": "bare", "visibility": "public"},
                    expect=201).json()
    cl.request("PUT", g + "/%s/file" % im["id"], data=data,
               headers={"Content-Type": "application/octet-stream"}, expect=204)
    return im["id"]


@pytest.fixture(scope="module")
def image(cl):
    return upload(cl, b"\0" * 4096)


@pytest.fixture(scope="module")
def bad_image(cl):
    return upload(cl, b"onestack-fake-fail" + b"\0" * 100)


@pytest.fixture(scope="module")
def flavors(nova):
    out = []
    for ram, disk in ((64, 1), (128, 2)):
        f = nova("POST", "/flavors", json={"flavor": {"name": unique("f"), "ram": ram,
                                                      "vcpus": 1, "disk": disk}},
                 expect=200).json()["flavor"]
        out.append(f["id"])
    return out


def wait(nova, sid, status, version=None):
    deadline = time.monotonic() + TIMEOUT
    while True:
        r = nova("GET", "/servers/" + sid, version=version)
        s = r.json().get("server", {})
        if r.status_code == 200 and s["status"] == status and \
                s.get("OS-EXT-STS:task_state") is None:
            return s
        assert time.monotonic() < deadline, "want %s: %s" % (status, describe(r))
        time.sleep(0.05)


def wait_gone(nova, sid):
    deadline = time.monotonic() + TIMEOUT
    while nova("GET", "/servers/" + sid).status_code != 404:
        assert time.monotonic() < deadline, "server %s not deleted" % sid
        time.sleep(0.05)


def boot(nova, image, flavor, name=None, version=None, expect=202, token="admin", **extra):
    body = {"name": name or unique("s"), "imageRef": image, "flavorRef": flavor}
    body.update(extra)
    return nova("POST", "/servers", json={"server": body}, version=version, expect=expect,
                token=token)


def active(nova, image, flavor, **kw):
    r = boot(nova, image, flavor, **kw)
    return wait(nova, r.json()["server"]["id"], "ACTIVE")


def action(nova, sid, body, expect=202, version=None):
    return nova("POST", "/servers/%s/action" % sid, json=body, expect=expect, version=version)


def allocations(cl, sid):
    r = cl.request("GET", cl.base_url + "/placement/allocations/" + sid, expect=200)
    return r.json()["allocations"]


# ---- create ---------------------------------------------------------------

def test_create_answer_and_active(nova, cl, image, flavors):
    r = boot(nova, image, flavors[0], metadata={"a": "b"})
    check(r, "v2_1.servers", "create_server_with_admin_pass")
    sid = r.json()["server"]["id"]
    assert r.headers["Location"].endswith("/servers/" + sid)
    s = wait(nova, sid, "ACTIVE")
    assert s["metadata"] == {"a": "b"} and s["OS-EXT-STS:power_state"] == 1
    assert s["OS-SRV-USG:launched_at"] and s["OS-EXT-SRV-ATTR:host"]
    alloc = allocations(cl, sid)
    assert list(alloc.values())[0]["resources"] == {"VCPU": 1, "MEMORY_MB": 64, "DISK_GB": 1}
    check(nova("GET", "/servers/" + sid), "v2_1.servers", "get_server")
    # the admin password given is the one answered
    r = boot(nova, image, flavors[0], adminPass="s3cret")
    assert r.json()["server"]["adminPass"] == "s3cret"


@pytest.mark.parametrize("body, msg", [
    ({"imageRef": "x", "flavorRef": "1"}, "'name' is a required property"),
    ({"name": "a", "imageRef": "x"}, "'flavorRef' is a required property"),
    ({"name": "a", "imageRef": "not-a-uuid", "flavorRef": "1"}, "Invalid imageRef provided."),
    ({"name": " a", "imageRef": "x", "flavorRef": "1"}, "Invalid input for field/attribute name"),
    ({"name": "a" * 256, "imageRef": "x", "flavorRef": "1"}, "Invalid input"),
])
def test_create_schema_errors(nova, body, msg):
    r = nova("POST", "/servers", json={"server": body}, expect=400)
    assert msg in r.json()["badRequest"]["message"], describe(r)


def test_create_reference_errors(nova, image, flavors):
    r = boot(nova, image, "nope", expect=400)
    assert r.json()["badRequest"]["message"] == "Flavor nope could not be found."
    missing = "0b0b0b0b-0000-4000-8000-000000000000"
    r = boot(nova, missing, flavors[0], expect=400)
    assert r.json()["badRequest"]["message"] == "Image %s could not be found." % missing
    r = boot(nova, image, flavors[0], key_name="nokey", expect=400)
    assert r.json()["badRequest"]["message"] == "Invalid key_name provided."
    r = boot(nova, image, flavors[0], user_data="not base64!", expect=400)
    assert "base 64" in r.json()["badRequest"]["message"]
    r = boot(nova, image, flavors[0], accessIPv6="not-an-ip", expect=400)
    # networks: required from 2.37, "none"/"auto" or a list
    r = boot(nova, image, flavors[0], version="2.37", expect=400)
    assert "'networks' is a required property" in r.json()["badRequest"]["message"]
    sid = boot(nova, image, flavors[0], version="2.37", networks="none").json()["server"]["id"]
    wait(nova, sid, "ACTIVE")


def test_quota_exceeded_then_freed(nova, cl, image, flavors):
    pid = cl.sql("SELECT id FROM project WHERE name = 'admin'")[0][0]
    used = nova("GET", "/limits").json()["limits"]["absolute"]["totalInstancesUsed"]
    nova("PUT", "/os-quota-sets/" + pid, json={"quota_set": {"instances": used + 1}},
         expect=200)
    try:
        sid = boot(nova, image, flavors[0]).json()["server"]["id"]
        r = boot(nova, image, flavors[0], expect=403)
        assert r.json()["forbidden"]["message"] == (
            "Quota exceeded for instances: Requested 1, but already used %d of %d instances"
            % (used + 1, used + 1)), describe(r)
        q = nova("GET", "/os-quota-sets/%s/detail" % pid).json()["quota_set"]
        assert q["instances"] == {"limit": used + 1, "in_use": used + 1, "reserved": 0}
        nova("DELETE", "/servers/" + sid, expect=204)
        wait_gone(nova, sid)
        boot(nova, image, flavors[0])
    finally:
        nova("DELETE", "/os-quota-sets/" + pid, expect=202)
    q = nova("GET", "/os-quota-sets/" + pid)
    check(q, "v2_1.quotas", "get_quota_set")
    assert q.json()["quota_set"]["instances"] == 10
    unlimited(nova, cl)
    check(nova("GET", "/os-quota-sets/%s/defaults" % pid, version="2.57"), "v2_57.quotas",
          "get_quota_set")


def test_multiple_create_and_reservation(nova, image, flavors):
    r = boot(nova, image, flavors[0], name="multi", min_count=2, max_count=2,
             return_reservation_id=True)
    rid = r.json()["reservation_id"]
    got = nova("GET", "/servers/detail?reservation_id=" + rid).json()["servers"]
    assert sorted(s["name"] for s in got) == ["multi-1", "multi-2"]


# ---- listing --------------------------------------------------------------

def test_list_filters_sort_paging(nova, image, flavors):
    tag = unique("ls")
    ids = [active(nova, image, flavors[i % 2], name="%s-%d" % (tag, i))["id"] for i in range(4)]
    r = nova("GET", "/servers?name=" + tag)
    check(r, "v2_1.servers", "list_servers")
    assert sorted(s["id"] for s in r.json()["servers"]) == sorted(ids)
    r = nova("GET", "/servers/detail?name=%s&flavor=%s" % (tag, flavors[1]))
    check(r, "v2_1.servers", "list_servers_detail")
    assert sorted(s["id"] for s in r.json()["servers"]) == sorted(ids[1::2])
    assert nova("GET", "/servers?name=%s&status=SHUTOFF" % tag).json()["servers"] == []
    assert nova("GET", "/servers?status=NOPE").json()["servers"] == []
    # newest first by default; sort by name ascending on request
    got = [s["id"] for s in nova("GET", "/servers?name=" + tag).json()["servers"]]
    assert got == ids[::-1]
    got = [s["name"] for s in nova("GET", "/servers/detail?name=%s&sort_key=display_name"
                                   "&sort_dir=asc" % tag).json()["servers"]]
    assert got == sorted(got)
    nova("GET", "/servers?sort_key=bogus", expect=400)
    # paging: two pages of two and a next link
    p1 = nova("GET", "/servers?name=%s&limit=2" % tag).json()
    assert len(p1["servers"]) == 2 and p1["servers_links"][0]["rel"] == "next"
    p2 = nova("GET", "/servers?name=%s&limit=2&marker=%s" % (tag, p1["servers"][1]["id"]))
    assert [s["id"] for s in p1["servers"] + p2.json()["servers"]] == ids[::-1]
    nova("GET", "/servers?marker=0b0b0b0b-0000-4000-8000-000000000000", expect=400)
    nova("GET", "/servers?limit=-1", expect=400)
    # changes-since shows deleted servers too
    since = nova("GET", "/servers/" + ids[0]).json()["server"]["updated"]
    nova("DELETE", "/servers/" + ids[0], expect=204)
    wait_gone(nova, ids[0])
    got = nova("GET", "/servers/detail?name=%s&changes-since=%s" % (tag, since)).json()
    assert [s["status"] for s in got["servers"] if s["id"] == ids[0]] == ["DELETED"]
    nova("GET", "/servers?changes-since=yesterday", expect=400)


def test_other_projects_are_invisible(nova, cl, image, flavors):
    m = cl.member()
    sid = active(nova, image, flavors[0])["id"]
    nova("GET", "/servers/" + sid, token=m["token"], expect=404)
    assert nova("GET", "/servers", token=m["token"]).json()["servers"] == []
    ids = [s["id"] for s in nova("GET", "/servers?all_tenants=1").json()["servers"]]
    assert sid in ids


@pytest.mark.parametrize("version, module", [
    ("2.3", "v2_3"), ("2.9", "v2_9"), ("2.16", "v2_16"), ("2.19", "v2_19"), ("2.26", "v2_26"),
    ("2.47", "v2_47"), ("2.63", "v2_63"), ("2.71", "v2_71"), ("2.73", "v2_73"),
])
def test_views_per_microversion(nova, image, flavors, version, module):
    sid = active(nova, image, flavors[0])["id"]
    check(nova("GET", "/servers/" + sid, version=version), module + ".servers", "get_server")
    check(nova("GET", "/servers/detail", version=version), module + ".servers",
          "list_servers_detail")
    r = nova("PUT", "/servers/" + sid, json={"server": {"name": "renamed"}}, version=version)
    check(r, module + ".servers", "update_server")


def test_update_and_access_ips(nova, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    r = nova("PUT", "/servers/" + sid, json={"server": {
        "accessIPv4": "10.1.2.3", "accessIPv6": "0000:0000:0000:0000:0000:babe:220.12.22.2"}})
    check(r, "v2_1.servers", "update_server")
    s = r.json()["server"]
    assert s["accessIPv4"] == "10.1.2.3" and s["accessIPv6"] == "::babe:dc0c:1602"
    nova("PUT", "/servers/" + sid, json={"server": {"name": ""}}, expect=400)
    nova("PUT", "/servers/" + sid, json={"server": {"bogus": 1}}, expect=400)
    r = nova("PUT", "/servers/" + sid, json={"server": {"description": "d"}}, version="2.19")
    assert r.json()["server"]["description"] == "d"


# ---- actions --------------------------------------------------------------

def test_power_actions_and_conflicts(nova, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    action(nova, sid, {"os-stop": None})
    s = wait(nova, sid, "SHUTOFF")
    assert s["OS-EXT-STS:power_state"] == 4
    r = action(nova, sid, {"os-stop": None}, expect=409)
    assert r.json()["conflictingRequest"]["message"] == (
        "Cannot 'stop' instance %s while it is in vm_state stopped" % sid)
    action(nova, sid, {"os-start": None})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"reboot": {"type": "SOFT"}})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"reboot": {"type": "HARD"}})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"reboot": {"type": "sideways"}}, expect=400)
    action(nova, sid, {"pause": None})
    assert wait(nova, sid, "PAUSED")["OS-EXT-STS:power_state"] == 3
    action(nova, sid, {"suspend": None}, expect=409)
    action(nova, sid, {"unpause": None})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"suspend": None})
    wait(nova, sid, "SUSPENDED")
    action(nova, sid, {"resume": None})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"nonsense": None}, expect=400)
    r = action(nova, sid, {"os-getConsoleOutput": {"length": 1}}, expect=200)
    assert r.json()["output"].strip() == "onestack-guest-ready " + sid
    action(nova, sid, {"os-getConsoleOutput": {"length": "x"}}, expect=400)
    # the instance actions recorded it all, with their events
    r = nova("GET", "/servers/%s/os-instance-actions" % sid)
    check(r, "v2_1.servers", "list_instance_actions")
    acts = r.json()["instanceActions"]
    assert [a["action"] for a in acts][-2:] == ["stop", "create"]
    r = nova("GET", "/servers/%s/os-instance-actions/%s" % (sid, acts[-1]["request_id"]))
    check(r, "v2_1.servers", "show_instance_action")
    assert {e["result"] for e in r.json()["instanceAction"]["events"]} == {"Success"}


def test_lock(nova, cl, image, flavors):
    m = cl.member()
    r = boot(nova, image, flavors[0], token=m["token"])
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    nova("POST", "/servers/%s/action" % sid, json={"lock": None}, token=m["token"],
         expect=202)
    s = nova("GET", "/servers/" + sid, version="2.73", token=m["token"]).json()["server"]
    assert s["locked"] is True
    r = nova("POST", "/servers/%s/action" % sid, json={"os-stop": None}, token=m["token"],
             expect=409)
    assert r.json()["conflictingRequest"]["message"] == "Instance %s is locked" % sid
    nova("DELETE", "/servers/" + sid, token=m["token"], expect=409)
    nova("POST", "/servers/%s/action" % sid, json={"unlock": None}, token=m["token"],
         expect=202)
    nova("DELETE", "/servers/" + sid, token=m["token"], expect=204)
    wait_gone(nova, sid)


def test_snapshot_and_boot_from_it(nova, cl, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    r = action(nova, sid, {"createImage": {"name": "snap", "metadata": {"k": "v"}}},
               version="2.45")
    iid = r.json()["image_id"]
    deadline = time.monotonic() + TIMEOUT
    while nova("GET", "/images/" + iid).json()["image"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    im = nova("GET", "/images/" + iid)
    check(im, "v2_1.images", "get_image")
    assert im.json()["image"]["metadata"]["instance_uuid"] == sid
    assert im.json()["image"]["server"]["id"] == sid
    wait(nova, sid, "ACTIVE")
    active(nova, iid, flavors[0])
    # below 2.45 the image is in the Location header
    r = action(nova, sid, {"createImage": {"name": "snap2"}})
    assert "/images/" in r.headers["Location"]


def test_resize_confirm_and_revert(nova, cl, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    action(nova, sid, {"resize": {"flavorRef": flavors[0]}}, expect=400)
    action(nova, sid, {"resize": {"flavorRef": "nope"}}, expect=400)
    action(nova, sid, {"resize": {"flavorRef": flavors[1]}})
    s = wait(nova, sid, "VERIFY_RESIZE", version="2.47")
    assert s["flavor"]["ram"] == 128
    assert list(allocations(cl, sid).values())[0]["resources"]["MEMORY_MB"] == 128
    action(nova, sid, {"confirmResize": None}, expect=204)
    s = wait(nova, sid, "ACTIVE", version="2.47")
    assert s["flavor"]["ram"] == 128
    # and back again, reverted this time
    sid2 = active(nova, image, flavors[0])["id"]
    action(nova, sid2, {"resize": {"flavorRef": flavors[1]}})
    wait(nova, sid2, "VERIFY_RESIZE")
    action(nova, sid2, {"revertResize": None})
    s = wait(nova, sid2, "ACTIVE", version="2.47")
    assert s["flavor"]["ram"] == 64
    assert list(allocations(cl, sid2).values())[0]["resources"]["MEMORY_MB"] == 64


def test_rebuild(nova, cl, image, flavors):
    other = upload(cl, b"\1" * 4096)
    sid = active(nova, image, flavors[0])["id"]
    r = action(nova, sid, {"rebuild": {"imageRef": other, "name": "rebuilt",
                                       "metadata": {"x": "y"}}})
    check(r, "v2_1.servers", "rebuild_server_with_admin_pass")
    s = wait(nova, sid, "ACTIVE")
    assert s["image"]["id"] == other and s["name"] == "rebuilt" and s["metadata"] == {"x": "y"}


# ---- metadata and tags ----------------------------------------------------

def test_metadata(nova, image, flavors):
    sid = active(nova, image, flavors[0], metadata={"a": "1"})["id"]
    m = "/servers/%s/metadata" % sid
    assert nova("POST", m, json={"metadata": {"b": "2"}}).json()["metadata"] == \
        {"a": "1", "b": "2"}
    assert nova("PUT", m, json={"metadata": {"c": "3"}}).json()["metadata"] == {"c": "3"}
    assert nova("GET", m + "/c").json() == {"meta": {"c": "3"}}
    nova("PUT", m + "/d", json={"meta": {"d": "4"}}, expect=200)
    nova("PUT", m + "/d", json={"meta": {"e": "4"}}, expect=400)
    nova("DELETE", m + "/c", expect=204)
    nova("GET", m + "/c", expect=404)
    assert nova("GET", m).json()["metadata"] == {"d": "4"}
    big = {"k%d" % i: "v" for i in range(129)}
    nova("PUT", m, json={"metadata": big}, expect=403)
    assert nova("GET", m).json()["metadata"] == {"d": "4"}


def test_tags(nova, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    t = "/servers/%s/tags" % sid
    nova("GET", t, expect=404)      # before 2.26
    v = "2.26"
    r = nova("PUT", t, json={"tags": ["a", "b"]}, version=v)
    check(r, "v2_26.servers", "update_all_tags")
    nova("PUT", t + "/c", version=v, expect=201)
    nova("PUT", t + "/c", version=v, expect=204)
    nova("GET", t + "/c", version=v, expect=204)
    nova("GET", t + "/zz", version=v, expect=404)
    assert nova("GET", t, version=v).json()["tags"] == ["a", "b", "c"]
    got = nova("GET", "/servers?tags=a,c", version=v).json()["servers"]
    assert [s["id"] for s in got] == [sid]
    assert sid not in [s["id"] for s in nova("GET", "/servers?not-tags=a",
                                             version=v).json()["servers"]]
    nova("DELETE", t + "/a", version=v, expect=204)
    nova("DELETE", t + "/a", version=v, expect=404)
    nova("DELETE", t, version=v, expect=204)
    assert nova("GET", t, version=v).json()["tags"] == []


# ---- failures, power sync, delete, restart ----------------------------------

def test_build_failure_goes_to_error_with_fault(nova, cl, bad_image, flavors):
    sid = boot(nova, bad_image, flavors[0]).json()["server"]["id"]
    s = wait(nova, sid, "ERROR")
    # one host: the failed build has nowhere else to go (Nova's words)
    assert s["fault"]["code"] == 500 and "Exhausted all hosts" in s["fault"]["message"], s
    acts = nova("GET", "/servers/%s/os-instance-actions" % sid).json()["instanceActions"]
    ev = nova("GET", "/servers/%s/os-instance-actions/%s" % (sid, acts[-1]["request_id"]))
    errors = [e for e in ev.json()["instanceAction"]["events"] if e["result"] == "Error"]
    assert any("fake driver" in (e["traceback"] or "") for e in errors), ev.text
    assert allocations(cl, sid) == {}
    assert not os.path.exists(os.path.join(cl.data_dir, "instances", sid))
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)


def test_power_sync_notices_a_dead_guest(nova, cl, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    with open(os.path.join(cl.data_dir, "instances", sid, "fake.state"), "w") as f:
        f.write("4\n")
    s = wait(nova, sid, "SHUTOFF")
    assert s["OS-EXT-STS:power_state"] == 4


def test_delete_leaves_nothing(nova, cl, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    nova("DELETE", "/servers/" + sid, expect=204)
    wait_gone(nova, sid)
    assert allocations(cl, sid) == {}
    assert not os.path.exists(os.path.join(cl.data_dir, "instances", sid))
    assert cl.sql("SELECT vm_state FROM cmp_server WHERE id = '%s'" % sid) == [["deleted"]]
    nova("DELETE", "/servers/" + sid, expect=404)


def test_restart_converges(nova, cl, image, flavors):
    running = active(nova, image, flavors[0])["id"]
    doomed = active(nova, image, flavors[0])["id"]
    stopping = active(nova, image, flavors[0])["id"]
    # the daemon dies with a delete and a stop recorded but not yet done
    # (as if it crashed between the API's commit and the agent's work)
    restart(cl, env={"ONESTACK_COMPUTE_FAKE_DELAY_MS": "300"})
    nova("DELETE", "/servers/" + doomed, expect=204)
    action(nova, stopping, {"os-stop": None})
    restart(cl, env={"ONESTACK_COMPUTE_FAKE_DELAY_MS": "0"})
    wait_gone(nova, doomed)
    wait(nova, stopping, "SHUTOFF")
    wait(nova, running, "ACTIVE")
    assert not os.path.exists(os.path.join(cl.data_dir, "instances", doomed))
    assert allocations(cl, doomed) == {}
    # an orphan directory (a server the database does not know) is removed
    orphan = os.path.join(cl.data_dir, "instances", "0b0b0b0b-0000-4000-8000-00000000000f")
    os.makedirs(orphan)
    restart(cl)
    deadline = time.monotonic() + TIMEOUT
    while os.path.exists(orphan):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_user_data_is_kept_base64(nova, image, flavors):
    ud = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    sid = active(nova, image, flavors[0], user_data=ud)["id"]
    s = nova("GET", "/servers/" + sid, version="2.3").json()["server"]
    assert s["OS-EXT-SRV-ATTR:user_data"] == ud


def test_services_and_hypervisors(nova, image, flavors):
    # this module's servers have used up the host's 32 VCPUs (2 cores x 16):
    # make room first (a full host answers NoValidHost, as it should)
    for s in nova("GET", "/servers").json()["servers"]:
        nova("DELETE", "/servers/" + s["id"], expect=204)
    for s in nova("GET", "/servers").json()["servers"]:
        wait_gone(nova, s["id"])
    active(nova, image, flavors[0])
    r = nova("GET", "/os-services")
    check(r, "v2_1.services", "list_services")
    svc = r.json()["services"]
    assert [s["binary"] for s in svc] == ["nova-compute"] and svc[0]["state"] == "up"
    r = nova("GET", "/os-services", version="2.53")
    check(r, "v2_53.services", "list_services")
    sid = r.json()["services"][0]["id"]
    host = r.json()["services"][0]["host"]
    check(nova("GET", "/os-hypervisors"), "v2_1.hypervisors", "list_search_hypervisors")
    r = nova("GET", "/os-hypervisors/detail")
    check(r, "v2_1.hypervisors", "list_hypervisors_detail")
    hv = r.json()["hypervisors"][0]
    assert hv["hypervisor_type"] == "fake" and hv["running_vms"] >= 1
    check(nova("GET", "/os-hypervisors/%s" % hv["id"]), "v2_1.hypervisors",
          "get_hypervisor")
    check(nova("GET", "/os-hypervisors/statistics"), "v2_1.hypervisors",
          "get_hypervisor_statistics")
    # a disabled host takes no new server: NoValidHost, until enabled again
    r = nova("PUT", "/os-services/" + sid, version="2.53",
             json={"status": "disabled", "disabled_reason": "maintenance"})
    check(r, "v2_53.services", "update_service")
    try:
        s = wait(nova, boot(nova, image, flavors[0]).json()["server"]["id"], "ERROR")
        assert s["fault"]["message"].startswith("No valid host was found"), s
    finally:
        nova("PUT", "/os-services/" + sid, version="2.53", json={"status": "enabled"})
    active(nova, image, flavors[0])
    r = nova("PUT", "/os-services/disable", json={"host": host, "binary": "nova-compute"})
    assert r.json()["service"]["status"] == "disabled"
    nova("PUT", "/os-services/enable", json={"host": host, "binary": "nova-compute"})
    member = nova("GET", "/os-services", token=None, expect=401)
    assert member.status_code == 401


def test_server_groups(nova, image, flavors):
    # room first, as above: the host's VCPUs are shared by this module
    for s in nova("GET", "/servers").json()["servers"]:
        nova("DELETE", "/servers/" + s["id"], expect=204)
    for s in nova("GET", "/servers").json()["servers"]:
        wait_gone(nova, s["id"])
    r = nova("POST", "/os-server-groups", json={"server_group": {
        "name": "aff", "policies": ["affinity"]}})
    check(r, "v2_1.server_groups", "create_show_server_group")
    aff = r.json()["server_group"]["id"]
    r = nova("POST", "/os-server-groups", version="2.64", json={"server_group": {
        "name": "anti", "policy": "anti-affinity", "rules": {"max_server_per_host": 1}}})
    check(r, "v2_64.server_groups", "create_show_server_group")
    anti = r.json()["server_group"]["id"]
    nova("POST", "/os-server-groups", version="2.64", json={"server_group": {
        "name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}}, expect=400)
    nova("POST", "/os-server-groups", json={"server_group": {
        "name": "x", "policies": ["soft-affinity"]}}, expect=400)     # 2.15 on
    nova("POST", "/os-server-groups", version="2.15", json={"server_group": {
        "name": "soft", "policies": ["soft-anti-affinity"]}})
    # affinity: both on the one host; anti-affinity: the second finds none
    hint = lambda g: {"os:scheduler_hints": {"group": g}}
    for _ in range(2):
        r = nova("POST", "/servers", json=dict({"server": {
            "name": unique("g"), "imageRef": image, "flavorRef": flavors[0]}}, **hint(aff)))
        wait(nova, r.json()["server"]["id"], "ACTIVE")
    first = nova("POST", "/servers", json=dict({"server": {
        "name": unique("g"), "imageRef": image, "flavorRef": flavors[0]}}, **hint(anti)))
    wait(nova, first.json()["server"]["id"], "ACTIVE")
    second = nova("POST", "/servers", json=dict({"server": {
        "name": unique("g"), "imageRef": image, "flavorRef": flavors[0]}}, **hint(anti)))
    s = wait(nova, second.json()["server"]["id"], "ERROR")
    assert s["fault"]["message"].startswith("No valid host was found"), s
    r = nova("GET", "/os-server-groups/" + aff, version="2.13")
    check(r, "v2_13.server_groups", "create_show_server_group")
    assert len(r.json()["server_group"]["members"]) == 2
    s = nova("GET", "/servers/" + first.json()["server"]["id"], version="2.71")
    assert s.json()["server"]["server_groups"] == [anti]
    r = nova("GET", "/os-server-groups", version="2.64")
    check(r, "v2_64.server_groups", "list_server_groups")
    assert {aff, anti} <= {g["id"] for g in r.json()["server_groups"]}
    # a hint naming no group is refused
    nova("POST", "/servers", json=dict({"server": {
        "name": "g", "imageRef": image, "flavorRef": flavors[0]}},
        **hint("0b0b0b0b-0000-4000-8000-000000000000")), expect=400)
    nova("DELETE", "/os-server-groups/" + anti, expect=204)
    nova("GET", "/os-server-groups/" + anti, expect=404)
