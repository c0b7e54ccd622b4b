"""What the object storage tests (test_object*.py) share: swiftclient connections for
fresh test users, raw requests with a token, and containers with fresh names."""

import pytest
import requests
import swiftclient.client as sc
from swiftclient.exceptions import ClientException

from conftest import unique


def connect(cloud, user, password, project):
    """A swiftclient connection as user, through Keystone v3 in the Default domain."""
    return sc.Connection(
        authurl=cloud.auth_url, user=user, key=password, auth_version="3",
        os_options={"project_name": project, "user_domain_name": "Default",
                    "project_domain_name": "Default"})


def member(cloud, role="member"):
    """A user with role on a fresh project (cloud.member()), plus conn (swiftclient as
    them), url (their account's storage URL) and account ("AUTH_<project id>")."""
    m = cloud.member(role=role)
    m["conn"] = connect(cloud, m["user"]["name"], m["user"]["password"], m["project"]["name"])
    m["url"] = m["conn"].get_auth()[0]
    m["account"] = "AUTH_" + m["project"]["id"]
    return m


def status_of(fn, *a, **kw):
    """The HTTP status of the ClientException fn(*a, **kw) must raise."""
    with pytest.raises(ClientException) as e:
        fn(*a, **kw)
    return e.value.http_status


def req(method, url, token=None, timeout=60, **kw):
    """A raw request, with X-Auth-Token when token is given."""
    h = kw.pop("headers", {})
    if token:
        h["X-Auth-Token"] = token
    return requests.request(method, url, headers=h, timeout=timeout, **kw)


def container(m, prefix="c", **headers):
    """A new container of m's account, made with headers; its name."""
    name = unique(prefix)
    m["conn"].put_container(name, headers=headers)
    return name


def stored_versions(cloud, cont):
    """The file names the rows of container cont name ("rows") and those
    of them kept inline in obj_inline ("inline")."""
    rows = cloud.sql("SELECT o.file, i.file FROM obj_object o JOIN obj_container c "
                     "ON c.id = o.container_id LEFT JOIN obj_inline i ON i.file = o.file "
                     "WHERE c.name = '%s'" % cont)
    return {"rows": [r[0] for r in rows], "inline": [r[1] for r in rows if r[1]]}


def inline_orphans(cloud):
    """How many rows of obj_inline (a small object's bytes) no object row
    names: each must go in the transaction that removes or replaces its
    object."""
    return int(cloud.sql("SELECT COUNT(*) FROM obj_inline i WHERE NOT EXISTS "
                         "(SELECT 1 FROM obj_object o WHERE o.file = i.file)")[0][0])

