"""CRUD of the Keystone v3 resources, as Keystone (Zed) does it."""

import datetime
import hashlib
import json

import pytest

from conftest import describe, unique


def ids(items):
    return sorted(i["id"] for i in items)


def check_links(cloud, entity, collection):
    assert entity["links"]["self"] == "%s/v3/%s/%s" % (cloud.identity_url, collection,
                                                       entity["id"]), entity


def check_list_links(cloud, body, path):
    links = body["links"]
    assert links["self"].startswith(cloud.identity_url + path), body
    assert links.get("next") is None and links.get("previous") is None, body


# --- domains -------------------------------------------------------------------

def test_default_domain(cloud):
    r = cloud.get("/v3/domains/default", expect=200)
    d = r.json()["domain"]
    assert d["id"] == "default" and d["name"] == "Default" and d["enabled"] is True, d
    r = cloud.get("/v3/domains", params={"name": "Default"}, expect=200)
    assert [x["id"] for x in r.json()["domains"]] == ["default"], describe(r)


def test_domain_crud(cloud):
    name = unique("dom")
    r = cloud.post("/v3/domains", json={"domain": {"name": name, "description": "first"}})
    assert r.status_code == 201, describe(r)
    d = r.json()["domain"]
    assert d["name"] == name and d["description"] == "first" and d["enabled"] is True, d
    assert len(d["id"]) == 32, d
    check_links(cloud, d, "domains")

    r = cloud.get("/v3/domains/%s" % d["id"], expect=200)
    assert r.json()["domain"]["name"] == name
    r = cloud.get("/v3/domains", expect=200)
    assert d["id"] in ids(r.json()["domains"]), describe(r)
    check_list_links(cloud, r.json(), "/v3/domains")

    r = cloud.patch("/v3/domains/%s" % d["id"], json={"domain": {"description": "second"}},
                    expect=200)
    assert r.json()["domain"]["description"] == "second"
    assert r.json()["domain"]["name"] == name

    # same name again: conflict
    r = cloud.post("/v3/domains", json={"domain": {"name": name}})
    assert r.status_code == 409, describe(r)

    # an enabled domain cannot be deleted
    r = cloud.delete("/v3/domains/%s" % d["id"])
    assert r.status_code == 403, describe(r)
    cloud.patch("/v3/domains/%s" % d["id"], json={"domain": {"enabled": False}}, expect=200)
    r = cloud.get("/v3/domains", params={"enabled": "false"}, expect=200)
    assert d["id"] in ids(r.json()["domains"]), describe(r)
    r = cloud.get("/v3/domains", params={"enabled": "true"}, expect=200)
    assert d["id"] not in ids(r.json()["domains"]), describe(r)
    cloud.delete("/v3/domains/%s" % d["id"], expect=204)
    cloud.get("/v3/domains/%s" % d["id"], expect=404)


def test_domain_delete_removes_contents(cloud):
    d = cloud.create_domain()
    p = cloud.create_project(domain_id=d["id"])
    u = cloud.create_user(domain_id=d["id"])
    cloud.patch("/v3/domains/%s" % d["id"], json={"domain": {"enabled": False}}, expect=200)
    cloud.delete("/v3/domains/%s" % d["id"], expect=204)
    cloud.get("/v3/projects/%s" % p["id"], expect=404)
    cloud.get("/v3/users/%s" % u["id"], expect=404)


# --- projects ----------------------------------------------------------------------

def test_project_crud(cloud):
    d = cloud.create_domain()
    name = unique("proj")
    r = cloud.post("/v3/projects", json={"project": {
        "name": name, "domain_id": d["id"], "description": "desc", "tags": ["a", "b"]}})
    assert r.status_code == 201, describe(r)
    p = r.json()["project"]
    assert p["name"] == name and p["domain_id"] == d["id"], p
    assert p["parent_id"] == d["id"], "a top-level project's parent is its domain: %s" % p
    assert p["is_domain"] is False and p["enabled"] is True, p
    assert p["description"] == "desc", p
    assert sorted(p["tags"]) == ["a", "b"], p
    check_links(cloud, p, "projects")

    r = cloud.get("/v3/projects/%s" % p["id"], expect=200)
    assert r.json()["project"]["name"] == name

    r = cloud.patch("/v3/projects/%s" % p["id"],
                    json={"project": {"description": "new", "enabled": False}}, expect=200)
    assert r.json()["project"]["description"] == "new"
    assert r.json()["project"]["enabled"] is False

    # the same name in the same domain conflicts; in another domain it does not
    r = cloud.post("/v3/projects", json={"project": {"name": name, "domain_id": d["id"]}})
    assert r.status_code == 409, describe(r)
    r = cloud.post("/v3/projects", json={"project": {"name": name, "domain_id": "default"}})
    assert r.status_code == 201, describe(r)

    cloud.delete("/v3/projects/%s" % p["id"], expect=204)
    cloud.get("/v3/projects/%s" % p["id"], expect=404)
    cloud.delete("/v3/projects/%s" % p["id"], expect=404)


def test_project_default_domain_from_token(cloud):
    # No domain_id: the domain of the (admin) token's project, i.e. default.
    r = cloud.post("/v3/projects", json={"project": {"name": unique("proj")}})
    assert r.status_code == 201, describe(r)
    assert r.json()["project"]["domain_id"] == "default"


def test_project_hierarchy(cloud):
    parent = cloud.create_project()
    child = cloud.create_project(parent_id=parent["id"])
    assert child["parent_id"] == parent["id"], child
    assert child["domain_id"] == "default", child
    r = cloud.get("/v3/projects", params={"parent_id": parent["id"]}, expect=200)
    assert ids(r.json()["projects"]) == [child["id"]], describe(r)
    # a project with children cannot be deleted
    r = cloud.delete("/v3/projects/%s" % parent["id"])
    assert r.status_code == 403, describe(r)
    # parent in another domain
    other = cloud.create_domain()
    r = cloud.post("/v3/projects", json={"project": {"name": unique("p"), "domain_id": other["id"],
                                                     "parent_id": parent["id"]}})
    assert r.status_code == 400, describe(r)
    cloud.delete("/v3/projects/%s" % child["id"], expect=204)
    cloud.delete("/v3/projects/%s" % parent["id"], expect=204)


def test_project_filters(cloud):
    d = cloud.create_domain()
    a = cloud.create_project(domain_id=d["id"])
    b = cloud.create_project(domain_id=d["id"], enabled=False)
    r = cloud.get("/v3/projects", params={"domain_id": d["id"]}, expect=200)
    assert ids(r.json()["projects"]) == sorted([a["id"], b["id"]]), describe(r)
    r = cloud.get("/v3/projects", params={"domain_id": d["id"], "enabled": "false"}, expect=200)
    assert ids(r.json()["projects"]) == [b["id"]], describe(r)
    r = cloud.get("/v3/projects", params={"name": a["name"]}, expect=200)
    assert ids(r.json()["projects"]) == [a["id"]], describe(r)
    r = cloud.get("/v3/projects", params={"name": unique("nothing")}, expect=200)
    assert r.json()["projects"] == [], describe(r)


def test_project_tags(cloud):
    p = cloud.create_project(tags=["one"])
    base = "/v3/projects/%s/tags" % p["id"]
    r = cloud.put(base + "/two")
    assert r.status_code == 201, describe(r)
    r = cloud.get(base, expect=200)
    assert sorted(r.json()["tags"]) == ["one", "two"], describe(r)
    assert cloud.get(base + "/two").status_code == 204
    assert cloud.head(base + "/two").status_code == 204
    r = cloud.get(base + "/three")
    assert r.status_code == 404, describe(r)
    cloud.delete(base + "/two", expect=204)
    cloud.delete(base + "/two", expect=404)
    r = cloud.get("/v3/projects/%s" % p["id"], expect=200)
    assert r.json()["project"]["tags"] == ["one"], describe(r)
    # replace the whole list
    r = cloud.put(base, json={"tags": ["x", "y"]})
    assert r.status_code == 200, describe(r)
    assert sorted(r.json()["tags"]) == ["x", "y"], describe(r)
    # tags on a missing project
    r = cloud.put("/v3/projects/%s/tags/x" % ("0" * 32))
    assert r.status_code == 404, describe(r)


def test_project_tag_add_names_the_tag(cloud):
    # a tag is stored stripped: adding one that is already there but for
    # white space answers with that tag's own location, whatever its place
    p = cloud.create_project(tags=["a", "b"])
    base = "/v3/projects/%s/tags" % p["id"]
    r = cloud.put(base + "/%20a")
    assert r.status_code == 201, describe(r)
    assert r.headers["Location"].endswith(base + "/a"), r.headers
    r = cloud.put(base + "/c%20")
    assert r.status_code == 201, describe(r)
    assert r.headers["Location"].endswith(base + "/c"), r.headers
    r = cloud.get(base, expect=200)
    assert sorted(r.json()["tags"]) == ["a", "b", "c"], describe(r)


def test_project_tag_filters(cloud):
    t1, t2 = unique("tag"), unique("tag")
    both = cloud.create_project(tags=[t1, t2])
    only1 = cloud.create_project(tags=[t1])
    cloud.create_project(tags=["unrelated"])
    r = cloud.get("/v3/projects", params={"tags": t1}, expect=200)
    assert ids(r.json()["projects"]) == sorted([both["id"], only1["id"]]), describe(r)
    r = cloud.get("/v3/projects", params={"tags": "%s,%s" % (t1, t2)}, expect=200)
    assert ids(r.json()["projects"]) == [both["id"]], describe(r)
    r = cloud.get("/v3/projects", params={"tags-any": "%s,%s" % (t2, unique())}, expect=200)
    assert ids(r.json()["projects"]) == [both["id"]], describe(r)
    r = cloud.get("/v3/projects", params={"tags": t1, "not-tags": t2}, expect=200)
    assert ids(r.json()["projects"]) == [only1["id"]], describe(r)


# --- users -------------------------------------------------------------------------

def test_user_crud(cloud):
    p = cloud.create_project()
    name = unique("user")
    r = cloud.post("/v3/users", json={"user": {
        "name": name, "domain_id": "default", "password": "first-password",
        "email": "someone@example.com", "description": "a user",
        "default_project_id": p["id"], "options": {"ignore_password_expiry": True}}})
    assert r.status_code == 201, describe(r)
    u = r.json()["user"]
    assert "password" not in u and "first-password" not in r.text, describe(r)
    assert u["name"] == name and u["domain_id"] == "default" and u["enabled"] is True, u
    assert u["email"] == "someone@example.com" and u["description"] == "a user", u
    assert u["default_project_id"] == p["id"], u
    assert u["options"] == {"ignore_password_expiry": True}, u
    assert "password_expires_at" in u, u
    check_links(cloud, u, "users")

    r = cloud.get("/v3/users/%s" % u["id"], expect=200)
    assert r.json()["user"]["email"] == "someone@example.com", describe(r)
    assert "password" not in r.json()["user"]

    r = cloud.get("/v3/users", params={"name": name}, expect=200)
    assert ids(r.json()["users"]) == [u["id"]], describe(r)
    r = cloud.get("/v3/users", params={"domain_id": "default"}, expect=200)
    assert u["id"] in ids(r.json()["users"]), describe(r)

    r = cloud.patch("/v3/users/%s" % u["id"], json={"user": {
        "name": name + "-renamed", "email": "other@example.com", "enabled": False}}, expect=200)
    v = r.json()["user"]
    assert v["name"] == name + "-renamed" and v["email"] == "other@example.com", v
    assert v["enabled"] is False and v["description"] == "a user", v

    r = cloud.get("/v3/users", params={"enabled": "false", "name": name + "-renamed"},
                  expect=200)
    assert ids(r.json()["users"]) == [u["id"]], describe(r)

    r = cloud.post("/v3/users", json={"user": {"name": name + "-renamed"}})
    assert r.status_code == 409, describe(r)

    cloud.delete("/v3/users/%s" % u["id"], expect=204)
    cloud.get("/v3/users/%s" % u["id"], expect=404)
    cloud.delete("/v3/users/%s" % u["id"], expect=404)


def test_user_without_password_cannot_log_in(cloud):
    r = cloud.post("/v3/users", json={"user": {"name": unique("nopw")}})
    assert r.status_code == 201, describe(r)
    u = r.json()["user"]
    r = cloud.login("", user_id=u["id"])
    assert r.status_code in (400, 401), describe(r)
    r = cloud.login("anything", user_id=u["id"])
    assert r.status_code == 401, describe(r)


def test_user_same_name_other_domain(cloud):
    d = cloud.create_domain()
    u1 = cloud.create_user()
    u2 = cloud.create_user(name=u1["name"], domain_id=d["id"])
    assert u1["id"] != u2["id"]
    # name + domain picks the right one
    r = cloud.login(u2["password"], name=u2["name"], domain_id=d["id"])
    assert r.status_code == 201 and r.json()["token"]["user"]["id"] == u2["id"], describe(r)
    r = cloud.login(u2["password"], name=u2["name"], domain_id="default")
    assert r.status_code == 401, describe(r)


def test_change_own_password(cloud):
    m = cloud.member()
    u = m["user"]
    new = "changed-" + unique()
    # wrong original password
    r = cloud.post("/v3/users/%s/password" % u["id"], token=None,
                   json={"user": {"password": new, "original_password": "not-it"}})
    assert r.status_code == 401, describe(r)
    # missing original password
    r = cloud.post("/v3/users/%s/password" % u["id"], token=None, json={"user": {"password": new}})
    assert r.status_code == 400, describe(r)
    r = cloud.post("/v3/users/%s/password" % u["id"], token=m["token"],
                   json={"user": {"password": new, "original_password": u["password"]}})
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    # old password gone, new one works, existing tokens are revoked
    assert cloud.login(u["password"], user_id=u["id"]).status_code == 401
    assert cloud.login(new, user_id=u["id"]).status_code == 201
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": m["token"]})
    assert r.status_code == 404, describe(r)


def test_admin_sets_password(cloud):
    u = cloud.create_user()
    cloud.patch("/v3/users/%s" % u["id"], json={"user": {"password": "reset-by-admin"}},
                expect=200)
    assert cloud.login(u["password"], user_id=u["id"]).status_code == 401
    assert cloud.login("reset-by-admin", user_id=u["id"]).status_code == 201


def test_user_projects(cloud):
    m = cloud.member()
    r = cloud.get("/v3/users/%s/projects" % m["user"]["id"], token=m["token"], expect=200)
    assert ids(r.json()["projects"]) == [m["project"]["id"]], describe(r)


# --- groups --------------------------------------------------------------------------

def test_group_crud_and_membership(cloud):
    g = cloud.create_group(description="gd")
    assert g["domain_id"] == "default" and g["description"] == "gd", g
    check_links(cloud, g, "groups")
    r = cloud.post("/v3/groups", json={"group": {"name": g["name"], "domain_id": "default"}})
    assert r.status_code == 409, describe(r)
    r = cloud.patch("/v3/groups/%s" % g["id"], json={"group": {"description": "new"}},
                    expect=200)
    assert r.json()["group"]["description"] == "new"
    r = cloud.get("/v3/groups", params={"name": g["name"]}, expect=200)
    assert ids(r.json()["groups"]) == [g["id"]], describe(r)

    u = cloud.create_user()
    member = "/v3/groups/%s/users/%s" % (g["id"], u["id"])
    assert cloud.head(member).status_code == 404
    r = cloud.put(member)
    assert r.status_code == 204, describe(r)
    assert cloud.head(member).status_code == 204
    r = cloud.get("/v3/groups/%s/users" % g["id"], expect=200)
    assert ids(r.json()["users"]) == [u["id"]], describe(r)
    r = cloud.get("/v3/users/%s/groups" % u["id"], expect=200)
    assert ids(r.json()["groups"]) == [g["id"]], describe(r)
    cloud.delete(member, expect=204)
    assert cloud.head(member).status_code == 404
    cloud.delete(member, expect=404)
    r = cloud.get("/v3/users/%s/groups" % u["id"], expect=200)
    assert r.json()["groups"] == [], describe(r)

    # unknown user or group
    r = cloud.put("/v3/groups/%s/users/%s" % (g["id"], "0" * 32))
    assert r.status_code == 404, describe(r)
    r = cloud.put("/v3/groups/%s/users/%s" % ("0" * 32, u["id"]))
    assert r.status_code == 404, describe(r)

    cloud.put(member, expect=204)
    cloud.delete("/v3/groups/%s" % g["id"], expect=204)
    cloud.get("/v3/groups/%s" % g["id"], expect=404)
    r = cloud.get("/v3/users/%s/groups" % u["id"], expect=200)
    assert r.json()["groups"] == [], describe(r)


def test_group_role_gives_token_roles(cloud):
    g = cloud.create_group()
    u = cloud.create_user()
    p = cloud.create_project()
    cloud.put("/v3/groups/%s/users/%s" % (g["id"], u["id"]), expect=204)
    cloud.grant("member", group_id=g["id"], project_id=p["id"])
    r = cloud.login(u["password"], user_id=u["id"], scope={"project": {"id": p["id"]}})
    assert r.status_code == 201, describe(r)
    assert sorted(x["name"] for x in r.json()["token"]["roles"]) == ["member", "reader"]


def test_group_delete_revokes_members_when_it_held_roles(cloud):
    # the members' tokens die with a group that gave them roles; a group
    # without grants takes nothing from them (as Keystone)
    for granted in (False, True):
        g, u = cloud.create_group(), cloud.create_user()
        cloud.put("/v3/groups/%s/users/%s" % (g["id"], u["id"]), expect=204)
        if granted:
            cloud.grant("member", group_id=g["id"], project_id=cloud.create_project()["id"])
        tok = cloud.token(u["password"], user_id=u["id"])   # unscoped: no role needed
        cloud.delete("/v3/groups/%s" % g["id"], expect=204)
        r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
        assert r.status_code == (404 if granted else 200), describe(r)


# --- roles ----------------------------------------------------------------------------

def test_bootstrap_roles(cloud):
    r = cloud.get("/v3/roles", expect=200)
    names = {x["name"] for x in r.json()["roles"]}
    assert {"admin", "member", "reader"} <= names, describe(r)


def test_role_crud(cloud):
    role = cloud.create_role(description="first")
    assert role["description"] == "first" and role["domain_id"] is None, role
    check_links(cloud, role, "roles")
    r = cloud.get("/v3/roles/%s" % role["id"], expect=200)
    assert r.json()["role"]["name"] == role["name"]
    r = cloud.get("/v3/roles", params={"name": role["name"]}, expect=200)
    assert ids(r.json()["roles"]) == [role["id"]], describe(r)
    r = cloud.patch("/v3/roles/%s" % role["id"], json={"role": {"description": "second"}},
                    expect=200)
    assert r.json()["role"]["description"] == "second"
    r = cloud.post("/v3/roles", json={"role": {"name": role["name"]}})
    assert r.status_code == 409, describe(r)
    cloud.delete("/v3/roles/%s" % role["id"], expect=204)
    cloud.get("/v3/roles/%s" % role["id"], expect=404)


def test_role_delete_removes_assignments(cloud):
    role = cloud.create_role()
    u = cloud.create_user()
    p = cloud.create_project()
    cloud.grant(role["id"], user_id=u["id"], project_id=p["id"])
    cloud.delete("/v3/roles/%s" % role["id"], expect=204)
    r = cloud.get("/v3/role_assignments", params={"user.id": u["id"]}, expect=200)
    assert r.json()["role_assignments"] == [], describe(r)


def test_bootstrap_implied_roles(cloud):
    r = cloud.get("/v3/role_inferences", expect=200)
    rules = {(i["prior_role"]["name"], j["name"])
             for i in r.json()["role_inferences"] for j in i["implies"]}
    assert ("admin", "member") in rules and ("member", "reader") in rules, describe(r)
    # only direct rules are listed
    assert ("admin", "reader") not in rules, describe(r)


def test_implied_role_crud(cloud):
    prior, implied = cloud.create_role(), cloud.create_role()
    rule = "/v3/roles/%s/implies/%s" % (prior["id"], implied["id"])
    assert cloud.head(rule).status_code == 404
    r = cloud.put(rule)
    assert r.status_code == 201, describe(r)
    inf = r.json()["role_inference"]
    assert inf["prior_role"]["id"] == prior["id"] and inf["prior_role"]["name"] == prior["name"]
    assert inf["implies"]["id"] == implied["id"] and inf["implies"]["name"] == implied["name"]
    assert cloud.head(rule).status_code == 204
    r = cloud.get(rule, expect=200)
    assert r.json()["role_inference"]["implies"]["id"] == implied["id"]
    r = cloud.get("/v3/roles/%s/implies" % prior["id"], expect=200)
    assert [x["id"] for x in r.json()["role_inference"]["implies"]] == [implied["id"]]
    r = cloud.get("/v3/role_inferences", expect=200)
    assert any(i["prior_role"]["id"] == prior["id"] for i in r.json()["role_inferences"])

    # a token with the prior role also carries the implied one
    m = cloud.member(role=prior["id"])
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": m["token"]}, expect=200)
    assert sorted(x["id"] for x in r.json()["token"]["roles"]) == \
        sorted([prior["id"], implied["id"]]), describe(r)

    cloud.delete(rule, expect=204)
    assert cloud.head(rule).status_code == 404
    r = cloud.put("/v3/roles/%s/implies/%s" % (prior["id"], "0" * 32))
    assert r.status_code == 404, describe(r)


# --- grants and role assignments ------------------------------------------------------

@pytest.mark.parametrize("actor", ["user", "group"])
@pytest.mark.parametrize("target", ["project", "domain", "system"])
def test_grants(cloud, actor, target):
    a = cloud.create_user() if actor == "user" else cloud.create_group()
    t = cloud.create_project() if target == "project" else \
        cloud.create_domain() if target == "domain" else None
    role_id = cloud.role_id("reader")
    kw = {"%s_id" % actor: a["id"]}
    if target == "system":
        kw["system"] = True
        prefix = "/v3/system/%ss/%s/roles" % (actor, a["id"])
    else:
        kw["%s_id" % target] = t["id"]
        prefix = "/v3/%ss/%s/%ss/%s/roles" % (target, t["id"], actor, a["id"])
    grant = prefix + "/" + role_id
    assert cloud.head(grant).status_code == 404
    r = cloud.put(grant)
    assert r.status_code == 204, describe(r)
    assert cloud.head(grant).status_code == 204
    assert cloud.get(grant).status_code == 204
    r = cloud.get(prefix, expect=200)
    assert [x["id"] for x in r.json()["roles"]] == [role_id], describe(r)
    assert r.json()["roles"][0]["name"] == "reader"
    cloud.delete(grant, expect=204)
    assert cloud.head(grant).status_code == 404
    r = cloud.delete(grant)
    assert r.status_code == 404, describe(r)
    r = cloud.get(prefix, expect=200)
    assert r.json()["roles"] == [], describe(r)
    r = cloud.put(prefix + "/" + "0" * 32)
    assert r.status_code == 404, describe(r)


def test_grant_unknown_targets(cloud):
    u = cloud.create_user()
    rid = cloud.role_id("reader")
    for path in ("/v3/projects/%s/users/%s/roles/%s" % ("0" * 32, u["id"], rid),
                 "/v3/domains/%s/users/%s/roles/%s" % ("0" * 32, u["id"], rid),
                 "/v3/projects/%s/users/%s/roles/%s" % ("default-nope", "0" * 32, rid)):
        r = cloud.put(path)
        assert r.status_code == 404, describe(r)


def assignment_set(r):
    out = set()
    for a in r.json()["role_assignments"]:
        actor = ("user", a["user"]["id"]) if "user" in a else ("group", a["group"]["id"])
        scope = a["scope"]
        if "project" in scope:
            s = ("project", scope["project"]["id"])
        elif "domain" in scope:
            s = ("domain", scope["domain"]["id"])
        else:
            s = ("system", "all")
        out.add((actor, s, a["role"]["id"]))
    return out


@pytest.fixture(scope="module")
def assigned(cloud):
    """user u: admin on project p directly; member of group g which has
    reader on domain d; reader on the system."""
    u, g, p, d = cloud.create_user(), cloud.create_group(), cloud.create_project(), \
        cloud.create_domain()
    cloud.put("/v3/groups/%s/users/%s" % (g["id"], u["id"]), expect=204)
    cloud.grant("admin", user_id=u["id"], project_id=p["id"])
    cloud.grant("reader", group_id=g["id"], domain_id=d["id"])
    cloud.grant("reader", user_id=u["id"], system=True)
    return dict(u=u, g=g, p=p, d=d)


def test_role_assignments_direct(cloud, assigned):
    u, g, p, d = (assigned[k] for k in "ugpd")
    admin, reader = cloud.role_id("admin"), cloud.role_id("reader")
    r = cloud.get("/v3/role_assignments", params={"user.id": u["id"]}, expect=200)
    assert assignment_set(r) == {(("user", u["id"]), ("project", p["id"]), admin),
                                 (("user", u["id"]), ("system", "all"), reader)}, describe(r)
    for a in r.json()["role_assignments"]:
        assert a["links"]["assignment"].startswith(cloud.identity_url + "/v3/"), a
    check_list_links(cloud, r.json(), "/v3/role_assignments")

    r = cloud.get("/v3/role_assignments", params={"group.id": g["id"]}, expect=200)
    assert assignment_set(r) == {(("group", g["id"]), ("domain", d["id"]), reader)}, describe(r)

    r = cloud.get("/v3/role_assignments", params={"scope.project.id": p["id"]}, expect=200)
    assert assignment_set(r) == {(("user", u["id"]), ("project", p["id"]), admin)}, describe(r)

    r = cloud.get("/v3/role_assignments", params={"scope.domain.id": d["id"]}, expect=200)
    assert assignment_set(r) == {(("group", g["id"]), ("domain", d["id"]), reader)}, describe(r)

    r = cloud.get("/v3/role_assignments",
                  params={"user.id": u["id"], "role.id": reader}, expect=200)
    assert assignment_set(r) == {(("user", u["id"]), ("system", "all"), reader)}, describe(r)

    r = cloud.get("/v3/role_assignments", params={"scope.system": "all", "user.id": u["id"]},
                  expect=200)
    assert assignment_set(r) == {(("user", u["id"]), ("system", "all"), reader)}, describe(r)


def test_role_assignments_effective(cloud, assigned):
    u, g, p, d = (assigned[k] for k in "ugpd")
    admin, member, reader = cloud.role_id("admin"), cloud.role_id("member"), \
        cloud.role_id("reader")
    r = cloud.get("/v3/role_assignments?effective", params={"user.id": u["id"]}, expect=200)
    # groups expanded to the user, implied roles expanded. (Keystone Zed
    # leaves system assignments out of effective listings; not checked.)
    assert {a for a in assignment_set(r) if a[1][0] != "system"} == {
        (("user", u["id"]), ("project", p["id"]), admin),
        (("user", u["id"]), ("project", p["id"]), member),
        (("user", u["id"]), ("project", p["id"]), reader),
        (("user", u["id"]), ("domain", d["id"]), reader),
    }, describe(r)
    for a in r.json()["role_assignments"]:
        assert "group" not in a, a
        if "domain" in a["scope"]:
            assert a["links"]["membership"].endswith(
                "/v3/groups/%s/users/%s" % (g["id"], u["id"])), a

    r = cloud.get("/v3/role_assignments?effective",
                  params={"scope.project.id": p["id"], "role.id": reader}, expect=200)
    assert assignment_set(r) == {(("user", u["id"]), ("project", p["id"]), reader)}, describe(r)

    # effective with a group filter can only be empty: Keystone refuses it
    r = cloud.get("/v3/role_assignments?effective", params={"group.id": g["id"]})
    assert r.status_code == 400, describe(r)


def test_role_assignments_include_names(cloud, assigned):
    u, g, p, d = (assigned[k] for k in "ugpd")
    r = cloud.get("/v3/role_assignments?include_names", params={"user.id": u["id"],
                                                                "scope.project.id": p["id"]},
                  expect=200)
    (a,) = r.json()["role_assignments"]
    assert a["user"] == {"id": u["id"], "name": u["name"],
                         "domain": {"id": "default", "name": "Default"}}, a
    assert a["role"]["name"] == "admin", a
    assert a["scope"]["project"]["name"] == p["name"], a
    assert a["scope"]["project"]["domain"] == {"id": "default", "name": "Default"}, a
    r = cloud.get("/v3/role_assignments?include_names", params={"group.id": g["id"]},
                  expect=200)
    (a,) = r.json()["role_assignments"]
    assert a["group"]["name"] == g["name"], a
    assert a["scope"]["domain"]["name"] == d["name"], a


# --- regions, services, endpoints ----------------------------------------------------------

def test_regions(cloud):
    rid = unique("region")
    r = cloud.post("/v3/regions", json={"region": {"id": rid, "description": "d"}})
    assert r.status_code == 201, describe(r)
    reg = r.json()["region"]
    assert reg["id"] == rid and reg["description"] == "d" and reg["parent_region_id"] is None
    check_links(cloud, reg, "regions")
    r = cloud.post("/v3/regions", json={"region": {"id": rid}})
    assert r.status_code == 409, describe(r)
    child = unique("sub")
    r = cloud.post("/v3/regions", json={"region": {"id": child, "parent_region_id": rid}})
    assert r.status_code == 201, describe(r)
    r = cloud.post("/v3/regions", json={"region": {"id": unique("x"),
                                                   "parent_region_id": unique("nope")}})
    assert r.status_code == 404, describe(r)
    # without id: generated
    r = cloud.post("/v3/regions", json={"region": {"description": "no id"}})
    assert r.status_code == 201 and r.json()["region"]["id"], describe(r)
    r = cloud.get("/v3/regions", params={"parent_region_id": rid}, expect=200)
    assert ids(r.json()["regions"]) == [child], describe(r)
    r = cloud.patch("/v3/regions/%s" % child, json={"region": {"description": "x"}}, expect=200)
    assert r.json()["region"]["description"] == "x"
    cloud.get("/v3/regions/RegionOne", expect=200)
    cloud.delete("/v3/regions/%s" % child, expect=204)
    cloud.get("/v3/regions/%s" % child, expect=404)


def test_services_and_endpoints(cloud, ):
    stype = unique("svc")
    r = cloud.post("/v3/services", json={"service": {"type": stype, "name": "svc-name",
                                                     "description": "d"}})
    assert r.status_code == 201, describe(r)
    s = r.json()["service"]
    assert s["type"] == stype and s["name"] == "svc-name" and s["enabled"] is True, s
    check_links(cloud, s, "services")
    r = cloud.get("/v3/services", params={"type": stype}, expect=200)
    assert ids(r.json()["services"]) == [s["id"]], describe(r)
    r = cloud.get("/v3/services", params={"name": "svc-name"}, expect=200)
    assert s["id"] in ids(r.json()["services"]), describe(r)
    r = cloud.patch("/v3/services/%s" % s["id"], json={"service": {"description": "new"}},
                    expect=200)
    assert r.json()["service"]["description"] == "new"

    eps = {}
    for iface in ("public", "internal", "admin"):
        r = cloud.post("/v3/endpoints", json={"endpoint": {
            "service_id": s["id"], "interface": iface, "region_id": "RegionOne",
            "url": "http://example.com/%s/%s" % (stype, iface)}})
        assert r.status_code == 201, describe(r)
        e = r.json()["endpoint"]
        assert e["interface"] == iface and e["service_id"] == s["id"], e
        assert e["region_id"] == "RegionOne" and e["region"] == "RegionOne", e
        assert e["enabled"] is True, e
        check_links(cloud, e, "endpoints")
        eps[iface] = e

    r = cloud.get("/v3/endpoints", params={"service_id": s["id"]}, expect=200)
    assert ids(r.json()["endpoints"]) == ids(eps.values()), describe(r)
    r = cloud.get("/v3/endpoints", params={"service_id": s["id"], "interface": "internal"},
                  expect=200)
    assert ids(r.json()["endpoints"]) == [eps["internal"]["id"]], describe(r)
    r = cloud.get("/v3/endpoints", params={"region_id": "RegionOne", "interface": "public"},
                  expect=200)
    assert eps["public"]["id"] in ids(r.json()["endpoints"]), describe(r)
    assert all(e["interface"] == "public" for e in r.json()["endpoints"]), describe(r)

    r = cloud.patch("/v3/endpoints/%s" % eps["admin"]["id"],
                    json={"endpoint": {"url": "http://example.org/new"}}, expect=200)
    assert r.json()["endpoint"]["url"] == "http://example.org/new"

    # the catalog of a new token has the service with its endpoints
    m = cloud.member()
    r = cloud.get("/v3/auth/catalog", token=m["token"], expect=200)
    (entry,) = [c for c in r.json()["catalog"] if c["id"] == s["id"]]
    assert entry["type"] == stype and entry["name"] == "svc-name", entry
    assert sorted(e["interface"] for e in entry["endpoints"]) == ["admin", "internal", "public"]

    # disabled endpoints leave the catalog
    cloud.patch("/v3/endpoints/%s" % eps["internal"]["id"],
                json={"endpoint": {"enabled": False}}, expect=200)
    r = cloud.get("/v3/auth/catalog", token=m["token"], expect=200)
    (entry,) = [c for c in r.json()["catalog"] if c["id"] == s["id"]]
    assert sorted(e["interface"] for e in entry["endpoints"]) == ["admin", "public"], entry

    # bad endpoints
    for bad in ({"service_id": s["id"], "interface": "bogus", "url": "http://x"},
                {"service_id": "0" * 32, "interface": "public", "url": "http://x"},
                {"service_id": s["id"], "interface": "public", "region_id": unique("nope"),
                 "url": "http://x"},
                {"service_id": s["id"], "interface": "public"}):
        r = cloud.post("/v3/endpoints", json={"endpoint": bad})
        assert r.status_code == 400, describe(r)

    # deleting the service deletes its endpoints
    cloud.delete("/v3/services/%s" % s["id"], expect=204)
    cloud.get("/v3/services/%s" % s["id"], expect=404)
    for e in eps.values():
        cloud.get("/v3/endpoints/%s" % e["id"], expect=404)


def test_endpoint_delete(cloud):
    s = cloud.create("services", "service", {"type": unique("svc")})
    e = cloud.create("endpoints", "endpoint", {"service_id": s["id"], "interface": "public",
                                               "url": "http://example.com/"})
    cloud.delete("/v3/endpoints/%s" % e["id"], expect=204)
    cloud.get("/v3/endpoints/%s" % e["id"], expect=404)
    cloud.delete("/v3/endpoints/%s" % e["id"], expect=404)


def test_service_requires_type(cloud):
    r = cloud.post("/v3/services", json={"service": {"name": "x"}})
    assert r.status_code == 400, describe(r)


# --- application credentials ----------------------------------------------------------

def test_application_credentials(cloud):
    m = cloud.member()
    u = m["user"]
    base = "/v3/users/%s/application_credentials" % u["id"]
    name = unique("ac")
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)) \
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    r = cloud.post(base, token=m["token"], json={"application_credential": {
        "name": name, "description": "for CI", "roles": [{"name": "member"}],
        "expires_at": expires}})
    assert r.status_code == 201, describe(r)
    ac = r.json()["application_credential"]
    assert ac["name"] == name and ac["description"] == "for CI", ac
    assert ac["user_id"] == u["id"] and ac["project_id"] == m["project"]["id"], ac
    assert isinstance(ac["secret"], str) and len(ac["secret"]) >= 32, ac
    assert [x["name"] for x in ac["roles"]] == ["member"], ac
    assert ac["expires_at"].startswith(expires[:19]), ac
    assert not ac["unrestricted"], ac
    assert ac["links"]["self"] == "%s/v3/application_credentials/%s" % (
        cloud.identity_url, ac["id"]), ac

    # the secret is shown once
    r = cloud.get(base + "/" + ac["id"], token=m["token"], expect=200)
    shown = r.json()["application_credential"]
    assert "secret" not in shown and ac["secret"] not in r.text, describe(r)
    assert shown["name"] == name and [x["id"] for x in shown["roles"]] == \
        [x["id"] for x in ac["roles"]], shown
    r = cloud.get(base, token=m["token"], expect=200)
    assert ids(r.json()["application_credentials"]) == [ac["id"]], describe(r)
    assert ac["secret"] not in r.text

    # duplicate name: conflict
    r = cloud.post(base, token=m["token"], json={"application_credential": {"name": name}})
    assert r.status_code == 409, describe(r)

    # without roles: all of the token's roles; own secret; unrestricted
    r = cloud.post(base, token=m["token"], json={"application_credential": {
        "name": name + "-2", "secret": "my-own-secret", "unrestricted": True}})
    assert r.status_code == 201, describe(r)
    ac2 = r.json()["application_credential"]
    assert ac2["secret"] == "my-own-secret" and ac2["unrestricted"] is True, ac2
    assert sorted(x["name"] for x in ac2["roles"]) == ["member", "reader"], ac2
    assert ac2["expires_at"] is None, ac2

    r = cloud.get(base, token=m["token"], params={"name": name + "-2"}, expect=200)
    assert ids(r.json()["application_credentials"]) == [ac2["id"]], describe(r)

    # an unrestricted credential may create another one
    tok = cloud.authenticate({"methods": ["application_credential"],
                              "application_credential": {"id": ac2["id"],
                                                         "secret": "my-own-secret"}},
                             expect=201).headers["X-Subject-Token"]
    r = cloud.post(base, token=tok, json={"application_credential": {"name": name + "-3"}})
    assert r.status_code == 201, describe(r)

    # the admin can look at it; another user cannot
    cloud.get(base + "/" + ac["id"], expect=200)
    other = cloud.member()
    r = cloud.get(base + "/" + ac["id"], token=other["token"])
    assert r.status_code == 403, describe(r)
    # and nobody creates one for somebody else
    r = cloud.post(base, json={"application_credential": {"name": unique("ac")}})
    assert r.status_code == 403, describe(r)

    cloud.delete(base + "/" + ac["id"], token=m["token"], expect=204)
    cloud.get(base + "/" + ac["id"], token=m["token"], expect=404)
    r = cloud.authenticate({"methods": ["application_credential"],
                            "application_credential": {"id": ac["id"], "secret": ac["secret"]}})
    assert r.status_code == 404, describe(r)


def test_application_credential_bad_requests(cloud):
    m = cloud.member()
    base = "/v3/users/%s/application_credentials" % m["user"]["id"]
    # a role the user does not have
    r = cloud.post(base, token=m["token"], json={"application_credential": {
        "name": unique("ac"), "roles": [{"name": "admin"}]}})
    assert r.status_code == 400, describe(r)
    # expiry in the past
    r = cloud.post(base, token=m["token"], json={"application_credential": {
        "name": unique("ac"), "expires_at": "2001-01-01T00:00:00Z"}})
    assert r.status_code == 400, describe(r)
    # no name
    r = cloud.post(base, token=m["token"], json={"application_credential": {}})
    assert r.status_code == 400, describe(r)


def test_application_credential_cannot_request_scope(cloud):
    m = cloud.member()
    base = "/v3/users/%s/application_credentials" % m["user"]["id"]
    ac = cloud.post(base, token=m["token"], json={"application_credential": {
        "name": unique("ac")}}, expect=201).json()["application_credential"]
    r = cloud.authenticate({"methods": ["application_credential"],
                            "application_credential": {"id": ac["id"], "secret": ac["secret"]}},
                           scope={"project": {"id": m["project"]["id"]}})
    assert r.status_code == 401, describe(r)


# --- credentials ----------------------------------------------------------------------

def test_ec2_credentials(cloud):
    m = cloud.member()
    u, p = m["user"], m["project"]
    access = unique("AKIA")
    blob = json.dumps({"access": access, "secret": "s3cr3t"})
    r = cloud.post("/v3/credentials", json={"credential": {
        "type": "ec2", "user_id": u["id"], "project_id": p["id"], "blob": blob}})
    assert r.status_code == 201, describe(r)
    cr = r.json()["credential"]
    # Keystone: the id of an ec2 credential is the SHA-256 of its access key
    assert cr["id"] == hashlib.sha256(access.encode()).hexdigest(), cr
    assert cr["type"] == "ec2" and cr["user_id"] == u["id"] and cr["project_id"] == p["id"]
    assert json.loads(cr["blob"]) == {"access": access, "secret": "s3cr3t"}, cr
    check_links(cloud, cr, "credentials")

    r = cloud.post("/v3/credentials", json={"credential": {
        "type": "ec2", "user_id": u["id"], "project_id": p["id"], "blob": blob}})
    assert r.status_code == 409, describe(r)

    other = cloud.post("/v3/credentials", json={"credential": {
        "type": "totp", "user_id": u["id"], "blob": "GEZDGNBVGY3TQOJQ"}}, expect=201)
    totp = other.json()["credential"]

    r = cloud.get("/v3/credentials", params={"user_id": u["id"]}, expect=200)
    assert ids(r.json()["credentials"]) == sorted([cr["id"], totp["id"]]), describe(r)
    r = cloud.get("/v3/credentials", params={"user_id": u["id"], "type": "ec2"}, expect=200)
    assert ids(r.json()["credentials"]) == [cr["id"]], describe(r)
    # the owner sees their own credentials
    r = cloud.get("/v3/credentials", token=m["token"], expect=200)
    assert ids(r.json()["credentials"]) == sorted([cr["id"], totp["id"]]), describe(r)

    r = cloud.get("/v3/credentials/%s" % cr["id"], expect=200)
    assert json.loads(r.json()["credential"]["blob"])["secret"] == "s3cr3t"
    blob2 = json.dumps({"access": access, "secret": "rotated"})
    r = cloud.patch("/v3/credentials/%s" % cr["id"], json={"credential": {"blob": blob2}},
                    expect=200)
    assert json.loads(r.json()["credential"]["blob"])["secret"] == "rotated"

    cloud.delete("/v3/credentials/%s" % cr["id"], expect=204)
    cloud.get("/v3/credentials/%s" % cr["id"], expect=404)


@pytest.mark.parametrize("cred", [
    {"type": "ec2", "blob": json.dumps({"access": "a", "secret": "s"})},    # no project_id
    {"type": "ec2", "project_id": "P", "blob": {"access": "a", "secret": "s"}},  # blob not string
    {"type": "ec2", "project_id": "P", "blob": "not json"},
    {"project_id": "P", "blob": "x"},                                       # no type
], ids=["ec2-without-project", "blob-object", "blob-not-json", "no-type"])
def test_credential_bad_requests(cloud, cred):
    m = cloud.member()
    body = dict(cred, user_id=m["user"]["id"])
    if body.get("project_id") == "P":
        body["project_id"] = m["project"]["id"]
    r = cloud.post("/v3/credentials", json={"credential": body})
    assert r.status_code == 400, describe(r)
