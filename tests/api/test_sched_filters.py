"""The scheduler's image properties filter (Nova's ImagePropertiesFilter)
on the fake driver: an image that asks for an architecture, hypervisor type
or VM mode no host offers ends in ERROR with Nova's NoValidHost fault;
aliases and what a host can also run (i686 on x86_64, qemu on KVM) pass."""

import functools
import json
import os

import pytest

from compute_helpers import compute_call
from test_servers import active, boot, flavors, unlimited, upload, wait  # noqa: F401

# the cases below are written for the x86_64 hosts this project runs on
assert os.uname().machine == "x86_64"


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("schedfilters")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def image_with(cl, **props):
    iid = upload(cl, b"\0" * 4096)
    cl.request("PATCH", cl.base_url + "/image/v2/images/" + iid,
               data=json.dumps([{"op": "add", "path": "/" + k, "value": v}
                                              for k, v in props.items()]),
               headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
               expect=200)
    return iid


@pytest.mark.parametrize("props", [
    {"hw_architecture": "aarch64"}, {"architecture": "s390x"}, {"img_hv_type": "xen"},
    {"hypervisor_type": "kvm"}, {"hw_vm_mode": "xen"}, {"vm_mode": "exe"},
])
def test_unfit_image_gets_no_valid_host(nova, cl, flavors, props):
    sid = boot(nova, image_with(cl, **props), flavors[0]).json()["server"]["id"]
    s = wait(nova, sid, "ERROR")
    assert "No valid host was found" in s["fault"]["message"], s["fault"]


@pytest.mark.parametrize("props", [
    {"hw_architecture": "x86_64"}, {"architecture": "amd64"}, {"hw_architecture": "i686"},
    {"img_hv_type": "qemu"}, {"hw_vm_mode": "hvm"}, {"vm_mode": "HVM"}, {"os_distro": "any"},
])
def test_fitting_image_boots(nova, cl, flavors, props):
    active(nova, image_with(cl, **props), flavors[0])
