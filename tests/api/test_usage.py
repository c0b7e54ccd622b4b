"""os-simple-tenant-usage (fake virt driver): hours in a window per
project, deleted servers counted over their life, paging from 2.40,
Nova's date formats and errors, and who may see what; answers checked
against Tempest's schemas."""

import datetime
import functools
import time

import pytest

from compute_helpers import compute_call
from test_servers import active, boot, check, flavors, image, unlimited, upload, wait_gone  # noqa: F401

FMT = "%Y-%m-%dT%H:%M:%S.%f"


@pytest.fixture(scope="module")
def cl(cloud_factory):
    return cloud_factory.start("usage")


@pytest.fixture(scope="module")
def nova(cl):
    n = functools.partial(compute_call, cl)
    unlimited(n, cl)
    return n


def when(delta_s=0):
    return (datetime.datetime.utcnow() + datetime.timedelta(seconds=delta_s)).strftime(FMT)


@pytest.fixture(scope="module")
def servers(nova, cl, image, flavors):
    """Two live servers and one deleted, all in the admin project."""
    live = [active(nova, image, flavors[0])["id"] for _ in range(2)]
    gone = active(nova, image, flavors[1])["id"]
    time.sleep(0.2)
    nova("DELETE", "/servers/" + gone, expect=204)
    wait_gone(nova, gone)
    pid = cl.sql("SELECT id FROM project WHERE name = 'admin'")[0][0]
    return {"live": live, "gone": gone, "project": pid}


def test_index_and_show_count_hours(nova, servers):
    q = "?start=%s&end=%s" % (when(-3600), when(60))
    r = nova("GET", "/os-simple-tenant-usage" + q + "&detailed=1", expect=200)
    check(r, "v2_1.tenant_usages", "list_tenant_usage")
    mine = [t for t in r.json()["tenant_usages"] if t["tenant_id"] == servers["project"]]
    assert len(mine) == 1
    u = mine[0]
    ids = {s["instance_id"]: s for s in u["server_usages"]}
    assert set(servers["live"]) | {servers["gone"]} <= set(ids)
    g = ids[servers["gone"]]
    assert g["state"] == "terminated" and g["ended_at"] is not None
    assert ids[servers["live"][0]]["state"] == "active" and ids[servers["live"][0]]["ended_at"] is None
    assert g["memory_mb"] == 128 and g["local_gb"] == 2 and g["vcpus"] == 1
    assert u["total_hours"] == pytest.approx(sum(s["hours"] for s in u["server_usages"]))
    assert u["total_memory_mb_usage"] == pytest.approx(
        sum(s["hours"] * s["memory_mb"] for s in u["server_usages"]))
    assert all(0 < s["hours"] < 0.1 for s in u["server_usages"])
    # not detailed: totals only
    r = nova("GET", "/os-simple-tenant-usage" + q, expect=200)
    assert "server_usages" not in r.json()["tenant_usages"][0]
    r = nova("GET", "/os-simple-tenant-usage/%s%s" % (servers["project"], q), expect=200)
    check(r, "v2_1.tenant_usages", "get_tenant_usage")
    assert {s["instance_id"] for s in r.json()["tenant_usage"]["server_usages"]} == set(ids)


def test_window_before_launch_is_empty(nova, servers):
    q = "?start=%s&end=%s" % (when(-7200), when(-3600))
    r = nova("GET", "/os-simple-tenant-usage/%s%s" % (servers["project"], q), expect=200)
    assert r.json()["tenant_usage"] == {}
    r = nova("GET", "/os-simple-tenant-usage" + q, expect=200)
    assert r.json()["tenant_usages"] == []


def test_paging_from_2_40(nova, servers):
    q = "?start=%s&end=%s&detailed=1" % (when(-3600), when(60))
    r = nova("GET", "/os-simple-tenant-usage%s&limit=1" % q, version="2.40", expect=200)
    b = r.json()
    assert sum(len(t["server_usages"]) for t in b["tenant_usages"]) == 1
    nxt = b["tenant_usages_links"][0]
    assert nxt["rel"] == "next" and "marker=" in nxt["href"]
    marker = nxt["href"].split("marker=")[1]
    r = nova("GET", "/os-simple-tenant-usage%s&limit=1&marker=%s" % (q, marker), version="2.40",
             expect=200)
    ids = [s["instance_id"] for t in r.json()["tenant_usages"] for s in t["server_usages"]]
    assert ids and ids[0] != marker
    nova("GET", "/os-simple-tenant-usage%s&marker=nope" % q, version="2.40", expect=400)
    # before 2.40 limit is ignored: everything, no links
    r = nova("GET", "/os-simple-tenant-usage%s&limit=1" % q, expect=200)
    assert "tenant_usages_links" not in r.json()
    assert sum(len(t["server_usages"]) for t in r.json()["tenant_usages"]) >= 3


@pytest.mark.parametrize("start", ["2026-11-22", "yesterday", "2026-11-22T10:00:00Z",
                                   "2026-11-22 10:00:00", "2026-11-22T10:00:00.1234567"])
def test_bad_dates(nova, start):
    r = nova("GET", "/os-simple-tenant-usage?start=" + start, expect=400)
    assert "Datetime is in invalid format" in r.json()["badRequest"]["message"]


def test_empty_project_id_is_not_found(nova):
    nova("GET", "/os-simple-tenant-usage/?start=%s" % when(-60), expect=404)


def test_start_after_end(nova):
    r = nova("GET", "/os-simple-tenant-usage?start=%s&end=%s" % (when(), when(-60)), expect=400)
    assert "start time cannot occur after the end time" in r.json()["badRequest"]["message"]


def test_accepted_date_forms(nova):
    for start in ("2020-01-02T03:04:05", "2020-01-02T03:04:05.678",
                  "2020-01-02 03:04:05.678901"):
        nova("GET", "/os-simple-tenant-usage?start=" + start, expect=200)


def test_policy(nova, cl, servers):
    m = cl.member()
    nova("GET", "/os-simple-tenant-usage", token=m["token"], expect=403)
    nova("GET", "/os-simple-tenant-usage/" + servers["project"], token=m["token"], expect=403)
    r = nova("GET", "/os-simple-tenant-usage/" + m["project"]["id"], token=m["token"], expect=200)
    assert r.json()["tenant_usage"] == {}
