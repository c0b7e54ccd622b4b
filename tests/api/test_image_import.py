"""Interoperable image import: /v2/info/import, PUT /stage (streamed into
the staging area, status uploading, digests computed on the way),
POST /import with glance-direct (importing -> active, the staged bytes
moved into the store) and copy-image (a no-op success with one store),
Glance's errors for each wrong step, the image's import tasks, and a
cut-off stage going back to queued without leftovers."""

import hashlib
import os
import struct
import time

import pytest

from image_helpers import JSON, OCTET, create_image, partial_put


@pytest.fixture(scope="module")
def member(cloud):
    return cloud.member()


def create(img, token="admin", **body):
    return create_image(img, token, "imp", **body)


def stage(img, image_id, data, token="admin", expect=204, headers=OCTET):
    return img("PUT", "/v2/images/%s/stage" % image_id, token=token, data=data,
               headers=headers, expect=expect)


def do_import(img, image_id, body, token="admin", expect=202):
    return img("POST", "/v2/images/%s/import" % image_id, token=token, json=body,
               expect=expect, headers=JSON)


def direct():
    return {"method": {"name": "glance-direct"}}


def staging_dir(cloud):
    return os.path.join(cloud.data_dir, "images", "staging")


def test_import_methods_advertised(img):
    m = img("GET", "/v2/info/import", expect=200).json()["import-methods"]
    assert m["value"] == ["glance-direct", "copy-image"]
    r = create(img)
    assert r.headers["OpenStack-image-import-methods"] == "glance-direct,copy-image"


def test_stage_and_glance_direct_import(img, cloud, member):
    tok = member["token"]
    im = create(img, tok).json()
    path = "/v2/images/" + im["id"]
    data = os.urandom(200000)
    stage(img, im["id"], data, token=tok)
    got = img("GET", path, token=tok, expect=200).json()
    # staged: uploading, its size known, no checksum until imported
    assert got["status"] == "uploading" and got["size"] == len(data)
    assert got["checksum"] is None and got["os_hash_value"] is None
    assert os.path.exists(os.path.join(staging_dir(cloud), im["id"]))
    img("GET", path + "/file", token=tok, expect=204)
    # no second stage, no upload over it
    stage(img, im["id"], b"again", token=tok, expect=409)
    img("PUT", path + "/file", token=tok, data=b"x", headers=OCTET, expect=409)

    r = do_import(img, im["id"], direct(), token=tok)
    got = img("GET", path, token=tok, expect=200).json()
    assert got["status"] == "active" and got["size"] == len(data)
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["os_hash_algo"] == "sha512"
    assert got["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert got["virtual_size"] == len(data)
    assert img("GET", path + "/file", token=tok, expect=200).content == data
    # the bytes moved: nothing left in staging
    assert not os.path.exists(os.path.join(staging_dir(cloud), im["id"]))
    assert os.path.exists(os.path.join(cloud.data_dir, "images", im["id"]))

    # the import's task, as Glance 2.12 shows it
    tasks = img("GET", path + "/tasks", token=tok, expect=200).json()["tasks"]
    assert len(tasks) == 1
    t = tasks[0]
    assert t["status"] == "success" and t["type"] == "api_image_import"
    assert t["request_id"] == r.headers["x-openstack-request-id"]
    assert t["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert t["image_id"] == im["id"] and t["owner"] == member["project"]["id"]
    assert t["result"] == {"image_id": im["id"]} and t["expires_at"]

    # an active image takes no second import
    r = do_import(img, im["id"], direct(), token=tok, expect=409)
    assert "cannot be target for import" in r.json()["message"]


def test_qcow2_import_virtual_size(img):
    im = create(img, disk_format="qcow2").json()
    head = struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 0, 0, 16, 10 << 30)
    stage(img, im["id"], head + b"\0" * 4000)
    do_import(img, im["id"], direct())
    got = img("GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["virtual_size"] == 10 << 30 and got["size"] == len(head) + 4000


def test_import_request_errors(img):
    im = create(img).json()
    p = "/v2/images/%s/import" % im["id"]
    r = img("POST", p, expect=400, headers=JSON)
    assert r.json()["message"].startswith("Body expected in request.")
    for body, msg in [
        ({}, "Import request requires a 'method' field."),
        ({"method": {}}, "Import request requires a 'name' field."),
        ({"method": {"name": "web-download", "uri": "http://x/y"}},
         "Unknown import method name 'web-download'."),
        ({"method": {"name": "glance-direct"}, "all_stores_must_succeed": "yes"},
         "'all_stores_must_succeed' must be boolean value only"),
        ({"method": {"name": "glance-direct"}, "all_stores": 1},
         "'all_stores' must be boolean value only"),
        ({"method": {"name": "glance-direct"}, "all_stores_must_succeed": False},
         "All_stores_must_succeed can only be set with enabled_backends"),
    ]:
        r = do_import(img, im["id"], body, expect=400)
        assert r.json()["message"].startswith(msg), (body, r.text)
    # a queued image has nothing staged
    r = do_import(img, im["id"], direct(), expect=409)
    assert "needs to be staged" in r.json()["message"]
    # copy-image needs an active image
    r = do_import(img, im["id"], {"method": {"name": "copy-image"}}, expect=409)
    assert "Only images with status active" in r.json()["message"]
    do_import(img, "00000000-0000-0000-0000-000000000000", direct(), expect=404)
    assert img("GET", "/v2/images/" + im["id"], expect=200).json()["status"] == "queued"


def test_import_needs_formats(img):
    im = create(img, disk_format=None).json()
    stage(img, im["id"], b"data")
    r = do_import(img, im["id"], direct(), expect=409)
    assert r.json()["message"].startswith("'disk_format' needs to be set before import")
    # the staged bytes stay for a later import
    assert img("GET", "/v2/images/" + im["id"], expect=200).json()["status"] == "uploading"


def test_copy_image_is_admin_only_and_a_noop(img, member):
    tok = member["token"]
    im = create(img, tok).json()
    img("PUT", "/v2/images/%s/file" % im["id"], token=tok, data=b"abc", headers=OCTET,
        expect=204)
    r = do_import(img, im["id"], {"method": {"name": "copy-image"}}, token=tok, expect=403)
    assert "copy_image" in r.json()["message"]
    do_import(img, im["id"], {"method": {"name": "copy-image"}, "all_stores": True})
    got = img("GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(b"abc").hexdigest()
    tasks = img("GET", "/v2/images/%s/tasks" % im["id"], expect=200).json()["tasks"]
    assert [t["status"] for t in tasks] == ["success"]
    # the owner does not see the admin's task
    assert img("GET", "/v2/images/%s/tasks" % im["id"], token=tok,
               expect=200).json()["tasks"] == []


def test_stage_refusals(img, cloud, member):
    other = cloud.member()
    im = create(img, member["token"], visibility="private").json()
    stage(img, im["id"], b"x", token=other["token"], expect=404)
    stage(img, im["id"], b"x", token=member["token"], expect=415,
          headers={"Content-Type": "text/plain"})
    pub = create(img, visibility="public").json()
    r = stage(img, pub["id"], b"x", token=member["token"], expect=403)
    # a glance-direct import by someone who may not change the image
    stage(img, pub["id"], b"x")
    do_import(img, pub["id"], direct(), token=member["token"], expect=403)
    assert img("GET", "/v2/images/" + pub["id"], expect=200).json()["status"] == "uploading"
    img("GET", "/v2/images/%s/stage" % pub["id"], expect=405)
    assert r.status_code == 403


def test_delete_staged_image_drops_staged_bytes(img, cloud):
    im = create(img).json()
    stage(img, im["id"], b"to be dropped")
    f = os.path.join(staging_dir(cloud), im["id"])
    assert os.path.exists(f)
    img("DELETE", "/v2/images/" + im["id"], expect=204)
    assert not os.path.exists(f)


def test_cut_off_stage_goes_back_to_queued(img, cloud):
    im = create(img).json()
    s = partial_put(cloud, im["id"], "stage", 1 << 20, 1 << 18, b"z")
    time.sleep(0.3)
    s.close()
    sd = staging_dir(cloud)
    for _ in range(150):
        got = img("GET", "/v2/images/" + im["id"], expect=200).json()
        left = [f for f in os.listdir(sd) if f.startswith(".tmp-") or f == im["id"]]
        if got["status"] == "queued" and not left:
            break
        time.sleep(0.1)
    assert got["status"] == "queued" and got["size"] is None and not left
    # and it stages and imports whole afterwards
    stage(img, im["id"], b"whole")
    do_import(img, im["id"], direct())
    assert img("GET", "/v2/images/%s/file" % im["id"], expect=200).content == b"whole"
