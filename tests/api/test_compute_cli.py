"""The unmodified `openstack` CLI (python-openstackclient with novaclient
/ openstacksdk) and openstacksdk against the compute service: flavor
create/list/show/set --property/--project/unset/delete, keypair create
(generated and imported), list/show/delete, limits show --absolute."""

import os
import subprocess

import pytest

from conftest import unique


@pytest.fixture(scope="module")
def cli(cloud):
    return cloud.cli


def test_cli_flavor_lifecycle(cli, cloud):
    name = unique("cliflv")
    f = cli("flavor", "create", "--ram", "256", "--vcpus", "2", "--disk", "3",
            "--ephemeral", "1", "--swap", "64", "--id", "auto", name)
    assert f["name"] == name and f["ram"] == 256 and f["vcpus"] == 2 and f["disk"] == 3
    names = [x["Name"] for x in cli("flavor", "list")]
    assert name in names and "m1.tiny" in names
    cli("flavor", "set", "--property", "hw:cpu_policy=shared", "--property", "k=v", name,
        json_out=False)
    s = cli("flavor", "show", name)
    assert s["id"] == f["id"] and s["swap"] == 64 and s["OS-FLV-EXT-DATA:ephemeral"] == 1
    props = s["properties"]
    assert props == {"hw:cpu_policy": "shared", "k": "v"} or \
        "hw:cpu_policy='shared'" in str(props)
    cli("flavor", "unset", "--property", "k", name, json_out=False)
    s = cli("flavor", "show", name)
    assert "k" not in (s["properties"] if isinstance(s["properties"], dict) else {})
    assert "'k'" not in str(s["properties"])
    p = cli("flavor", "create", "--ram", "256", "--vcpus", "1", name, expect_rc=1,
            json_out=False)
    assert "409" in p.stderr or "already exists" in p.stderr
    cli("flavor", "delete", name, json_out=False)
    p = cli("flavor", "show", name, expect_rc=1, json_out=False)
    assert "No Flavor found" in p.stderr or "could not be found" in p.stderr


def test_cli_private_flavor_project_access(cli, cloud):
    m = cloud.member()
    name = unique("priv")
    cli("flavor", "create", "--ram", "128", "--vcpus", "1", "--private", name)
    cli("flavor", "set", "--project", m["project"]["id"], name, json_out=False)
    s = cli("flavor", "show", name)
    assert s["os-flavor-access:is_public"] is False
    assert m["project"]["id"] in str(s.get("access_project_ids"))
    listed = cli("flavor", "list", "--private")
    assert name in [x["Name"] for x in listed]
    cli("flavor", "unset", "--project", m["project"]["id"], name, json_out=False)
    cli("flavor", "delete", name, json_out=False)


def test_cli_flavor_create_as_member_forbidden(cloud):
    m = cloud.member()
    cmd = ["/usr/bin/openstack", "--os-auth-url", cloud.auth_url,
           "--os-username", m["user"]["name"], "--os-password", m["user"]["password"],
           "--os-project-name", m["project"]["name"], "--os-user-domain-name", "Default",
           "--os-project-domain-name", "Default", "--os-identity-api-version", "3",
           "--os-region-name", "RegionOne", "flavor", "create", "--ram", "64", "x"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 1 and "403" in p.stderr, p.stderr


def test_cli_keypairs(cli, cloud, tmp_path):
    gen = unique("gen")
    priv = tmp_path / "gen.pem"
    k = cli("keypair", "create", "--private-key", str(priv), gen)
    assert k["name"] == gen and k["fingerprint"].count(":") == 15
    # the private key is a real RSA key whose public half is the stored one
    os.chmod(priv, 0o600)
    pub = subprocess.run(["ssh-keygen", "-y", "-f", str(priv)], capture_output=True,
                         text=True, check=True).stdout.split()[1]
    shown = cli("keypair", "show", gen)
    assert shown["fingerprint"] == k["fingerprint"]
    p = cli("keypair", "show", "--public-key", gen, json_out=False)
    assert pub in p.stdout
    # import
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(key) + ".pub"],
                        capture_output=True, text=True, check=True).stdout.split()[1]
    imp = unique("imp")
    k2 = cli("keypair", "create", "--public-key", str(key) + ".pub", imp)
    assert "MD5:" + k2["fingerprint"] == fp
    names = [x["Name"] for x in cli("keypair", "list")]
    assert gen in names and imp in names
    p = cli("keypair", "create", "--public-key", str(key) + ".pub", imp, expect_rc=1,
            json_out=False)
    assert "409" in p.stderr or "already exists" in p.stderr
    cli("keypair", "delete", gen, imp, json_out=False)
    assert imp not in [x["Name"] for x in cli("keypair", "list")]
    cli("keypair", "show", imp, expect_rc=1, json_out=False)


def test_cli_limits(cli):
    rows = cli("limits", "show", "--absolute")
    got = {r["Name"]: r["Value"] for r in rows}
    assert got["maxTotalCores"] == 20 and got["maxTotalInstances"] == 10
    assert got["maxTotalKeypairs"] == 100 and got["totalCoresUsed"] == 0


def test_sdk(cloud):
    import openstack
    conn = openstack.connect(
        auth_url=cloud.auth_url, username=cloud.admin_user, password=cloud.admin_password,
        project_name=cloud.admin_project, user_domain_name="Default",
        project_domain_name="Default", region_name="RegionOne")
    try:
        names = [f.name for f in conn.compute.flavors()]
        assert "m1.small" in names
        f = conn.compute.find_flavor("m1.tiny")
        assert f.ram == 512 and f.vcpus == 1 and f.disk == 1
        name = unique("sdk")
        kp = conn.compute.create_keypair(name=name)
        assert kp.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
        assert conn.compute.get_keypair(name).fingerprint == kp.fingerprint
        conn.compute.delete_keypair(name)
        assert conn.compute.find_keypair(name) is None
    finally:
        conn.close()
