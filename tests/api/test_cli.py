"""The unmodified clients: Debian's `openstack` CLI and openstacksdk,
configured only by the clouds.yaml that `onestack init` wrote."""

import os
import subprocess

import pytest

from conftest import unique


@pytest.fixture(scope="module")
def cli(cloud):
    return cloud.cli


def test_clouds_yaml_and_openrc(cloud):
    text = open(os.path.join(cloud.data_dir, "clouds.yaml")).read()
    for needle in ("onestack:", cloud.auth_url, "username: admin", "project_name: admin",
                   "RegionOne"):
        assert needle in text, "clouds.yaml lacks %r:\n%s" % (needle, text)
    rc = open(os.path.join(cloud.data_dir, "openrc")).read()
    for var in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME",
                "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"):
        assert var in rc, "openrc lacks %s:\n%s" % (var, rc)
    # openrc works on its own with the CLI
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    p = subprocess.run(["bash", "-c", ". '%s' && /usr/bin/openstack token issue -f value -c id"
                        % os.path.join(cloud.data_dir, "openrc")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and len(p.stdout.strip()) > 20, p.stderr


def test_token_issue(cli, cloud):
    t = cli("token", "issue")
    assert set(t) >= {"id", "expires", "project_id", "user_id"}, t
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": t["id"]}, expect=200)
    assert r.json()["token"]["user"]["name"] == "admin"
    assert r.json()["token"]["project"]["name"] == "admin"


def test_project_user_role_flow(cli, cloud):
    pname, uname = unique("cliproj"), unique("cliuser")
    p = cli("project", "create", "--domain", "default", "--description", "from the CLI",
            "--tag", "cli", pname)
    assert p["name"] == pname and p["domain_id"] == "default", p
    assert p["description"] == "from the CLI", p
    u = cli("user", "create", "--domain", "default", "--password", "cli-user-pw",
            "--project", pname, "--email", "cli@example.com", uname)
    assert u["name"] == uname and u["default_project_id"] == p["id"], u
    cli("role", "add", "--user", uname, "--project", pname, "member", json_out=False)

    rows = cli("role", "assignment", "list", "--names", "--project", pname)
    got = {(r["Role"], r["User"], r["Project"]) for r in rows}
    assert ("member", "%s@Default" % uname, "%s@Default" % pname) in got, rows

    rows = cli("role", "assignment", "list", "--names", "--effective", "--user", uname)
    assert {r["Role"] for r in rows} == {"member", "reader"}, rows

    shown = cli("project", "show", pname)
    assert shown["id"] == p["id"] and shown["tags"] == ["cli"], shown
    listed = cli("project", "list", "--tags", "cli")
    assert p["id"] in [x["ID"] for x in listed], listed

    # the new user logs in with the CLI
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME=uname, OS_PASSWORD="cli-user-pw",
               OS_PROJECT_NAME=pname, OS_USER_DOMAIN_NAME="Default",
               OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3")
    proc = subprocess.run(["/usr/bin/openstack", "token", "issue", "-f", "value", "-c",
                           "project_id"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == p["id"], proc.stderr

    cli("role", "remove", "--user", uname, "--project", pname, "member", json_out=False)
    rows = cli("role", "assignment", "list", "--user", uname, "--project", pname)
    assert rows == [], rows
    cli("user", "delete", uname, json_out=False)
    cli("project", "delete", pname, json_out=False)
    p2 = cli("project", "show", pname, expect_rc=1, json_out=False)
    assert "No project" in p2.stderr or "Could not find" in p2.stderr, p2.stderr


def test_catalog_and_endpoints(cli, cloud):
    cat = cli("catalog", "list")
    ident = [c for c in cat if c["Type"] == "identity"]
    assert len(ident) == 1, cat
    eps = cli("endpoint", "list", "--service", "identity")
    assert {e["Interface"] for e in eps} >= {"public"}, eps
    assert all(e["URL"].startswith(cloud.identity_url) for e in eps), eps
    assert all(e["Region"] == "RegionOne" for e in eps), eps
    # create a service and endpoint with the CLI
    stype = unique("clisvc")
    s = cli("service", "create", "--name", stype, stype)
    e = cli("endpoint", "create", "--region", "RegionOne", s["id"], "public",
            "http://example.com/" + stype)
    assert e["interface"] == "public" and e["service_type"] == stype, e
    shown = cli("catalog", "show", stype)
    assert "http://example.com/" + stype in str(shown), shown
    cli("endpoint", "delete", e["id"], json_out=False)
    cli("service", "delete", s["id"], json_out=False)


def test_domains_and_groups(cli, cloud):
    doms = cli("domain", "list")
    assert "Default" in [d["Name"] for d in doms], doms
    dname = unique("clidom")
    d = cli("domain", "create", dname)
    assert d["name"] == dname and d["enabled"] is True, d

    gname, uname = unique("cligrp"), unique("cliu")
    g = cli("group", "create", "--domain", dname, gname)
    assert g["domain_id"] == d["id"], g
    cli("user", "create", "--domain", dname, "--password", "x-pass-x", uname)
    cli("group", "add", "user", "--group-domain", dname, "--user-domain", dname, gname, uname,
        json_out=False)
    p = cli("group", "contains", "user", "--group-domain", dname, "--user-domain", dname,
            gname, uname, json_out=False)
    assert "in group" in p.stdout and "not" not in p.stdout, p.stdout
    users = cli("user", "list", "--group", g["id"])
    assert [x["Name"] for x in users] == [uname], users


def test_application_credential(cli, cloud):
    name = unique("cliac")
    ac = cli("application", "credential", "create", "--description", "cli", name)
    assert ac["name"] == name and ac["secret"], ac
    listed = cli("application", "credential", "list")
    assert name in [x["Name"] for x in listed], listed
    # authenticate with it
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_AUTH_TYPE="v3applicationcredential",
               OS_APPLICATION_CREDENTIAL_ID=ac["id"],
               OS_APPLICATION_CREDENTIAL_SECRET=ac["secret"], OS_IDENTITY_API_VERSION="3")
    p = subprocess.run(["/usr/bin/openstack", "token", "issue", "-f", "json"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    cli("application", "credential", "delete", name, json_out=False)
    p = subprocess.run(["/usr/bin/openstack", "token", "issue"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0


def test_failure_message(cloud):
    env = cloud.client_env()
    p = subprocess.run(["/usr/bin/openstack", "--os-cloud", "onestack", "--os-password",
                        "wrong", "token", "issue"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1, p.stdout
    assert "401" in p.stderr, p.stderr


# --- openstacksdk ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def conn(cloud):
    import openstack
    old = os.environ.get("OS_CLIENT_CONFIG_FILE")
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.path.join(cloud.data_dir, "clouds.yaml")
    try:
        c = openstack.connect(cloud="onestack")
        yield c
        c.close()
    finally:
        if old is None:
            del os.environ["OS_CLIENT_CONFIG_FILE"]
        else:
            os.environ["OS_CLIENT_CONFIG_FILE"] = old


def test_sdk_identity(conn, cloud):
    projects = list(conn.identity.projects())
    assert "admin" in [p.name for p in projects]
    p = conn.identity.create_project(name=unique("sdkp"), domain_id="default")
    u = conn.identity.create_user(name=unique("sdku"), password="sdk-pass-1",
                                  domain_id="default", default_project_id=p.id)
    assert u.id and u.default_project_id == p.id
    assert conn.identity.find_user(u.name).id == u.id
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(p, u, member)
    assert conn.identity.validate_user_has_project_role(p, u, member)
    assert "member" in [r.name for r in conn.identity.roles()]
    assert any(s.type == "identity" for s in conn.identity.services())
    assert any(e.interface == "public" for e in conn.identity.endpoints())
    assert "default" in [d.id for d in conn.identity.domains()]

    import openstack
    as_user = openstack.connect(auth_url=cloud.auth_url, username=u.name,
                                password="sdk-pass-1", project_id=p.id,
                                user_domain_id="default", identity_api_version="3",
                                load_yaml_config=False, load_envvars=False)
    assert as_user.current_project_id == p.id
    assert as_user.current_user_id == u.id
    as_user.close()

    conn.identity.update_user(u, description="updated")
    assert conn.identity.get_user(u.id).description == "updated"
    conn.identity.delete_user(u)
    assert conn.identity.find_user(u.name) is None
    conn.identity.delete_project(p)


def test_sdk_cloud_layer(conn):
    name = unique("sdkcl")
    p = conn.create_project(name, domain_id="default", description="cloud layer")
    assert conn.get_project(name).id == p.id
    u = conn.create_user(name, password="cloud-layer-pw", domain_id="default")
    conn.grant_role("reader", user=u.id, project=p.id)
    assigns = conn.list_role_assignments(filters={"user": u.id, "project": p.id})
    assert len(assigns) == 1
    assert conn.delete_user(u.id)
    assert conn.delete_project(p.id)
