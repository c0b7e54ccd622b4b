"""Fixtures for the API suite: a real onestack daemon and an HTTP helper.

Run: /usr/bin/pytest-3 tests/api   (env ONESTACK_BIN picks the binary,
ONESTACK_DATABASE_URL switches to PostgreSQL, ONESTACK_TEST_REFERENCE=keystone
runs the same suite against the real Keystone; see daemon.py).
"""

import functools
import json as jsonlib
import os
import subprocess
import sys
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import Daemon, DaemonError  # noqa: E402

REFERENCE = os.environ.get("ONESTACK_TEST_REFERENCE", "")


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def describe(r):
    """Request and response, for assertion messages."""
    req = r.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:500].decode("utf-8", "replace") + ("..." if len(req.body) > 500 else "")
    elif isinstance(body, str) and len(body) > 500:
        body = body[:500] + "..."
    text = r.text if len(r.text) <= 1500 else r.text[:1500] + "..."
    return "%s %s%s\n-> %d %s\n%s" % (
        req.method, req.url, ("\n   " + body) if body else "", r.status_code, r.reason,
        text)


class Cloud:
    """A started daemon plus helpers speaking Keystone v3 to it."""

    def __init__(self, daemon):
        self.d = daemon
        self.session = requests.Session()
        self._admin_token = None
        self._role_ids = {}

    # where ---------------------------------------------------------------
    base_url = property(lambda self: self.d.base_url)
    identity_url = property(lambda self: self.d.identity_url)
    auth_url = property(lambda self: self.d.auth_url)
    data_dir = property(lambda self: self.d.data_dir)
    admin_user = property(lambda self: self.d.admin_user)
    admin_password = property(lambda self: self.d.admin_password)
    admin_project = property(lambda self: self.d.admin_project)
    sql = property(lambda self: self.d.sql)

    def url(self, path):
        """path is relative to the identity root: '/v3/users'."""
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.identity_url + path

    # HTTP ----------------------------------------------------------------
    def request(self, method, path, token="admin", json=None, data=None, headers=None,
                params=None, expect=None, session=None):
        """token: "admin" (default) for an admin project token, None for none,
        else the token string. expect: status code(s) to assert."""
        h = {}
        if token == "admin":
            token = self.admin_token
        if token is not None:
            h["X-Auth-Token"] = token
        if json is not None:
            data = jsonlib.dumps(json)
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        r = (session or self.session).request(method, self.url(path), data=data, headers=h,
                                              params=params, allow_redirects=False, timeout=60)
        if expect is not None:
            ok = expect if isinstance(expect, (tuple, list, set)) else (expect,)
            assert r.status_code in ok, describe(r)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # tokens --------------------------------------------------------------
    @staticmethod
    def password_identity(password, user_id=None, name=None, domain_id=None, domain_name=None):
        user = {"password": password}
        if user_id:
            user["id"] = user_id
        if name:
            user["name"] = name
            if domain_name:
                user["domain"] = {"name": domain_name}
            else:
                user["domain"] = {"id": domain_id or "default"}
        return {"methods": ["password"], "password": {"user": user}}

    def authenticate(self, identity, scope=None, nocatalog=False, expect=None, session=None):
        body = {"auth": {"identity": identity}}
        if scope is not None:
            body["auth"]["scope"] = scope
        path = "/v3/auth/tokens" + ("?nocatalog" if nocatalog else "")
        return self.request("POST", path, token=None, json=body, expect=expect, session=session)

    def login(self, password, user_id=None, name=None, domain_id=None, domain_name=None,
              scope=None, nocatalog=False, expect=None, session=None):
        return self.authenticate(
            self.password_identity(password, user_id, name, domain_id, domain_name),
            scope=scope, nocatalog=nocatalog, expect=expect, session=session)

    def token(self, password, user_id=None, name=None, scope=None, **kw):
        """A token string for the user (asserts 201)."""
        r = self.login(password, user_id=user_id, name=name, scope=scope, **kw)
        assert r.status_code == 201, describe(r)
        return r.headers["X-Subject-Token"]

    @staticmethod
    def project_scope(project_id=None, name=None, domain_id="default"):
        if project_id:
            return {"project": {"id": project_id}}
        return {"project": {"name": name, "domain": {"id": domain_id}}}

    @property
    def admin_token(self):
        if self._admin_token is None:
            self._admin_token = self.token(
                self.admin_password, name=self.admin_user,
                scope=self.project_scope(name=self.admin_project))
        return self._admin_token

    # resources -----------------------------------------------------------
    def role_id(self, name):
        if name not in self._role_ids:
            r = self.get("/v3/roles", params={"name": name}, expect=200)
            roles = r.json()["roles"]
            assert len(roles) == 1, describe(r)
            self._role_ids[name] = roles[0]["id"]
        return self._role_ids[name]

    def create(self, collection, key, body, path=None):
        r = self.post(path or "/v3/" + collection, json={key: body})
        assert r.status_code == 201, describe(r)
        return r.json()[key]

    def create_domain(self, name=None, **kw):
        return self.create("domains", "domain", dict(name=name or unique("dom"), **kw))

    def create_project(self, name=None, domain_id="default", **kw):
        return self.create("projects", "project",
                           dict(name=name or unique("proj"), domain_id=domain_id, **kw))

    def create_user(self, name=None, password=None, domain_id="default", **kw):
        """Returns the user dict with the clear-text password added under 'password'."""
        password = password or unique("pw")
        user = self.create("users", "user", dict(name=name or unique("user"),
                                                 domain_id=domain_id, password=password, **kw))
        user["password"] = password
        return user

    def create_group(self, name=None, domain_id="default", **kw):
        return self.create("groups", "group", dict(name=name or unique("grp"),
                                                   domain_id=domain_id, **kw))

    def create_role(self, name=None, **kw):
        return self.create("roles", "role", dict(name=name or unique("role"), **kw))

    def grant(self, role, user_id=None, group_id=None, project_id=None, domain_id=None,
              system=False):
        role_id = self.role_id(role) if not _looks_like_id(role) else role
        self.put(grant_path(role_id, user_id, group_id, project_id, domain_id, system),
                 expect=204)

    def member(self, role="member", domain_id="default"):
        """A fresh project, user (default project set) and role on it, and a
        token scoped to it. Returns dict(user, project, token)."""
        project = self.create_project(domain_id=domain_id)
        user = self.create_user(domain_id=domain_id, default_project_id=project["id"])
        self.grant(role, user_id=user["id"], project_id=project["id"])
        tok = self.token(user["password"], user_id=user["id"],
                         scope={"project": {"id": project["id"]}})
        return {"user": user, "project": project, "token": tok}

    # clients -----------------------------------------------------------------
    def client_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["OS_CLIENT_CONFIG_FILE"] = os.path.join(self.data_dir, "clouds.yaml")
        return env

    def cli(self, *args, expect_rc=0, json_out=True):
        """Runs the openstack CLI against this cloud; returns parsed JSON
        (with -f json) or the CompletedProcess."""
        cmd = ["/usr/bin/openstack", "--os-cloud", "onestack"] + list(args)
        if json_out:
            cmd += ["-f", "json"]
        p = subprocess.run(cmd, env=self.client_env(), capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        if expect_rc is not None:
            assert p.returncode == expect_rc, "%s\nexit %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), p.returncode, p.stdout[-2000:], p.stderr[-3000:])
        if json_out and p.returncode == 0:
            return jsonlib.loads(p.stdout) if p.stdout.strip() else None
        return p


def _looks_like_id(s):
    return len(s) == 32 and all(c in "0123456789abcdef" for c in s)


def grant_path(role_id, user_id=None, group_id=None, project_id=None, domain_id=None,
               system=False):
    actor = "users/%s" % user_id if user_id else "groups/%s" % group_id
    if system:
        target = "system"
    elif project_id:
        target = "projects/%s" % project_id
    else:
        target = "domains/%s" % domain_id
    return "/v3/%s/%s/roles/%s" % (target, actor, role_id)


class CloudFactory:
    def __init__(self):
        self.started = []

    def start(self, name="onestack", env=None):
        d = Daemon(env=env, name=name)
        self.started.append(d)
        try:
            d.start()
        except DaemonError as e:
            pytest.fail(str(e), pytrace=False)
        return Cloud(d)

    def stop(self, cloud):
        """Stops one instance; returns its problems (see Daemon.stop)."""
        self.started.remove(cloud.d)
        return cloud.d.stop()

    def stop_all(self):
        problems = []
        for d in self.started:
            problems += d.stop()
        self.started = []
        return problems


@pytest.fixture(scope="session")
def cloud_factory():
    """Starts extra daemons with env overrides: cloud_factory.start(name, env).
    All are stopped (and checked) at the end of the session."""
    f = CloudFactory()
    yield f
    problems = f.stop_all()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def cloud(cloud_factory):
    """The shared default instance."""
    return cloud_factory.start("onestack")


@pytest.fixture(scope="module")
def private_cloud(cloud_factory, request):
    """A daemon of the test module's own, started with the module's
    CLOUD_ENV settings and stopped (and checked) after the module."""
    env = getattr(request.module, "CLOUD_ENV", {})
    c = cloud_factory.start(request.module.__name__, env)
    yield c
    problems = cloud_factory.stop(c)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def img(cloud):
    """Requests to the image service (/image) of the shared instance:
    img(method, path, token="admin", **kw), as Cloud.request (see
    image_helpers.py for the rest of the image tests' helpers)."""
    from image_helpers import image_call
    return functools.partial(image_call, cloud)


def pytest_report_header(config):
    target = ("REFERENCE " + REFERENCE) if REFERENCE else \
        os.environ.get("ONESTACK_BIN", "build/onestack")
    db = "PostgreSQL" if os.environ.get("ONESTACK_DATABASE_URL") else "SQLite"
    return "onestack: %s, database %s" % (target, db)
