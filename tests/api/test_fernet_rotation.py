"""`onestack admin fernet-rotate` against a running server: tokens made with
a key stay valid while the key is kept (max_active_keys = 3: staged,
primary, one secondary) and die when rotation drops it; the server notices
the new repository without a restart."""
import os
import subprocess
import time

import pytest

from conftest import REFERENCE, describe

pytestmark = pytest.mark.skipif(bool(REFERENCE), reason="onestack's own admin command")


def rotate(c):
    # the daemon's own binary (daemon.py resolves ONESTACK_BIN and the default)
    r = subprocess.run([c.d.binary, "admin", "fernet-rotate", "--data", c.data_dir],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # the server looks at the repository at most once a second
    time.sleep(1.2)


def keys(c):
    return sorted(int(k) for k in os.listdir(os.path.join(c.data_dir, "fernet-keys")))


def valid(c, token):
    r = c.get("/v3/auth/tokens", headers={"X-Subject-Token": token})
    assert r.status_code in (200, 404), describe(r)
    return r.status_code == 200


def test_rotation(private_cloud):
    c = private_cloud
    assert keys(c) == [0, 1]
    old = c.token(c.admin_password, name=c.admin_user)
    assert valid(c, old)

    rotate(c)
    assert keys(c) == [0, 1, 2]
    assert valid(c, old), "a token of the previous primary key must stay valid"
    newer = c.token(c.admin_password, name=c.admin_user)
    # the admin token the helpers use was made before the rotations too:
    # validate with a fresh one each time
    c._admin_token = newer

    rotate(c)
    assert keys(c) == [0, 2, 3]
    assert not valid(c, old), "key 1 was dropped: its tokens must be refused"
    assert valid(c, newer)

    r = c.get("/v3/auth/tokens", token=old, headers={"X-Subject-Token": newer})
    assert r.status_code == 401, describe(r)
