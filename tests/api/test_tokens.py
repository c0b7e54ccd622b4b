"""POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth/* helpers."""

import datetime
import re

import pytest

from conftest import describe, unique

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
AUDIT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")    # 16 random bytes, urlsafe base64 without '='


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def env(cloud):
    """A domain-level setup shared by the module: a project with a member user."""
    m = cloud.member()
    return m


def check_common(t, user, methods):
    assert sorted(t["methods"]) == sorted(methods), t
    assert t["user"]["id"] == user["id"], t
    assert t["user"]["name"] == user["name"], t
    assert t["user"]["domain"]["id"] == user["domain_id"], t
    assert "name" in t["user"]["domain"], t
    assert "password_expires_at" in t["user"], t
    assert TS.match(t["expires_at"]) and TS.match(t["issued_at"]), t
    issued, expires = parse_ts(t["issued_at"]), parse_ts(t["expires_at"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((issued - now).total_seconds()) < 120, t
    assert datetime.timedelta(minutes=5) < expires - issued <= datetime.timedelta(days=1), t
    assert isinstance(t["audit_ids"], list) and t["audit_ids"], t
    assert all(AUDIT_ID.match(a) for a in t["audit_ids"]), t


def role_names(t):
    return sorted(r["name"] for r in t["roles"])


# --- issue -----------------------------------------------------------------

def test_project_scoped_by_user_id(cloud, env):
    user, project = env["user"], env["project"]
    r = cloud.login(user["password"], user_id=user["id"],
                    scope={"project": {"id": project["id"]}})
    assert r.status_code == 201, describe(r)
    assert r.headers["Content-Type"].startswith("application/json")
    subject = r.headers.get("X-Subject-Token")
    assert subject and len(subject) >= 32, describe(r)
    assert subject not in r.text, "the token id must not be in the body"
    t = r.json()["token"]
    check_common(t, user, ["password"])
    assert t["project"]["id"] == project["id"], t
    assert t["project"]["name"] == project["name"], t
    assert t["project"]["domain"] == {"id": "default", "name": "Default"}, t
    assert t.get("is_domain") is False, t
    # member implies reader: both are in the token
    assert role_names(t) == ["member", "reader"], t
    assert all(set(r) >= {"id", "name"} for r in t["roles"]), t
    assert "domain" not in t and "system" not in t, t
    catalog = t["catalog"]
    ident = [s for s in catalog if s["type"] == "identity"]
    assert len(ident) == 1, catalog
    assert {"id", "name", "endpoints"} <= set(ident[0]), ident
    ifaces = {e["interface"] for e in ident[0]["endpoints"]}
    assert "public" in ifaces, ident
    for e in ident[0]["endpoints"]:
        assert {"id", "interface", "region_id", "url", "region"} <= set(e), e
        assert e["url"].startswith(cloud.identity_url), e
        assert e["region_id"] == "RegionOne", e


def test_project_scoped_by_names(cloud, env):
    user, project = env["user"], env["project"]
    for ud, pd in (({"name": "Default"}, {"name": "Default"}),
                   ({"id": "default"}, {"id": "default"})):
        body = {"methods": ["password"],
                "password": {"user": {"name": user["name"], "domain": ud,
                                      "password": user["password"]}}}
        r = cloud.authenticate(body, scope={"project": {"name": project["name"], "domain": pd}})
        assert r.status_code == 201, describe(r)
        t = r.json()["token"]
        assert t["project"]["id"] == project["id"], t
        assert t["user"]["id"] == user["id"], t


def test_unscoped_token(cloud):
    user = cloud.create_user()        # no default project
    r = cloud.login(user["password"], user_id=user["id"])
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    check_common(t, user, ["password"])
    for key in ("project", "domain", "system", "catalog", "roles"):
        assert key not in t, t


def test_default_project_scope(cloud, env):
    # No scope asked: Keystone scopes to the user's default project.
    user = env["user"]
    r = cloud.login(user["password"], user_id=user["id"])
    assert r.status_code == 201, describe(r)
    assert r.json()["token"]["project"]["id"] == env["project"]["id"], describe(r)


def test_unscoped_explicit(cloud, env):
    user = env["user"]
    r = cloud.login(user["password"], user_id=user["id"], scope="unscoped")
    assert r.status_code == 201, describe(r)
    assert "project" not in r.json()["token"], describe(r)


def test_domain_scoped(cloud):
    user = cloud.create_user()
    cloud.grant("admin", user_id=user["id"], domain_id="default")
    r = cloud.login(user["password"], name=user["name"], domain_name="Default",
                    scope={"domain": {"id": "default"}})
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    check_common(t, user, ["password"])
    assert t["domain"] == {"id": "default", "name": "Default"}, t
    assert role_names(t) == ["admin", "member", "reader"], t
    assert "project" not in t and "system" not in t, t
    assert isinstance(t["catalog"], list) and t["catalog"], t
    # by domain name as well
    r = cloud.login(user["password"], user_id=user["id"], scope={"domain": {"name": "Default"}})
    assert r.status_code == 201, describe(r)


def test_system_scoped(cloud):
    r = cloud.login(cloud.admin_password, name=cloud.admin_user,
                    scope={"system": {"all": True}})
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    assert t["system"] == {"all": True}, t
    assert "admin" in role_names(t), t
    assert "project" not in t and "domain" not in t, t


def test_system_scope_without_role(cloud, env):
    user = env["user"]
    r = cloud.login(user["password"], user_id=user["id"], scope={"system": {"all": True}})
    assert r.status_code == 401, describe(r)


def test_project_without_role(cloud, env):
    other = cloud.create_project()
    user = env["user"]
    r = cloud.login(user["password"], user_id=user["id"], scope={"project": {"id": other["id"]}})
    assert r.status_code == 401, describe(r)


def test_unknown_project_scope(cloud, env):
    user = env["user"]
    r = cloud.login(user["password"], user_id=user["id"],
                    scope={"project": {"id": "0" * 32}})
    assert r.status_code == 401, describe(r)


def test_nocatalog(cloud, env):
    user, project = env["user"], env["project"]
    r = cloud.login(user["password"], user_id=user["id"],
                    scope={"project": {"id": project["id"]}}, nocatalog=True)
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    assert "catalog" not in t, t
    assert t["project"]["id"] == project["id"]
    # ... and on validation
    subject = r.headers["X-Subject-Token"]
    r = cloud.get("/v3/auth/tokens?nocatalog", headers={"X-Subject-Token": subject})
    assert r.status_code == 200, describe(r)
    assert "catalog" not in r.json()["token"], describe(r)
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": subject})
    assert r.json()["token"]["catalog"], describe(r)


def test_rescope_with_token_method(cloud, env):
    user, project = env["user"], env["project"]
    r = cloud.login(user["password"], user_id=user["id"], scope="unscoped")
    unscoped = r.headers["X-Subject-Token"]
    first_audit = r.json()["token"]["audit_ids"][0]
    r = cloud.authenticate({"methods": ["token"], "token": {"id": unscoped}},
                           scope={"project": {"id": project["id"]}})
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    assert sorted(t["methods"]) == ["password", "token"], t
    assert t["project"]["id"] == project["id"], t
    assert t["user"]["id"] == user["id"], t
    assert len(t["audit_ids"]) == 2 and t["audit_ids"][1] == first_audit, t
    # the new token's expiry does not outlive the original
    orig = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": unscoped}).json()["token"]
    assert parse_ts(t["expires_at"]) <= parse_ts(orig["expires_at"]), (t, orig)


def test_token_method_with_invalid_token(cloud):
    # Keystone: 404 "Could not recognize Fernet token"
    r = cloud.authenticate({"methods": ["token"], "token": {"id": "garbage-token"}})
    assert r.status_code == 404, describe(r)


# --- validate / check / revoke -------------------------------------------------

def test_validate_check_revoke(cloud, env):
    user, project = env["user"], env["project"]
    subject = cloud.token(user["password"], user_id=user["id"],
                          scope={"project": {"id": project["id"]}})
    hdr = {"X-Subject-Token": subject}
    r = cloud.get("/v3/auth/tokens", headers=hdr)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("X-Subject-Token") == subject, describe(r)
    t = r.json()["token"]
    check_common(t, user, ["password"])
    assert t["project"]["id"] == project["id"], t
    assert role_names(t) == ["member", "reader"], t

    r = cloud.head("/v3/auth/tokens", headers=hdr)
    assert r.status_code == 200, describe(r)
    assert r.content == b""

    # a user may validate their own token
    r = cloud.get("/v3/auth/tokens", token=subject, headers=hdr)
    assert r.status_code == 200, describe(r)

    r = cloud.delete("/v3/auth/tokens", headers=hdr)
    assert r.status_code == 204, describe(r)
    assert r.content == b""

    for method in ("GET", "HEAD"):
        r = cloud.request(method, "/v3/auth/tokens", headers=hdr)
        assert r.status_code == 404, describe(r)
    r = cloud.delete("/v3/auth/tokens", headers=hdr)
    assert r.status_code == 404, describe(r)
    # the revoked token no longer authenticates anything
    r = cloud.get("/v3/auth/projects", token=subject)
    assert r.status_code == 401, describe(r)
    r = cloud.get("/v3/users/%s" % user["id"], token=subject)
    assert r.status_code == 401, describe(r)


def test_validate_needs_subject_token(cloud):
    r = cloud.get("/v3/auth/tokens")        # Keystone: 404 "No token in the request"
    assert r.status_code == 404, describe(r)


def test_validate_garbage_subject(cloud):
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": "gAAAAABgarbage"})
    assert r.status_code == 404, describe(r)
    assert r.json()["error"]["code"] == 404, describe(r)


def test_validate_without_auth_token(cloud, env):
    r = cloud.get("/v3/auth/tokens", token=None, headers={"X-Subject-Token": env["token"]})
    assert r.status_code == 401, describe(r)


def test_member_cannot_validate_others_token(cloud, env):
    other = cloud.member()
    r = cloud.get("/v3/auth/tokens", token=env["token"],
                  headers={"X-Subject-Token": other["token"]})
    assert r.status_code == 403, describe(r)


def test_garbage_auth_token(cloud):
    for tok in ("garbage", "gAAAAAB" + "A" * 180, "x" * 300):
        r = cloud.get("/v3/auth/projects", token=tok)
        assert r.status_code == 401, describe(r)
        err = r.json()["error"]
        assert err["code"] == 401 and err["title"] == "Unauthorized", describe(r)


def test_tampered_token(cloud, env):
    tok = env["token"]
    i = len(tok) // 2
    bad = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1:]
    r = cloud.get("/v3/auth/projects", token=bad)
    assert r.status_code == 401, describe(r)


# --- failures ----------------------------------------------------------------

def check_401(r):
    assert r.status_code == 401, describe(r)
    err = r.json()["error"]
    assert err["code"] == 401, describe(r)
    assert err["title"] == "Unauthorized", describe(r)
    assert isinstance(err["message"], str) and err["message"], describe(r)
    assert r.headers.get("WWW-Authenticate", "").startswith("Keystone uri="), describe(r)
    assert "X-Subject-Token" not in r.headers, describe(r)


def test_wrong_password(cloud, env):
    user = env["user"]
    r = cloud.login("wrong-" + user["password"], user_id=user["id"])
    check_401(r)
    # the same answer for a user that does not exist: no user enumeration
    r2 = cloud.login("whatever", name=unique("nobody"), domain_id="default")
    check_401(r2)
    assert r.json()["error"]["message"] == r2.json()["error"]["message"]
    r = cloud.login("whatever", user_id="0" * 32)
    check_401(r)


def test_disabled_user(cloud):
    user = cloud.create_user()
    tok = cloud.token(user["password"], user_id=user["id"])
    cloud.patch("/v3/users/%s" % user["id"], json={"user": {"enabled": False}}, expect=200)
    check_401(cloud.login(user["password"], user_id=user["id"]))
    # tokens of a disabled user stop working
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 404, describe(r)
    cloud.patch("/v3/users/%s" % user["id"], json={"user": {"enabled": True}}, expect=200)
    assert cloud.login(user["password"], user_id=user["id"]).status_code == 201


def test_disabled_project(cloud):
    m = cloud.member()
    pid = m["project"]["id"]
    cloud.patch("/v3/projects/%s" % pid, json={"project": {"enabled": False}}, expect=200)
    check_401(cloud.login(m["user"]["password"], user_id=m["user"]["id"],
                          scope={"project": {"id": pid}}))
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": m["token"]})
    assert r.status_code == 404, describe(r)


def test_disabled_domain(cloud):
    dom = cloud.create_domain()
    user = cloud.create_user(domain_id=dom["id"])
    assert cloud.login(user["password"], user_id=user["id"]).status_code == 201
    cloud.patch("/v3/domains/%s" % dom["id"], json={"domain": {"enabled": False}}, expect=200)
    check_401(cloud.login(user["password"], user_id=user["id"]))


@pytest.mark.parametrize("body", [
    {"auth": {"identity": {"methods": ["password"]}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
                                                                          "password": "x"}}}}},
    {"auth": {"identity": {"methods": "password"}}},
    {"auth": {}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": "x", "password": 12}}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": "x", "password": "y"}}}, "scope": {"project": {}}}},
], ids=["no-password", "no-user-id-or-name", "name-without-domain", "methods-not-list",
        "no-identity", "password-not-string", "empty-project-scope"])
def test_malformed_auth_requests(cloud, body):
    r = cloud.post("/v3/auth/tokens", token=None, json=body)
    assert r.status_code == 400, describe(r)
    err = r.json()["error"]
    assert err["code"] == 400 and err["title"] == "Bad Request", describe(r)


def test_no_auth_methods(cloud):
    r = cloud.post("/v3/auth/tokens", token=None,
                   json={"auth": {"identity": {"methods": [], "password": {}}}})
    assert r.status_code == 401, describe(r)


def test_unsupported_auth_method(cloud):
    r = cloud.post("/v3/auth/tokens", token=None,
                   json={"auth": {"identity": {"methods": ["kerberos-xyz"],
                                               "kerberos-xyz": {}}}})
    assert r.status_code == 401, describe(r)


# --- application credentials ----------------------------------------------------

@pytest.fixture(scope="module")
def appcred(cloud, env):
    user, project = env["user"], env["project"]
    r = cloud.post("/v3/users/%s/application_credentials" % user["id"], token=env["token"],
                   json={"application_credential": {"name": unique("ac"),
                                                    "roles": [{"name": "reader"}]}})
    assert r.status_code == 201, describe(r)
    return r.json()["application_credential"]


def test_application_credential_auth_by_id(cloud, env, appcred):
    r = cloud.authenticate({"methods": ["application_credential"],
                            "application_credential": {"id": appcred["id"],
                                                       "secret": appcred["secret"]}})
    assert r.status_code == 201, describe(r)
    t = r.json()["token"]
    assert t["methods"] == ["application_credential"], t
    assert t["user"]["id"] == env["user"]["id"], t
    assert t["project"]["id"] == env["project"]["id"], t
    assert role_names(t) == ["reader"], t
    assert t["application_credential"]["id"] == appcred["id"], t
    assert t["application_credential"]["name"] == appcred["name"], t
    assert t["application_credential"]["restricted"] is True, t
    assert t["catalog"], t


def test_application_credential_auth_by_name(cloud, env, appcred):
    user = env["user"]
    for u in ({"id": user["id"]},
              {"name": user["name"], "domain": {"id": "default"}},
              {"name": user["name"], "domain": {"name": "Default"}}):
        r = cloud.authenticate({"methods": ["application_credential"],
                                "application_credential": {"name": appcred["name"], "user": u,
                                                           "secret": appcred["secret"]}})
        assert r.status_code == 201, describe(r)
        assert r.json()["token"]["application_credential"]["id"] == appcred["id"]


def test_application_credential_wrong_secret(cloud, appcred):
    r = cloud.authenticate({"methods": ["application_credential"],
                            "application_credential": {"id": appcred["id"],
                                                       "secret": "not-the-secret"}})
    check_401(r)
    r = cloud.authenticate({"methods": ["application_credential"],
                            "application_credential": {"id": "0" * 32, "secret": "x"}})
    assert r.status_code in (401, 404), describe(r)


def test_restricted_application_credential_cannot_make_more(cloud, env, appcred):
    tok = cloud.authenticate({"methods": ["application_credential"],
                              "application_credential": {"id": appcred["id"],
                                                         "secret": appcred["secret"]}},
                             expect=201).headers["X-Subject-Token"]
    r = cloud.post("/v3/users/%s/application_credentials" % env["user"]["id"], token=tok,
                   json={"application_credential": {"name": unique("ac2")}})
    assert r.status_code == 403, describe(r)


# --- /v3/auth/* -------------------------------------------------------------------

def test_auth_catalog(cloud, env):
    r = cloud.get("/v3/auth/catalog", token=env["token"])
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert any(s["type"] == "identity" for s in body["catalog"]), body
    assert body["links"]["self"].endswith("/v3/auth/catalog"), body
    # unscoped tokens have no catalog
    user = cloud.create_user()
    unscoped = cloud.token(user["password"], user_id=user["id"])
    r = cloud.get("/v3/auth/catalog", token=unscoped)
    assert r.status_code == 403, describe(r)


def test_auth_projects(cloud, env):
    r = cloud.get("/v3/auth/projects", token=env["token"])
    assert r.status_code == 200, describe(r)
    ids = [p["id"] for p in r.json()["projects"]]
    assert ids == [env["project"]["id"]], describe(r)
    assert "links" in r.json()
    # an unscoped token of the same user sees the same list
    unscoped = cloud.token(env["user"]["password"], user_id=env["user"]["id"], scope="unscoped")
    r = cloud.get("/v3/auth/projects", token=unscoped)
    assert [p["id"] for p in r.json()["projects"]] == ids, describe(r)
    # disabled projects are still listed (as Keystone does), marked disabled
    m = cloud.member()
    user_tok = cloud.token(m["user"]["password"], user_id=m["user"]["id"], scope="unscoped")
    cloud.patch("/v3/projects/%s" % m["project"]["id"],
                json={"project": {"enabled": False}}, expect=200)
    r = cloud.get("/v3/auth/projects", token=user_tok)
    assert r.status_code == 200, describe(r)
    assert [(p["id"], p["enabled"]) for p in r.json()["projects"]] == \
        [(m["project"]["id"], False)], describe(r)


def test_auth_domains(cloud, env):
    r = cloud.get("/v3/auth/domains", token=env["token"])
    assert r.status_code == 200, describe(r)
    assert r.json()["domains"] == [], describe(r)
    user = cloud.create_user()
    cloud.grant("member", user_id=user["id"], domain_id="default")
    tok = cloud.token(user["password"], user_id=user["id"])
    r = cloud.get("/v3/auth/domains", token=tok)
    assert [d["id"] for d in r.json()["domains"]] == ["default"], describe(r)


def test_auth_system(cloud, env):
    r = cloud.get("/v3/auth/system")
    assert r.status_code == 200, describe(r)
    assert r.json()["system"] == [{"all": True}], describe(r)
    r = cloud.get("/v3/auth/system", token=env["token"])
    assert r.status_code == 200, describe(r)
    assert r.json()["system"] == [], describe(r)


def test_auth_endpoints_need_token(cloud):
    for p in ("catalog", "projects", "domains", "system"):
        r = cloud.get("/v3/auth/" + p, token=None)
        assert r.status_code == 401, describe(r)
