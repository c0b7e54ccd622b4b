"""The unmodified `openstack image` CLI (python-openstackclient 6.0 with
glanceclient/openstacksdk) against the image service: create with
--file, list, show, save (bytes identical), set/unset --property,
sharing with another project (add project, member list, the member's
--accept, remove project), create through the import flow (--import)
and delete."""

import hashlib
import json
import os
import subprocess

import pytest

from conftest import unique


@pytest.fixture(scope="module")
def cli(cloud):
    return cloud.cli


def as_member(cloud, m, *args, expect_rc=0, json_out=True):
    """The CLI with the credentials of member m (a cloud.member() dict),
    given on the command line instead of clouds.yaml."""
    cmd = ["/usr/bin/openstack", "--os-auth-url", cloud.auth_url,
           "--os-username", m["user"]["name"], "--os-password", m["user"]["password"],
           "--os-project-name", m["project"]["name"], "--os-user-domain-name", "Default",
           "--os-project-domain-name", "Default", "--os-identity-api-version", "3",
           "--os-region-name", "RegionOne"] + list(args)
    if json_out:
        cmd += ["-f", "json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    if expect_rc is not None:
        assert p.returncode == expect_rc, "%s\nexit %d\n%s" % (cmd, p.returncode, p.stderr)
    return json.loads(p.stdout) if json_out and p.returncode == 0 and p.stdout.strip() else p


def test_cli_image_lifecycle_and_sharing(cli, cloud, tmp_path):
    src = tmp_path / "disk.raw"
    data = os.urandom(300000)
    src.write_bytes(data)
    name = unique("cliimg")
    im = cli("image", "create", "--file", str(src), "--disk-format", "raw",
             "--container-format", "bare", "--shared", name)
    assert im["name"] == name
    shown = cli("image", "show", name)
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["visibility"] == "shared"
    assert [r["ID"] for r in cli("image", "list", "--name", name)] == [im["id"]]
    out = tmp_path / "saved.raw"
    cli("image", "save", "--file", str(out), name, json_out=False)
    assert out.read_bytes() == data

    # properties
    cli("image", "set", "--property", "os_distro=debian", "--property", "hw_rng=yes", name,
        json_out=False)
    props = cli("image", "show", name)["properties"]
    assert props["os_distro"] == "debian" and props["hw_rng"] == "yes", props
    cli("image", "unset", "--property", "hw_rng", name, json_out=False)
    props = cli("image", "show", name)["properties"]
    assert "hw_rng" not in props and props["os_distro"] == "debian", props

    # sharing with another project
    m = cloud.member()
    pid = m["project"]["id"]
    row = cli("image", "add", "project", name, pid)
    assert row["member_id"] == pid and row["status"] == "pending", row
    rows = cli("image", "member", "list", name)
    assert [(r["Member ID"], r["Status"]) for r in rows] == [(pid, "pending")], rows
    assert im["id"] not in [r["ID"] for r in as_member(cloud, m, "image", "list")]
    as_member(cloud, m, "image", "set", "--accept", im["id"], json_out=False)
    rows = cli("image", "member", "list", name)
    assert [(r["Member ID"], r["Status"]) for r in rows] == [(pid, "accepted")], rows
    assert im["id"] in [r["ID"] for r in as_member(cloud, m, "image", "list")]
    mine = tmp_path / "member.raw"
    as_member(cloud, m, "image", "save", "--file", str(mine), im["id"], json_out=False)
    assert mine.read_bytes() == data
    # the member may not change the image
    p = as_member(cloud, m, "image", "set", "--name", "stolen", im["id"], expect_rc=None,
                  json_out=False)
    assert p.returncode != 0
    cli("image", "remove", "project", name, pid, json_out=False)
    assert cli("image", "member", "list", name) == []
    p = as_member(cloud, m, "image", "show", im["id"], expect_rc=None, json_out=False)
    assert p.returncode != 0

    cli("image", "delete", name, json_out=False)
    p = cli("image", "show", name, expect_rc=None, json_out=False)
    assert p.returncode != 0


def test_cli_create_through_import(cli, tmp_path):
    src = tmp_path / "imported.raw"
    data = os.urandom(64000)
    src.write_bytes(data)
    name = unique("cliimport")
    cli("image", "create", "--import", "--file", str(src), "--disk-format", "raw",
        "--container-format", "bare", name)
    shown = cli("image", "show", name)
    assert shown["status"] == "active" and shown["checksum"] == hashlib.md5(data).hexdigest()
    out = tmp_path / "back.raw"
    cli("image", "save", "--file", str(out), name, json_out=False)
    assert out.read_bytes() == data
    cli("image", "delete", name, json_out=False)
