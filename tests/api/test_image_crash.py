"""Crash safety of image data (file store): a daemon killed (SIGKILL) in
the middle of an upload, a stage or an import gives the image back as
queued at its next start, with the partial bytes gone; a complete stage
survives the crash and imports afterwards; files no image points at are
removed at start; and images written under the file store stay readable
after a restart that switches new data to the swift store."""

import functools
import hashlib
import os
import time

import pytest

from image_helpers import OCTET, create_image, partial_put, restart, sql
from image_helpers import image_call as img


@pytest.fixture(scope="module")
def cl(cloud_factory):
    c = cloud_factory.start("image-crash")
    yield c
    problems = cloud_factory.stop(c)
    assert not problems, problems


def create(cl, **body):
    return create_image(functools.partial(img, cl), prefix="crash", **body).json()


def status(cl, image_id):
    return img(cl, "GET", "/v2/images/" + image_id, expect=200).json()


def temps(cl, *sub):
    d = os.path.join(cl.data_dir, "images", *sub)
    return [f for f in os.listdir(d) if f.startswith(".tmp-")]


def half_sent(cl, image_id, what, total=1 << 21, sent=1 << 19):
    """Opens a transfer of total bytes, sends sent of them and waits until
    the image is in the transfer's status. Returns the open socket."""
    s = partial_put(cl, image_id, what, total, sent, b"p")
    want = "saving" if what == "file" else "uploading"
    for _ in range(100):
        if status(cl, image_id)["status"] == want:
            break
        time.sleep(0.05)
    assert status(cl, image_id)["status"] == want
    return s


def test_crash_mid_upload_and_mid_stage(cl):
    up = create(cl)
    st = create(cl)
    s1 = half_sent(cl, up["id"], "file")
    s2 = half_sent(cl, st["id"], "stage")
    time.sleep(0.3)
    assert temps(cl) and temps(cl, "staging")
    restart(cl)
    s1.close()
    s2.close()
    for im in (up, st):
        got = status(cl, im["id"])
        assert got["status"] == "queued" and got["size"] is None, got
    assert temps(cl) == [] and temps(cl, "staging") == []
    # both take their data whole now
    img(cl, "PUT", "/v2/images/%s/file" % up["id"], data=b"later", headers=OCTET, expect=204)
    assert img(cl, "GET", "/v2/images/%s/file" % up["id"], expect=200).content == b"later"
    img(cl, "PUT", "/v2/images/%s/stage" % st["id"], data=b"staged", headers=OCTET,
        expect=204)


def test_complete_stage_survives_a_crash(cl):
    im = create(cl)
    data = os.urandom(100000)
    img(cl, "PUT", "/v2/images/%s/stage" % im["id"], data=data, headers=OCTET, expect=204)
    restart(cl)
    assert status(cl, im["id"])["status"] == "uploading"
    img(cl, "POST", "/v2/images/%s/import" % im["id"],
        json={"method": {"name": "glance-direct"}}, expect=202)
    got = status(cl, im["id"])
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    assert img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=200).content == data


def test_crash_mid_import_and_orphans(cl):
    im = create(cl)
    img(cl, "PUT", "/v2/images/%s/stage" % im["id"], data=b"s" * 5000, headers=OCTET,
        expect=204)
    d = cl.d
    d.proc.kill()
    d.proc.wait()
    # as if the process died while moving the bytes: importing, with part
    # of them already under the image's name in the store
    sql(cl, "UPDATE img_image SET status = 'importing' WHERE id = ?", im["id"])
    images = os.path.join(cl.data_dir, "images")
    with open(os.path.join(images, im["id"]), "wb") as f:
        f.write(b"s" * 100)
    # and files nothing points at: left by a crash between a row's delete
    # and its file's unlink
    orphan = "0f0f0f0f-1111-2222-3333-444444444444"
    for where in ("", "staging"):
        with open(os.path.join(images, where, orphan), "wb") as f:
            f.write(b"orphan")
    with open(os.path.join(images, ".tmp-deadbeef"), "wb") as f:
        f.write(b"partial")
    restart(cl)
    got = status(cl, im["id"])
    assert got["status"] == "queued" and got["size"] is None and got["checksum"] is None
    assert not os.path.exists(os.path.join(images, im["id"]))
    assert not os.path.exists(os.path.join(images, "staging", im["id"]))
    assert not os.path.exists(os.path.join(images, orphan))
    assert not os.path.exists(os.path.join(images, "staging", orphan))
    assert temps(cl) == []
    img(cl, "GET", "/v2/images/%s/file" % im["id"], expect=204)


def test_acknowledged_data_survives_and_store_switch(cl):
    a = create(cl)
    data_a = os.urandom(70000)
    img(cl, "PUT", "/v2/images/%s/file" % a["id"], data=data_a, headers=OCTET, expect=204)
    restart(cl, {"ONESTACK_IMAGE_STORE": "swift"})
    b = create(cl)
    data_b = os.urandom(50000)
    img(cl, "PUT", "/v2/images/%s/file" % b["id"], data=data_b, headers=OCTET, expect=204)
    # a stays in files, b went to the object store; both read back
    assert os.path.exists(os.path.join(cl.data_dir, "images", a["id"]))
    assert not os.path.exists(os.path.join(cl.data_dir, "images", b["id"]))
    assert img(cl, "GET", "/v2/images/%s/file" % a["id"], expect=200).content == data_a
    assert img(cl, "GET", "/v2/images/%s/file" % b["id"], expect=200).content == data_b
    restart(cl, {"ONESTACK_IMAGE_STORE": "file"})
    r = img(cl, "GET", "/v2/images/%s/file" % b["id"], headers={"Range": "bytes=-10"},
            expect=206)
    assert r.content == data_b[-10:]
    img(cl, "DELETE", "/v2/images/" + b["id"], expect=204)
    img(cl, "DELETE", "/v2/images/" + a["id"], expect=204)
    assert not os.path.exists(os.path.join(cl.data_dir, "images", a["id"]))


def test_bad_store_setting_refuses_to_start(cloud_factory):
    from daemon import Daemon, DaemonError
    d = Daemon(env={"ONESTACK_IMAGE_STORE": "tape"}, name="image-bad-store")
    with pytest.raises(DaemonError) as e:
        d.start()
    d.proc = None
    assert d.stop() == []
    assert "store" in str(e.value)
