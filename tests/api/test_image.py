"""Images (Glance v2 at /image) through raw HTTP, openstacksdk and the
`openstack image` CLI: discovery, create/list/show/update/delete, data
upload and download with checksums, qcow2 virtual size, filters and
paging, JSON-patch, tags, protection, deactivation, other projects'
images and a cut-off upload."""

import hashlib
import os
import struct
import time

import openstack
import pytest
import requests

from conftest import unique
from image_helpers import OCTET, PATCH, create_image, partial_put


def qcow2_bytes(virtual_size):
    """A minimal qcow2 v2 header (72 bytes) describing virtual_size bytes."""
    return struct.pack(">4sIQIIQIIQQIIQ", b"QFI\xfb", 2, 0, 0, 16, virtual_size, 0, 0, 0,
                       0, 0, 0, 0)


@pytest.fixture(scope="module")
def member(cloud):
    return cloud.member()


def create(img, token="admin", **body):
    return create_image(img, token, "img", formats=False, **body).json()


def upload(img, image_id, data, token="admin", expect=204):
    return img("PUT", "/v2/images/%s/file" % image_id, token=token, data=data,
               headers=OCTET, expect=expect)


def test_version_discovery(cloud):
    r = requests.get(cloud.base_url + "/image", timeout=10)
    assert r.status_code == 300, r.text
    vs = r.json()["versions"]
    assert vs[0]["status"] == "CURRENT" and vs[0]["id"].startswith("v2.")
    assert {v["id"] for v in vs} >= {"v2.0", "v2.1"}
    assert vs[0]["links"][0]["href"].endswith("/image/v2/")
    r = requests.get(cloud.base_url + "/image/versions", timeout=10)
    assert r.status_code == 200 and r.json()["versions"] == vs


def test_catalog_has_image(cloud):
    r = cloud.get("/v3/auth/catalog", expect=200)
    eps = [s for s in r.json()["catalog"] if s["type"] == "image"]
    assert eps and eps[0]["endpoints"][0]["url"].endswith("/image")


def test_schemas_and_info(img):
    s = img("GET", "/v2/schemas/image", expect=200).json()
    assert s["name"] == "image" and "disk_format" in s["properties"]
    assert s["additionalProperties"] == {"type": "string"}
    s = img("GET", "/v2/schemas/images", expect=200).json()
    assert s["properties"]["images"]["items"]["name"] == "image"
    # one store per site, as a Glance without enabled_backends
    img("GET", "/v2/info/stores", expect=404)
    m = img("GET", "/v2/info/import", expect=200).json()["import-methods"]
    assert m["type"] == "array" and m["value"] == ["glance-direct", "copy-image"]


def test_create_view_and_show(img, cloud):
    name = unique("view")
    im = create(img, name=name, disk_format="raw", container_format="bare", min_ram=512,
                tags=["b", "a", "a"], hw_disk_bus="scsi")
    assert im["status"] == "queued" and im["visibility"] == "shared"
    assert im["name"] == name and im["min_ram"] == 512 and im["min_disk"] == 0
    assert sorted(im["tags"]) == ["a", "b"] and im["hw_disk_bus"] == "scsi"
    for k in ("checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size"):
        assert im[k] is None, k
    assert im["self"] == "/v2/images/" + im["id"]
    assert im["file"] == im["self"] + "/file" and im["schema"] == "/v2/schemas/image"
    assert im["protected"] is False and im["os_hidden"] is False
    assert len(im["created_at"]) == 20 and im["created_at"].endswith("Z")
    shown = img("GET", "/v2/images/" + im["id"], expect=200).json()
    assert shown == im
    # an id of the caller's choice
    want = "7a3e0b4c-2a61-4d4b-9c1e-0e7f5d0c8b11"
    assert create(img, id=want)["id"] == want
    img("POST", "/v2/images", json={"id": want}, expect=409)


def test_create_negatives(img, member):
    img("POST", "/v2/images", json={"disk_format": "floppy"}, expect=400)
    img("POST", "/v2/images", json={"container_format": "zip"}, expect=400)
    img("POST", "/v2/images", json={"visibility": "everyone"}, expect=400)
    img("POST", "/v2/images", json={"min_ram": -1}, expect=400)
    img("POST", "/v2/images", json={"id": "not-a-uuid"}, expect=400)
    img("POST", "/v2/images", json={"foo": 5}, expect=400)
    r = img("POST", "/v2/images", json={"status": "active"}, expect=403)
    img("POST", "/v2/images", json={"visibility": "public"}, token=member["token"],
        expect=403)
    r = img("GET", "/v2/images/00000000-0000-0000-0000-000000000000", expect=404,
            headers={"Accept": "application/json"})
    assert r.json()["code"] == "404 Not Found"
    r = img("GET", "/v2/images/nope", expect=404, headers={"Accept": None})
    assert r.text.startswith("404 Not Found\n\n")


@pytest.mark.parametrize("accept", [
    None, "*/*", "application/json", "text/html", "text/plain", "application/json, */*",
    "application/json;q=0.5, text/plain", "text/*", "application/*;q=0.9, text/html;q=0.8",
    "image/png", "text/html;q=0, application/json;q=0.1"])
def test_fault_bodies_are_webobs(img, accept):
    """The exact page webob (Glance's error pages) renders for each Accept."""
    import webob
    import webob.exc
    missing = "00000000-0000-0000-0000-0000000000aa"
    r = img("GET", "/v2/images/" + missing, expect=404, headers={"Accept": accept})
    want = webob.Request.blank("/", headers={"Accept": accept} if accept else {}).get_response(
        webob.exc.HTTPNotFound(explanation="No image found with ID " + missing))
    assert r.headers["Content-Type"].split(";")[0] == want.content_type, accept
    assert r.content == want.body, accept


@pytest.mark.parametrize("accept", [None, "application/json", "text/html"])
def test_server_failure_shows_no_detail(img, cloud, accept):
    """A 500 is webob's page, as from Glance: what failed inside (here the
    staging directory gone, a strerror) is for the log only."""
    import webob
    import webob.exc
    im = create(img, disk_format="raw", container_format="bare")
    staging = os.path.join(cloud.data_dir, "images", "staging")
    os.rename(staging, staging + ".away")
    try:
        r = img("PUT", "/v2/images/%s/stage" % im["id"], data=b"x",
                headers=dict(OCTET, Accept=accept), expect=500)
    finally:
        os.rename(staging + ".away", staging)
    want = webob.Request.blank("/", headers={"Accept": accept} if accept else {}).get_response(
        webob.exc.HTTPInternalServerError())
    assert r.headers["Content-Type"].split(";")[0] == want.content_type, accept
    assert r.content == want.body, accept
    assert b"No such file" not in r.content
    assert img("GET", "/v2/images/" + im["id"], expect=200).json()["status"] == "queued"


def test_missing_token_is_keystonemiddlewares_401(img, cloud):
    r = img("GET", "/v2/images", token=None, expect=401)
    assert r.json() == {"error": {"code": 401, "title": "Unauthorized", "message":
                                  "The request you have made requires authentication."}}
    assert r.headers["WWW-Authenticate"].startswith('Keystone uri="http://')


def test_upload_download_round_trip(img):
    im = create(img, disk_format="raw", container_format="bare")
    data = os.urandom(300000)
    img("GET", "/v2/images/%s/file" % im["id"], expect=204)
    upload(img, im["id"], data)
    got = img("GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["status"] == "active" and got["size"] == len(data)
    assert got["virtual_size"] == len(data)
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["os_hash_algo"] == "sha512"
    assert got["os_hash_value"] == hashlib.sha512(data).hexdigest()
    r = img("GET", "/v2/images/%s/file" % im["id"], expect=200)
    assert r.content == data and r.headers["Content-MD5"] == got["checksum"]
    r = img("GET", "/v2/images/%s/file" % im["id"], headers={"Range": "bytes=10-19"},
            expect=206)
    assert r.content == data[10:20] and r.headers["Content-Range"] == "bytes 10-19/300000"
    img("GET", "/v2/images/%s/file" % im["id"], headers={"Range": "bytes=400000-"},
        expect=416)
    # a second upload, and formats once active
    upload(img, im["id"], b"again", expect=409)
    img("PATCH", "/v2/images/" + im["id"], headers=PATCH, expect=403,
        json=[{"op": "replace", "path": "/disk_format", "value": "qcow2"}])


def test_upload_needs_formats_and_octet_stream(img):
    im = create(img)
    upload(img, im["id"], b"x", expect=400)
    im = create(img, disk_format="raw", container_format="bare")
    img("PUT", "/v2/images/%s/file" % im["id"], data=b"x",
        headers={"Content-Type": "text/plain"}, expect=415)
    assert img("GET", "/v2/images/" + im["id"], expect=200).json()["status"] == "queued"


def test_qcow2_virtual_size(img):
    im = create(img, disk_format="qcow2", container_format="bare")
    data = qcow2_bytes(1 << 30) + b"\0" * 1000
    upload(img, im["id"], data)
    got = img("GET", "/v2/images/" + im["id"], expect=200).json()
    assert got["virtual_size"] == 1073741824 and got["size"] == len(data)


def test_list_filters_and_paging(img):
    tag = unique("tag")
    ids = [create(img, name="%s-%d" % (tag, i), tags=[tag], disk_format="raw",
                  container_format="bare", min_ram=i)["id"] for i in range(5)]
    r = img("GET", "/v2/images", params={"tag": tag}, expect=200).json()
    assert sorted(i["id"] for i in r["images"]) == sorted(ids)
    assert r["schema"] == "/v2/schemas/images" and r["first"].startswith("/v2/images")
    assert "next" not in r
    r = img("GET", "/v2/images", params={"name": "%s-3" % tag}, expect=200).json()
    assert [i["id"] for i in r["images"]] == [ids[3]]
    # paging in name order follows the next links
    seen, url = [], "/v2/images?tag=%s&sort_key=name&sort_dir=asc&limit=2" % tag
    while url:
        r = img("GET", url.replace("/v2", "/v2", 1), expect=200).json()
        seen += [i["id"] for i in r["images"]]
        url = r.get("next")
        assert len(seen) <= 6
    assert seen == ids
    r = img("GET", "/v2/images", params={"tag": tag, "sort": "name:desc"},
            expect=200).json()
    assert [i["id"] for i in r["images"]] == ids[::-1]
    r = img("GET", "/v2/images", params={"tag": tag, "status": "active"}, expect=200)
    assert r.json()["images"] == []
    img("GET", "/v2/images", params={"sort_key": "color"}, expect=400)
    # Glance sorts by its eight keys only
    img("GET", "/v2/images", params={"sort_key": "min_ram"}, expect=400)
    img("GET", "/v2/images", params={"sort_dir": "up"}, expect=400)
    img("GET", "/v2/images", params={"limit": "x"}, expect=400)
    img("GET", "/v2/images", params={"marker": "00000000-0000-0000-0000-00000000dead"},
        expect=400)
    img("GET", "/v2/images", params={"visibility": "secret"}, expect=400)


def test_patch_ops(img):
    im = create(img, disk_format="raw", container_format="bare", hw_x="1")
    path = "/v2/images/" + im["id"]
    r = img("PATCH", path, headers=PATCH, expect=200, json=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/min_ram", "value": 1024},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "replace", "path": "/hw_x", "value": "2"},
    ]).json()
    assert r["name"] == "renamed" and r["min_ram"] == 1024 and r["os_distro"] == "debian"
    assert sorted(r["tags"]) == ["x", "y"] and r["hw_x"] == "2"
    r = img("PATCH", path, headers=PATCH, expect=200,
            json=[{"op": "remove", "path": "/os_distro"}]).json()
    assert "os_distro" not in r
    assert img("GET", path, expect=200).json() == r
    img("PATCH", path, headers=PATCH, expect=409,
        json=[{"op": "remove", "path": "/os_distro"}])
    img("PATCH", path, headers=PATCH, expect=409,
        json=[{"op": "replace", "path": "/nothing", "value": "v"}])
    img("PATCH", path, headers=PATCH, expect=403,
        json=[{"op": "replace", "path": "/status", "value": "active"}])
    img("PATCH", path, headers=PATCH, expect=403, json=[{"op": "remove", "path": "/name"}])
    img("PATCH", path, headers=PATCH, expect=400,
        json=[{"op": "replace", "path": "/min_ram", "value": "lots"}])
    img("PATCH", path, headers=PATCH, expect=400,
        json=[{"op": "move", "path": "/name", "value": "x"}])
    img("PATCH", path, json=[{"op": "replace", "path": "/name", "value": "x"}], expect=415)


def test_tags_protected_and_delete(img):
    im = create(img, protected=True)
    path = "/v2/images/" + im["id"]
    img("PUT", path + "/tags/red", expect=204)
    img("PUT", path + "/tags/red", expect=204)
    assert img("GET", path, expect=200).json()["tags"] == ["red"]
    img("DELETE", path + "/tags/red", expect=204)
    img("DELETE", path + "/tags/red", expect=404)
    img("DELETE", path, expect=403)
    img("PATCH", path, headers=PATCH, expect=200,
        json=[{"op": "replace", "path": "/protected", "value": False}])
    img("DELETE", path, expect=204)
    img("GET", path, expect=404)
    img("DELETE", path, expect=404)


def test_deactivate_reactivate(img, member):
    im = create(img, token=member["token"], disk_format="raw", container_format="bare")
    path = "/v2/images/" + im["id"]
    img("POST", path + "/actions/deactivate", token=member["token"], expect=403)
    upload(img, im["id"], b"data", token=member["token"])
    img("POST", path + "/actions/deactivate", token=member["token"], expect=204)
    assert img("GET", path, expect=200).json()["status"] == "deactivated"
    img("GET", path + "/file", token=member["token"], expect=403)
    img("POST", path + "/actions/reactivate", token=member["token"], expect=204)
    r = img("GET", path + "/file", token=member["token"], expect=200)
    assert r.content == b"data"


def test_other_projects_private_image(img, cloud, member):
    other = cloud.member()
    im = create(img, token=member["token"], visibility="private")
    path = "/v2/images/" + im["id"]
    img("GET", path, token=other["token"], expect=404)
    img("DELETE", path, token=other["token"], expect=404)
    upload(img, im["id"], b"x", token=other["token"], expect=404)
    listed = img("GET", "/v2/images", token=other["token"], expect=200).json()["images"]
    assert im["id"] not in [i["id"] for i in listed]
    # the owner and the admin see it
    img("GET", path, token=member["token"], expect=200)
    img("GET", path, expect=200)
    assert img("GET", path, expect=200).json()["owner"] == member["project"]["id"]
    # public images are everyone's to see, but only their owner's to change
    pub = create(img, visibility="public")
    img("GET", "/v2/images/" + pub["id"], token=other["token"], expect=200)
    img("DELETE", "/v2/images/" + pub["id"], token=other["token"], expect=403)


def test_cut_off_upload_goes_back_to_queued(img, cloud):
    im = create(img, disk_format="raw", container_format="bare")
    s = partial_put(cloud, im["id"], "file", 1 << 20, 1 << 19, b"y")
    time.sleep(0.3)
    s.close()
    images = os.path.join(cloud.data_dir, "images")
    for _ in range(50):
        got = img("GET", "/v2/images/" + im["id"], expect=200).json()
        tmp = [f for f in os.listdir(images) if f.startswith(".tmp-")]
        if got["status"] == "queued" and not tmp:
            break
        time.sleep(0.1)
    assert got["status"] == "queued" and got["size"] is None and not tmp
    assert not os.path.exists(os.path.join(images, im["id"]))
    # and the image still takes a whole upload
    upload(img, im["id"], b"whole")


def test_openstacksdk(cloud, tmp_path):
    conn = openstack.connect(
        auth_url=cloud.auth_url, username=cloud.admin_user, password=cloud.admin_password,
        project_name=cloud.admin_project, user_domain_name="Default",
        project_domain_name="Default", region_name="RegionOne")
    data = os.urandom(70000)
    f = tmp_path / "sdk.raw"
    f.write_bytes(data)
    name = unique("sdk")
    im = conn.image.create_image(name=name, filename=str(f), disk_format="raw",
                                 container_format="bare", wait=True)
    # the SDK hands back the record as created; the upload made it active
    im = conn.image.get_image(im.id)
    assert im.status == "active" and im.checksum == hashlib.md5(data).hexdigest()
    assert [i.id for i in conn.image.images(name=name)] == [im.id]
    conn.image.update_image(im, min_disk=2)
    assert conn.image.get_image(im.id).min_disk == 2
    assert conn.image.download_image(im).content == data
    conn.image.delete_image(im)
    assert conn.image.find_image(name) is None


def test_cli_create_save_delete(cloud, tmp_path):
    src = tmp_path / "x.qcow2"
    src.write_bytes(qcow2_bytes(1 << 30) + os.urandom(4096))
    name = unique("cli")
    im = cloud.cli("image", "create", "--file", str(src), "--disk-format", "qcow2",
                   "--container-format", "bare", "--property", "os_distro=debian", name)
    assert im["name"] == name
    shown = cloud.cli("image", "show", name)
    assert shown["status"] == "active" and shown["virtual_size"] == 1073741824 and shown["size"] == src.stat().st_size
    assert shown["checksum"] == hashlib.md5(src.read_bytes()).hexdigest()
    rows = cloud.cli("image", "list", "--name", name)
    assert [r["ID"] for r in rows] == [im["id"]]
    out = tmp_path / "saved.qcow2"
    cloud.cli("image", "save", "--file", str(out), name, json_out=False)
    assert out.read_bytes() == src.read_bytes()
    cloud.cli("image", "set", "--tag", "golden", "--min-ram", "256", name, json_out=False)
    shown = cloud.cli("image", "show", name)
    assert shown["min_ram"] == 256 and "golden" in shown["tags"]
    cloud.cli("image", "delete", name, json_out=False)
    p = cloud.cli("image", "show", name, expect_rc=None, json_out=False)
    assert p.returncode != 0
