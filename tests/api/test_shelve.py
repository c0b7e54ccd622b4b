"""shelve / shelveOffload / unshelve on the fake driver: the shelved image in
Glance, offload at once by default (no guest, no allocation, no host),
unshelve scheduling again and deleting the image, Nova's 409s, the
microversioned unshelve bodies, policy, instance actions, delete of a
shelved server taking its image, and shelved_offload_time -1 (shelved
only, then shelveOffload by an admin)."""

import functools
import os

import pytest

from compute_helpers import compute_call
from image_helpers import restart
from test_servers import (action, active, allocations, flavors, image, unlimited,  # noqa: F401
                          upload, wait, wait_gone)


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("shelve")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def glance(cl, iid, expect=200):
    return cl.request("GET", cl.base_url + "/image/v2/images/" + iid, expect=expect)


def shelved_image(cl, name):
    r = cl.request("GET", cl.base_url + "/image/v2/images?name=%s-shelved" % name, expect=200)
    imgs = r.json()["images"]
    assert len(imgs) == 1, imgs
    return imgs[0]


def test_shelve_offloads_and_unshelve_comes_back(nova, cl, image, flavors):
    s = active(nova, image, flavors[0])
    sid = s["id"]
    assert allocations(cl, sid)
    action(nova, sid, {"shelve": None})
    o = wait(nova, sid, "SHELVED_OFFLOADED")
    assert o["OS-EXT-SRV-ATTR:host"] is None
    assert o["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    assert allocations(cl, sid) == {}
    im = shelved_image(cl, s["name"])
    assert im["status"] == "active" and im["instance_uuid"] == sid
    assert im["image_type"] == "snapshot"
    assert not os.path.exists(os.path.join(cl.data_dir, "instances", sid))   # no guest files
    # what an offloaded server refuses
    r = action(nova, sid, {"os-start": None}, expect=409)
    assert "shelved_offloaded" in r.text
    action(nova, sid, {"shelve": None}, expect=409)
    action(nova, sid, {"shelveOffload": None}, expect=409)
    action(nova, sid, {"unshelve": None})
    u = wait(nova, sid, "ACTIVE")
    assert u["OS-EXT-SRV-ATTR:host"]
    assert allocations(cl, sid)
    glance(cl, im["id"], expect=404)        # the shelved image is gone
    acts = [a["action"] for a in nova("GET", "/servers/%s/os-instance-actions" % sid,
                                      expect=200).json()["instanceActions"]]
    assert "shelve" in acts and "unshelve" in acts
    action(nova, sid, {"unshelve": None}, expect=409)


def test_shelve_from_stopped_and_wrong_states(nova, cl, image, flavors):
    sid = active(nova, image, flavors[0])["id"]
    action(nova, sid, {"os-stop": None})
    wait(nova, sid, "SHUTOFF")
    action(nova, sid, {"shelve": None})
    wait(nova, sid, "SHELVED_OFFLOADED")
    action(nova, sid, {"unshelve": None})
    wait(nova, sid, "ACTIVE")
    # paused shelves too; a shelved server cannot shelve again (Nova's 409)
    action(nova, sid, {"pause": None})
    wait(nova, sid, "PAUSED")
    action(nova, sid, {"shelve": None})
    wait(nova, sid, "SHELVED_OFFLOADED")
    r = action(nova, sid, {"shelve": None}, expect=409)
    assert "Cannot 'shelve' instance %s while it is in vm_state shelved_offloaded" % sid \
        in r.json()["conflictingRequest"]["message"]
    action(nova, sid, {"unshelve": None})
    wait(nova, sid, "ACTIVE")


@pytest.mark.parametrize("version, body, code", [
    ("2.76", {"availability_zone": "nova"}, 202),       # ignored before 2.77
    ("2.77", {"availability_zone": "nova"}, 202),
    ("2.77", {"availability_zone": "nowhere"}, 400),
    ("2.77", {"availability_zone": None}, 400),          # null only from 2.91
    ("2.77", {"host": "x"}, 400),                        # host only from 2.91
    ("2.77", {"bogus": 1}, 400),
    ("2.77", "nova", 400),
    ("2.91", {"availability_zone": None}, 202),
    ("2.91", {"host": "no-such-host"}, 400),
])
def test_unshelve_bodies(nova, cl, image, flavors, version, body, code):
    sid = active(nova, image, flavors[0])["id"]
    action(nova, sid, {"shelve": None})
    wait(nova, sid, "SHELVED_OFFLOADED")
    action(nova, sid, {"unshelve": body}, version=version, expect=code)
    wait(nova, sid, "ACTIVE" if code == 202 else "SHELVED_OFFLOADED")


def test_unshelve_to_host_is_admin_only(nova, cl, image, flavors):
    m = cl.member()
    b = nova("POST", "/servers", token=m["token"], expect=202, json={"server": {
        "name": "mine", "imageRef": image, "flavorRef": flavors[0]}}).json()["server"]["id"]
    wait(nova, b, "ACTIVE")
    host = nova("GET", "/servers/" + b, expect=200).json()["server"]["OS-EXT-SRV-ATTR:host"]
    action_m = functools.partial(nova, "POST", "/servers/%s/action" % b, token=m["token"])
    action_m(json={"shelve": None}, expect=202)
    wait(nova, b, "SHELVED_OFFLOADED")
    action_m(json={"unshelve": {"host": host}}, version="2.91", expect=403)
    action_m(json={"shelveOffload": None}, expect=403)   # admin only
    action_m(json={"unshelve": None}, expect=202)
    wait(nova, b, "ACTIVE")


def test_delete_of_shelved_server_deletes_its_image(nova, cl, image, flavors):
    s = active(nova, image, flavors[0])
    action(nova, s["id"], {"shelve": None})
    wait(nova, s["id"], "SHELVED_OFFLOADED")
    im = shelved_image(cl, s["name"])
    nova("DELETE", "/servers/" + s["id"], expect=204)
    wait_gone(nova, s["id"])
    glance(cl, im["id"], expect=404)


def test_shelved_without_offload_then_offload(cl_keep, image_keep, flavors_keep):
    cl, nova = cl_keep
    s = active(nova, image_keep, flavors_keep)
    sid = s["id"]
    action(nova, sid, {"shelve": None})
    sh = wait(nova, sid, "SHELVED")
    assert sh["OS-EXT-SRV-ATTR:host"] and allocations(cl, sid)
    assert sh["OS-EXT-STS:power_state"] == 4
    m = cl.member()
    nova("POST", "/servers/%s/action" % sid, token=m["token"], json={"shelveOffload": None},
         expect=(403, 404))
    # unshelve of a shelved server: its own disk, same host
    action(nova, sid, {"unshelve": None})
    wait(nova, sid, "ACTIVE")
    action(nova, sid, {"shelve": None})
    wait(nova, sid, "SHELVED")
    action(nova, sid, {"unshelve": {"availability_zone": "nova"}}, version="2.77", expect=409)
    action(nova, sid, {"shelveOffload": None})
    wait(nova, sid, "SHELVED_OFFLOADED")
    assert allocations(cl, sid) == {}
    action(nova, sid, {"unshelve": None})
    wait(nova, sid, "ACTIVE")


@pytest.fixture(scope="module")
def cl_keep(cloud_factory):
    """A cloud that keeps shelved servers on their host (offload time -1)."""
    c = cloud_factory.start("shelvekeep", env={"ONESTACK_COMPUTE_SHELVED_OFFLOAD_TIME": "-1"})
    n = functools.partial(compute_call, c)
    unlimited(n, c)
    return c, n


@pytest.fixture(scope="module")
def image_keep(cl_keep):
    return upload(cl_keep[0], b"\0" * 4096)


@pytest.fixture(scope="module")
def flavors_keep(cl_keep):
    cl, nova = cl_keep
    return nova("POST", "/flavors", json={"flavor": {"name": "keep", "ram": 64, "vcpus": 1,
                                                     "disk": 1}}, expect=200).json()["flavor"]["id"]


def test_restart_during_shelve_converges(nova, cl, image, flavors):
    s = active(nova, image, flavors[0])
    action(nova, s["id"], {"shelve": None})
    restart(cl)
    wait(nova, s["id"], "SHELVED_OFFLOADED")
    assert allocations(cl, s["id"]) == {}
    action(nova, s["id"], {"unshelve": None})
    wait(nova, s["id"], "ACTIVE")
