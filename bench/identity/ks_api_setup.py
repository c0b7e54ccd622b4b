#!/usr/bin/python3
"""Create the benchmark's project and user on any Keystone v3 API and print the tokens the
workloads need, as shell assignments (run.sh evals them).

  ks_api_setup.py BASE_URL ADMIN_PASSWORD USER PASSWORD PROJECT
      BASE_URL is the v3 root: http://127.0.0.1:5000/v3 or http://127.0.0.1:P/identity/v3

Uses only standard Keystone v3 calls (the same on both servers): POST /auth/tokens as
admin/admin, POST /projects, POST /users (or PATCH the password of an existing user whose
password differs), GET /roles?name=member, PUT the role
assignment. Then checks each workload once (password issue, token issue, validation).
Idempotent. Standard library only."""
import json, sys, time, urllib.error, urllib.request

base, admin_pw, user, pw, project = sys.argv[1:6]
base = base.rstrip("/")


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    """-> (status, headers, parsed body or None); raises on a status not in ok"""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    parsed = json.loads(raw) if raw.strip() else None
    if status not in ok:
        raise SystemExit(f"{method} {base}{path} -> {status}: {raw[:400]!r}")
    return status, hdrs, parsed


def password_auth(name, password, domain, scope):
    ident = {"methods": ["password"], "password": {"user": {
        "name": name, "domain": domain, "password": password}}}
    body = {"auth": {"identity": ident}}
    if scope:
        body["auth"]["scope"] = scope
    _, h, b = call("POST", "/auth/tokens", body, ok=(201,))
    return h["X-Subject-Token"], b


# admin, project-scoped; the default domain by id as Keystone has it, else by name
try:
    admin_tok, _ = password_auth("admin", admin_pw, {"id": "default"},
                                 {"project": {"name": "admin", "domain": {"id": "default"}}})
except SystemExit as e:
    print(f"note: admin auth with domain id 'default' failed ({e}); trying name 'Default'",
          file=sys.stderr)
    admin_tok, _ = password_auth("admin", admin_pw, {"name": "Default"},
                                 {"project": {"name": "admin", "domain": {"name": "Default"}}})
_, _, b = call("GET", "/domains?name=Default", token=admin_tok)
dom = b["domains"][0]["id"]

_, _, b = call("GET", f"/projects?name={project}&domain_id={dom}", token=admin_tok)
if b["projects"]:
    proj = b["projects"][0]["id"]
else:
    _, _, b = call("POST", "/projects", {"project": {"name": project, "domain_id": dom,
                                                     "description": "benchmark"}},
                   token=admin_tok)
    proj = b["project"]["id"]

_, _, b = call("GET", f"/users?name={user}&domain_id={dom}", token=admin_tok)
if b["users"]:
    uid = b["users"][0]["id"]
    try:
        password_auth(user, pw, {"id": dom}, None)
    except SystemExit:
        # another password from an earlier setup: set it. Keystone revokes the user's tokens
        # issued up to this second, so wait a moment before issuing the new ones.
        call("PATCH", f"/users/{uid}", {"user": {"password": pw}}, token=admin_tok)
        time.sleep(1.5)
else:
    _, _, b = call("POST", "/users", {"user": {"name": user, "domain_id": dom, "password": pw,
                                               "enabled": True}}, token=admin_tok)
    uid = b["user"]["id"]

_, _, b = call("GET", "/roles?name=member", token=admin_tok)
role = b["roles"][0]["id"]
call("PUT", f"/projects/{proj}/users/{uid}/roles/{role}", token=admin_tok, ok=(200, 201, 204))

# the workloads, once each
scope = {"project": {"id": proj}}
subj_tok, b = password_auth(user, pw, {"id": dom}, scope)
assert b["token"]["project"]["id"] == proj, b
try:
    src_tok, _ = password_auth(user, pw, {"id": dom}, None)
    src_kind = "unscoped"
except SystemExit as e:
    print(f"note: unscoped token refused ({e}); token method will re-scope a project token",
          file=sys.stderr)
    src_tok, src_kind = subj_tok, "project-scoped"
_, h, b = call("POST", "/auth/tokens", {"auth": {"identity": {"methods": ["token"],
               "token": {"id": src_tok}}, "scope": scope}}, ok=(201,))
assert b["token"]["project"]["id"] == proj, b
req = urllib.request.Request(base + "/auth/tokens", method="GET",
                             headers={"X-Auth-Token": admin_tok, "X-Subject-Token": subj_tok})
with urllib.request.urlopen(req, timeout=60) as r:
    b = json.loads(r.read())
    assert r.status == 200 and b["token"]["user"]["id"] == uid, b

for k, v in (("DOMAIN_ID", dom), ("PROJECT_ID", proj), ("USER_ID", uid), ("ROLE_ID", role),
             ("ADMIN_TOKEN", admin_tok), ("SUBJECT_TOKEN", subj_tok),
             ("SOURCE_TOKEN", src_tok), ("SOURCE_KIND", src_kind)):
    print(f"{k}='{v}'")
