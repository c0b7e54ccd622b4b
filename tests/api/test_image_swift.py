"""Images kept in the onestack object store ([image] store = swift, here
through ONESTACK_IMAGE_STORE): upload, download with ranges, staging and
import, deletion, seen from the Swift API as objects of the admin
project's "glance" container; a cut-off upload leaves no object and no
temp file; a crash mid-upload is cleaned up at the next start."""

import functools
import hashlib
import os
import time

import pytest

from image_helpers import OCTET, create_image, partial_put, restart
from image_helpers import image_call as img

CLOUD_ENV = {"ONESTACK_IMAGE_STORE": "swift"}


@pytest.fixture(scope="module")
def cl(private_cloud):
    return private_cloud


@pytest.fixture(scope="module")
def account(cl):
    r = cl.get("/v3/projects", params={"name": "admin"}, expect=200)
    return "AUTH_" + r.json()["projects"][0]["id"]


def glance_objects(cl, account):
    r = cl.get(cl.base_url + "/object-store/v1/%s/glance" % account,
               params={"format": "json"})
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, r.text
    return {o["name"]: o for o in r.json()}


def container_dir(cl, account):
    base = os.path.join(cl.data_dir, "objects", account)
    dirs = os.listdir(base) if os.path.isdir(base) else []
    return [os.path.join(base, x) for x in dirs]


def temps(cl, account):
    return [f for d in container_dir(cl, account) for f in os.listdir(d)
            if f.startswith(".tmp-")]


def create(cl, **body):
    return create_image(functools.partial(img, cl), prefix="sw", **body).json()


def test_upload_download_in_object_store(cl, account):
    im = create(cl)
    data = os.urandom(400000)
    img(cl, "PUT", "/v2/images/%s/file" % im["id"], data=data, headers=OCTET, expect=204)
    got = img(cl, "GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert got["virtual_size"] == len(data)
    # the bytes are an object of the glance container, not a file store file
    objs = glance_objects(cl, account)
    assert objs[im["id"]]["bytes"] == len(data)
    assert objs[im["id"]]["hash"] == got["checksum"]
    assert not os.path.exists(os.path.join(cl.data_dir, "images", im["id"]))
    r = cl.get(cl.base_url + "/object-store/v1/%s/glance/%s" % (account, im["id"]), expect=200)
    assert r.content == data
    r = img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=200)
    assert r.content == data and r.headers["Content-MD5"] == got["checksum"]
    r = img(cl, "GET", "/v2/images/%s/file" % im["id"], headers={"Range": "bytes=100-199"},
            expect=206)
    assert r.content == data[100:200]
    assert r.headers["Content-Range"] == "bytes 100-199/%d" % len(data)
    img(cl, "GET", "/v2/images/%s/file" % im["id"], headers={"Range": "bytes=999999-"},
        expect=416)
    img(cl, "DELETE", "/v2/images/" + im["id"], expect=204)
    assert im["id"] not in glance_objects(cl, account)


def test_stage_and_import_into_object_store(cl, account):
    im = create(cl)
    data = os.urandom(123456)
    img(cl, "PUT", "/v2/images/%s/stage" % im["id"], data=data, headers=OCTET, expect=204)
    assert im["id"] not in glance_objects(cl, account)
    img(cl, "POST", "/v2/images/%s/import" % im["id"],
        json={"method": {"name": "glance-direct"}}, expect=202)
    got = img(cl, "GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    assert glance_objects(cl, account)[im["id"]]["bytes"] == len(data)
    assert not os.path.exists(os.path.join(cl.data_dir, "images", "staging", im["id"]))
    assert img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=200).content == data


def test_container_removed_behind_our_back(cl, account):
    """The admin may empty and delete the container through Swift; the
    next upload makes it again."""
    for name in glance_objects(cl, account):
        cl.delete(cl.base_url + "/object-store/v1/%s/glance/%s" % (account, name),
                  expect=204)
    cl.delete(cl.base_url + "/object-store/v1/%s/glance" % account, expect=204)
    im = create(cl)
    img(cl, "PUT", "/v2/images/%s/file" % im["id"], data=b"again", headers=OCTET, expect=204)
    assert img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=200).content == b"again"


def cut_off(cl, image_id, kill=False):
    s = partial_put(cl, image_id, "file", 1 << 21, 1 << 19, b"q")
    for _ in range(100):
        if img(cl, "GET", "/v2/images/" + image_id).json()["status"] == "saving":
            break
        time.sleep(0.05)
    time.sleep(0.2)
    return s


def test_cut_off_upload_leaves_nothing(cl, account):
    im = create(cl)
    s = cut_off(cl, im["id"])
    s.close()
    for _ in range(150):
        got = img(cl, "GET", "/v2/images/" + im["id"], expect=200).json()
        if got["status"] == "queued" and not temps(cl, account):
            break
        time.sleep(0.1)
    assert got["status"] == "queued" and not temps(cl, account)
    assert im["id"] not in glance_objects(cl, account)


def test_crash_mid_upload_is_cleaned_at_start(cl, account):
    im = create(cl)
    s = cut_off(cl, im["id"])
    assert temps(cl, account)
    d = cl.d
    d.proc.kill()
    d.proc.wait()
    s.close()
    restart(cl)
    got = img(cl, "GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["status"] == "queued" and got["size"] is None
    assert not temps(cl, account)
    assert im["id"] not in glance_objects(cl, account)
    img(cl, "PUT", "/v2/images/%s/file" % im["id"], data=b"whole", headers=OCTET, expect=204)
    assert img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=200).content == b"whole"
