"""The object store through the command-line clients users run unchanged:
`openstack container/object ...` (python-openstackclient) and `swift ...`
(python-swiftclient's CLI), including names with slashes and a round trip of
bytes through save/download."""

import hashlib
import os
import subprocess

import pytest

from conftest import unique


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


@pytest.fixture
def workdir(tmp_path):
    """A file tree to upload: dir/a.bin (1 MiB random) and dir/sub/b.txt."""
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    (d / "a.bin").write_bytes(os.urandom(1 << 20))
    (d / "sub" / "b.txt").write_text("hello from b\n")
    return tmp_path


def test_openstack_container_and_object_commands(cloud, workdir):
    cont = unique("cli")
    created = cloud.cli("container", "create", cont)
    assert created[0]["container"] == cont
    assert cont in [c["Name"] for c in cloud.cli("container", "list")]

    # the CLI names the object after the path it was given, slashes and all
    os.chdir(workdir)
    up = cloud.cli("object", "create", cont, "dir/a.bin", "dir/sub/b.txt")
    assert sorted(o["object"] for o in up) == ["dir/a.bin", "dir/sub/b.txt"]
    assert all(o["etag"] for o in up)
    listed = cloud.cli("object", "list", cont)
    assert sorted(o["Name"] for o in listed) == ["dir/a.bin", "dir/sub/b.txt"]
    assert [o["Name"] for o in cloud.cli("object", "list", cont, "--prefix", "dir/sub")] == \
        ["dir/sub/b.txt"]

    shown = cloud.cli("object", "show", cont, "dir/a.bin")
    assert int(shown["content-length"]) == 1 << 20
    assert shown["etag"] == md5_of(workdir / "dir" / "a.bin")

    out = workdir / "saved.bin"
    cloud.cli("object", "save", "--file", str(out), cont, "dir/a.bin", json_out=False)
    assert md5_of(out) == md5_of(workdir / "dir" / "a.bin")

    cloud.cli("object", "set", "--property", "color=green", cont, "dir/sub/b.txt",
              json_out=False)
    props = cloud.cli("object", "show", cont, "dir/sub/b.txt")["properties"]
    assert props == {"Color": "green"} or props == {"color": "green"}, props

    cshow = cloud.cli("container", "show", cont)
    assert int(cshow["object_count"]) == 2
    assert int(cshow["bytes_used"]) == (1 << 20) + len("hello from b\n")

    # a container with objects cannot go; deleting its objects first lets it
    p = cloud.cli("container", "delete", cont, expect_rc=None, json_out=False)
    assert p.returncode != 0 and "409" in p.stderr + p.stdout, p.stderr
    cloud.cli("object", "delete", cont, "dir/a.bin", "dir/sub/b.txt", json_out=False)
    assert cloud.cli("object", "list", cont) == []
    cloud.cli("container", "delete", cont, json_out=False)
    assert cont not in [c["Name"] for c in cloud.cli("container", "list")]
    p = cloud.cli("object", "show", cont, "dir/a.bin", expect_rc=None, json_out=False)
    assert p.returncode != 0


def swift(cloud, cwd, *args, expect_rc=0):
    """Runs python-swiftclient's CLI as the admin (it reads no clouds.yaml)."""
    env = cloud.client_env()
    cmd = ["/usr/bin/swift"]
    env.update({"OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": cloud.admin_user,
                "OS_PASSWORD": cloud.admin_password, "OS_PROJECT_NAME": cloud.admin_project,
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3"})
    p = subprocess.run(cmd + list(args), cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    if expect_rc is not None:
        assert p.returncode == expect_rc, "%s\nexit %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd + list(args)), p.returncode, p.stdout[-2000:], p.stderr[-3000:])
    return p


def test_swift_cli_upload_download_round_trip(cloud, workdir):
    cont = unique("swcli")
    swift(cloud, workdir, "upload", cont, "dir")
    names = swift(cloud, workdir, "list", cont).stdout.split()
    assert sorted(names) == ["dir/a.bin", "dir/sub/b.txt"]
    stat = swift(cloud, workdir, "stat", cont).stdout
    assert "Objects: 2" in stat

    swift(cloud, workdir, "post", "-m", "Owner:team", cont, "dir/a.bin")
    assert "Meta Owner: team" in swift(cloud, workdir, "stat", cont, "dir/a.bin").stdout

    out = workdir / "out"
    out.mkdir()
    swift(cloud, out, "download", cont)
    assert md5_of(out / "dir" / "a.bin") == md5_of(workdir / "dir" / "a.bin")
    assert (out / "dir" / "sub" / "b.txt").read_text() == "hello from b\n"

    swift(cloud, workdir, "delete", cont)
    p = swift(cloud, workdir, "stat", cont, expect_rc=None)
    assert p.returncode != 0 and "not found" in p.stderr, p.stderr
