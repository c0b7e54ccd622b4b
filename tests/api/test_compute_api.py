"""The compute service (Nova v2.1 at /compute) with plain HTTP: version
documents, microversion negotiation, Nova's fault bodies, flavors (filters,
sorting, paging, per-microversion views, extra specs, access to private
flavors), key pairs (import, generate, x509, other users, paging) and
limits."""

import functools

import pytest

from conftest import describe, unique
from compute_helpers import compute_call


@pytest.fixture(scope="module")
def nova(cloud):
    return functools.partial(compute_call, cloud)


@pytest.fixture(scope="module")
def member(cloud):
    return cloud.member()


SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCTQKNJHTpF4RiN66hljw/eNQr6WsPesalb+6Hgi2Gg"
           "sqU6cWwjHBUgHvWZ8Ptv/6pCHpYt1mjLKqnb949Fly3GRuN+jZBTGtIP5nDkj0em1pajfTDZqE0MIH6A"
           "eJdCtZP3FnqcbLpx3YLecOvqagil2nQJwKIacsOkb9PROxd9lQ== t@x")


def ssh_md5(pub):
    import base64
    import hashlib
    d = hashlib.md5(base64.b64decode(pub.split()[1])).hexdigest()
    return ":".join(d[i:i + 2] for i in range(0, 32, 2))


def fault(r, name, code):
    body = r.json()
    assert list(body) == [name], describe(r)
    assert body[name]["code"] == code, describe(r)
    return body[name]["message"]


# ---- versions, microversions, faults ----

def test_version_documents(nova, cloud):
    r = nova("GET", "//", token=None, expect=200)
    vs = {v["id"]: v for v in r.json()["versions"]}
    assert vs["v2.1"]["status"] == "CURRENT" and vs["v2.1"]["version"] == "2.92"
    assert vs["v2.1"]["min_version"] == "2.1"
    assert vs["v2.0"]["status"] == "SUPPORTED"
    assert vs["v2.1"]["links"][0]["href"].endswith("/compute/v2.1/")
    v = nova("GET", "", token=None, expect=200).json()["version"]
    assert v["id"] == "v2.1" and v["version"] == "2.92" and v["min_version"] == "2.1"
    assert v["media-types"][0]["type"] == "application/vnd.openstack.compute+json;version=2.1"
    assert nova("GET", "//v2", token=None, expect=200).json()["version"]["id"] == "v2.0"


def test_token_required(nova):
    r = nova("GET", "/flavors", token=None, expect=401)
    assert "WWW-Authenticate" in r.headers


def test_microversion_headers(nova):
    r = nova("GET", "/flavors", expect=200)
    assert r.headers["OpenStack-API-Version"] == "compute 2.1"
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "OpenStack-API-Version" in r.headers["Vary"]
    assert "X-OpenStack-Nova-API-Version" in r.headers["Vary"]
    r = nova("GET", "/flavors", version="latest", expect=200)
    assert r.headers["OpenStack-API-Version"] == "compute 2.92"
    r = nova("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.10"}, expect=200)
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.10"
    r = nova("GET", "/flavors",
             headers={"OpenStack-API-Version": "placement 1.2, compute 2.61"}, expect=200)
    assert r.headers["OpenStack-API-Version"] == "compute 2.61"


def test_microversion_errors(nova):
    r = nova("GET", "/flavors", version="2.93", expect=406)
    assert "2.93" in fault(r, "computeFault", 406)
    r = nova("GET", "/flavors", version="2.0", expect=406)
    r = nova("GET", "/flavors", version="2.x.y", expect=400)
    assert "invalid format" in fault(r, "badRequest", 400)
    nova("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "3.0"}, expect=406)


def test_unknown_path_is_nova_fault(nova):
    r = nova("GET", "/no-such-thing", expect=404)
    fault(r, "itemNotFound", 404)


# ---- flavors ----

def test_default_flavors(nova):
    fl = nova("GET", "/flavors/detail", expect=200).json()["flavors"]
    by_name = {f["name"]: f for f in fl}
    tiny = by_name["m1.tiny"]
    assert (tiny["ram"], tiny["vcpus"], tiny["disk"]) == (512, 1, 1)
    for n in ("m1.small", "m1.medium", "m1.large", "m1.xlarge"):
        assert n in by_name
    assert tiny["swap"] == "" and tiny["OS-FLV-EXT-DATA:ephemeral"] == 0
    assert tiny["os-flavor-access:is_public"] is True
    assert tiny["OS-FLV-DISABLED:disabled"] is False and tiny["rxtx_factor"] == 1.0
    assert "description" not in tiny and "extra_specs" not in tiny
    assert {l["rel"] for l in tiny["links"]} == {"self", "bookmark"}


def create_flavor(nova, version=None, expect=200, token="admin", **kw):
    body = dict(name=unique("flv"), ram=256, vcpus=1, disk=1)
    body.update(kw)
    r = nova("POST", "/flavors", json={"flavor": body}, version=version, expect=expect,
             token=token)
    return r.json().get("flavor") if expect == 200 else r


def test_flavor_create_show_delete(nova):
    f = create_flavor(nova, id="auto", swap=512, rxtx_factor=2.5,
                      **{"OS-FLV-EXT-DATA:ephemeral": 2})
    assert len(f["id"]) == 36 and f["swap"] == 512 and f["rxtx_factor"] == 2.5
    s = nova("GET", "/flavors/" + f["id"], expect=200).json()["flavor"]
    assert s == f
    nova("DELETE", "/flavors/" + f["id"], expect=202)
    r = nova("GET", "/flavors/" + f["id"], expect=404)
    assert "could not be found" in fault(r, "itemNotFound", 404)
    nova("DELETE", "/flavors/" + f["id"], expect=404)


def test_flavor_microversion_views(nova):
    f = create_flavor(nova, version="2.55", description="small one", id=unique("id"))
    assert f["description"] == "small one" and f["swap"] == ""
    nova("POST", "/flavors/%s/os-extra_specs" % f["id"],
         json={"extra_specs": {"hw:cpu_policy": "shared"}}, expect=200)
    s = nova("GET", "/flavors/" + f["id"], version="2.61", expect=200).json()["flavor"]
    assert s["extra_specs"] == {"hw:cpu_policy": "shared"}
    s = nova("GET", "/flavors/" + f["id"], version="2.75", expect=200).json()["flavor"]
    assert s["swap"] == 0
    # basic list: id, name, links (+ description from 2.55)
    lst = nova("GET", "/flavors", version="2.55", expect=200).json()["flavors"]
    mine = [x for x in lst if x["id"] == f["id"]][0]
    assert set(mine) == {"id", "name", "links", "description"}
    # description before 2.55 is refused
    create_flavor(nova, description="x", expect=400)
    # update (2.55)
    u = nova("PUT", "/flavors/" + f["id"], version="2.55",
             json={"flavor": {"description": "new"}}, expect=200).json()["flavor"]
    assert u["description"] == "new"
    nova("PUT", "/flavors/" + f["id"], json={"flavor": {"description": "x"}}, expect=404)
    nova("PUT", "/flavors/" + f["id"], version="2.55",
         json={"flavor": {"name": "x"}}, expect=400)
    nova("DELETE", "/flavors/" + f["id"], expect=202)


def test_flavor_validation(nova):
    r = create_flavor(nova, ram=0, expect=400)
    assert "ram" in fault(r, "badRequest", 400)
    create_flavor(nova, vcpus=-1, expect=400)
    create_flavor(nova, disk="abc", expect=400)
    create_flavor(nova, name=" lead", expect=400)
    create_flavor(nova, name="", expect=400)
    create_flavor(nova, rxtx_factor=0, expect=400)
    create_flavor(nova, id="bad/id", expect=400)
    create_flavor(nova, bogus=1, expect=400)
    nova("POST", "/flavors", json={"flavor": {"name": "x", "ram": 1}}, expect=400)
    nova("POST", "/flavors", data="{not json", expect=400)
    # strings of digits are integers to Nova
    f = create_flavor(nova, ram="128", vcpus="2", disk="0")
    assert f["ram"] == 128 and f["vcpus"] == 2
    nova("DELETE", "/flavors/" + f["id"], expect=202)


def test_flavor_duplicates(nova):
    f = create_flavor(nova, id=unique("dup"))
    r = create_flavor(nova, name=f["name"], expect=409)
    assert "already exists" in fault(r, "conflictingRequest", 409)
    r = create_flavor(nova, id=f["id"], expect=409)
    assert f["id"] in fault(r, "conflictingRequest", 409)
    nova("DELETE", "/flavors/" + f["id"], expect=202)


def test_flavor_create_needs_admin(nova, member):
    r = create_flavor(nova, token=member["token"], expect=403)
    fault(r, "forbidden", 403)
    nova("DELETE", "/flavors/1", token=member["token"], expect=403)


def test_flavor_filters_sort_paging(nova):
    made = [create_flavor(nova, id=unique("pg%d" % i), ram=100000 + i, disk=500 + i)
            for i in range(3)]
    ids = [f["id"] for f in made]
    fl = nova("GET", "/flavors/detail", params={"minRam": 100001}, expect=200).json()["flavors"]
    assert sorted(f["id"] for f in fl) == sorted(ids[1:])
    fl = nova("GET", "/flavors", params={"minDisk": 502}, expect=200).json()["flavors"]
    assert [f["id"] for f in fl] == [ids[2]]
    fl = nova("GET", "/flavors/detail", params={"minRam": 100000, "sort_key": "memory_mb",
                                               "sort_dir": "desc"}, expect=200).json()
    assert [f["id"] for f in fl["flavors"]] == ids[::-1]
    # paging
    p1 = nova("GET", "/flavors", params={"minRam": 100000, "sort_key": "memory_mb",
                                         "limit": 2}, expect=200).json()
    assert [f["id"] for f in p1["flavors"]] == ids[:2]
    nxt = p1["flavors_links"][0]
    assert nxt["rel"] == "next" and "marker=" + ids[1] in nxt["href"]
    p2 = nova("GET", "/flavors", params={"minRam": 100000, "sort_key": "memory_mb",
                                         "limit": 2, "marker": ids[1]}, expect=200).json()
    assert [f["id"] for f in p2["flavors"]] == ids[2:] and "flavors_links" not in p2
    nova("GET", "/flavors", params={"marker": "nope"}, expect=400)
    nova("GET", "/flavors", params={"minRam": "x"}, expect=400)
    nova("GET", "/flavors", params={"sort_key": "bogus"}, expect=400)
    nova("GET", "/flavors", params={"sort_dir": "up"}, expect=400)
    nova("GET", "/flavors", params={"limit": "-1"}, expect=400)
    for i in ids:
        nova("DELETE", "/flavors/" + i, expect=202)


def test_extra_specs(nova, member):
    f = create_flavor(nova)
    base = "/flavors/%s/os-extra_specs" % f["id"]
    r = nova("POST", base, json={"extra_specs": {"a": "1", "hw:numa_nodes": 2}}, expect=200)
    assert r.json()["extra_specs"]["a"] == "1"
    assert nova("GET", base, expect=200).json() == {
        "extra_specs": {"a": "1", "hw:numa_nodes": "2"}}
    assert nova("GET", base + "/a", expect=200).json() == {"a": "1"}
    assert nova("PUT", base + "/a", json={"a": "2"}, expect=200).json() == {"a": "2"}
    nova("PUT", base + "/a", json={"b": "2"}, expect=400)
    nova("PUT", base + "/a", json={"a": "2", "c": "3"}, expect=400)
    nova("POST", base, json={"extra_specs": {"bad/key": "1"}}, expect=400)
    nova("POST", base, json={"extra_specs": {"k": "x" * 256}}, expect=400)
    nova("POST", base, json={"specs": {}}, expect=400)
    # members read, only admins write
    assert nova("GET", base + "/a", token=member["token"], expect=200).json() == {"a": "2"}
    nova("PUT", base + "/a", json={"a": "3"}, token=member["token"], expect=403)
    nova("DELETE", base + "/a", expect=202)
    r = nova("GET", base + "/a", expect=404)
    fault(r, "itemNotFound", 404)
    nova("DELETE", base + "/a", expect=404)
    nova("GET", "/flavors/nope/os-extra_specs", expect=404)
    nova("DELETE", "/flavors/" + f["id"], expect=202)


def test_private_flavor_access(nova, member):
    f = create_flavor(nova, **{"os-flavor-access:is_public": False})
    tok, proj = member["token"], member["project"]["id"]
    nova("GET", "/flavors/" + f["id"], token=tok, expect=404)
    ids = [x["id"] for x in nova("GET", "/flavors", token=tok, expect=200).json()["flavors"]]
    assert f["id"] not in ids
    act = "/flavors/%s/action" % f["id"]
    r = nova("POST", act, json={"addTenantAccess": {"tenant": proj}}, expect=200)
    assert r.json() == {"flavor_access": [{"flavor_id": f["id"], "tenant_id": proj}]}
    r = nova("POST", act, json={"addTenantAccess": {"tenant": proj}}, expect=409)
    fault(r, "conflictingRequest", 409)
    assert nova("GET", "/flavors/%s/os-flavor-access" % f["id"],
                expect=200).json()["flavor_access"][0]["tenant_id"] == proj
    nova("GET", "/flavors/" + f["id"], token=tok, expect=200)
    ids = [x["id"] for x in nova("GET", "/flavors", token=tok, expect=200).json()["flavors"]]
    assert f["id"] in ids
    # admin listing: is_public=false shows private flavors only, none shows all
    priv = nova("GET", "/flavors", params={"is_public": "false"}, expect=200).json()["flavors"]
    assert f["id"] in [x["id"] for x in priv] and "1" not in [x["id"] for x in priv]
    nova("GET", "/flavors", params={"is_public": "maybe"}, expect=400)
    nova("POST", act, json={"addTenantAccess": {"tenant": "x"}}, token=tok, expect=403)
    nova("POST", act, json={"removeTenantAccess": {"tenant": proj}}, expect=200)
    nova("POST", act, json={"removeTenantAccess": {"tenant": proj}}, expect=404)
    nova("GET", "/flavors/" + f["id"], token=tok, expect=404)
    nova("POST", act, json={"bogusAction": {}}, expect=400)
    nova("POST", "/flavors/1/action", json={"addTenantAccess": {"tenant": proj}}, expect=409)
    nova("GET", "/flavors/1/os-flavor-access", expect=404)
    nova("DELETE", "/flavors/" + f["id"], expect=202)


# ---- key pairs ----

def test_keypair_import(nova):
    name = unique("kp")
    r = nova("POST", "/os-keypairs", json={"keypair": {"name": name, "public_key": SSH_KEY}},
             expect=200)
    kp = r.json()["keypair"]
    assert kp["fingerprint"] == ssh_md5(SSH_KEY) and "private_key" not in kp
    assert "type" not in kp
    s = nova("GET", "/os-keypairs/" + name, version="2.2", expect=200).json()["keypair"]
    assert s["type"] == "ssh" and s["public_key"] == SSH_KEY and s["deleted"] is False
    assert isinstance(s["id"], int) and s["user_id"]
    lst = nova("GET", "/os-keypairs", expect=200).json()["keypairs"]
    assert name in [k["keypair"]["name"] for k in lst]
    r = nova("POST", "/os-keypairs", json={"keypair": {"name": name, "public_key": SSH_KEY}},
             expect=409)
    fault(r, "conflictingRequest", 409)
    nova("DELETE", "/os-keypairs/" + name, expect=202)
    r = nova("GET", "/os-keypairs/" + name, expect=404)
    fault(r, "itemNotFound", 404)
    nova("DELETE", "/os-keypairs/" + name, version="2.2", expect=404)


def test_keypair_generate(nova):
    name = unique("gen")
    r = nova("POST", "/os-keypairs", version="2.2", json={"keypair": {"name": name}},
             expect=201)
    kp = r.json()["keypair"]
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert kp["public_key"].startswith("ssh-rsa ")
    assert kp["fingerprint"] == ssh_md5(kp["public_key"]) and kp["type"] == "ssh"
    s = nova("GET", "/os-keypairs/" + name, expect=200).json()["keypair"]
    assert "private_key" not in s
    nova("DELETE", "/os-keypairs/" + name, version="2.2", expect=204)
    # generation is gone at 2.92, where '@' and '.' become legal
    nova("POST", "/os-keypairs", version="2.92", json={"keypair": {"name": name}}, expect=400)
    n2 = unique("a.b@c")
    nova("POST", "/os-keypairs", version="2.92",
         json={"keypair": {"name": n2, "public_key": SSH_KEY}}, expect=201)
    nova("DELETE", "/os-keypairs/" + n2, version="2.92", expect=204)


def test_keypair_validation(nova):
    for name in ("", "x" * 256, "bad/name", "a.b"):
        nova("POST", "/os-keypairs", json={"keypair": {"name": name, "public_key": SSH_KEY}},
             expect=400)
    r = nova("POST", "/os-keypairs",
             json={"keypair": {"name": unique("k"), "public_key": "ssh-rsa notbase64!"}},
             expect=400)
    assert "fingerprint" in fault(r, "badRequest", 400)
    nova("POST", "/os-keypairs", json={"keypair": {"name": unique("k"), "type": "ssh"}},
         expect=400)
    nova("POST", "/os-keypairs", version="2.2",
         json={"keypair": {"name": unique("k"), "type": "pgp"}}, expect=400)
    nova("POST", "/os-keypairs", json={"kp": {}}, expect=400)


def test_keypair_x509(nova):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    d = cert.fingerprint(hashes.SHA1()).hex()
    want = ":".join(d[i:i + 2] for i in range(0, len(d), 2))
    name = unique("x509")
    kp = nova("POST", "/os-keypairs", version="2.2",
              json={"keypair": {"name": name, "type": "x509", "public_key": pem}},
              expect=201).json()["keypair"]
    assert kp["type"] == "x509" and kp["fingerprint"] == want
    nova("POST", "/os-keypairs", version="2.2",
         json={"keypair": {"name": unique("x"), "type": "x509", "public_key": SSH_KEY}},
         expect=400)
    nova("DELETE", "/os-keypairs/" + name, version="2.2", expect=204)


def test_keypair_other_user_and_paging(nova, member, cloud):
    uid = member["user"]["id"]
    names = sorted(unique("pk%d" % i) for i in range(3))
    for n in names:
        nova("POST", "/os-keypairs", version="2.10",
             json={"keypair": {"name": n, "public_key": SSH_KEY, "user_id": uid}}, expect=201)
    # the member sees its own, and may not act for others
    mine = nova("GET", "/os-keypairs", token=member["token"], expect=200).json()["keypairs"]
    assert [k["keypair"]["name"] for k in mine] == names
    nova("GET", "/os-keypairs", version="2.10", params={"user_id": "someone"},
         token=member["token"], expect=403)
    nova("POST", "/os-keypairs", version="2.10", token=member["token"],
         json={"keypair": {"name": "z", "public_key": SSH_KEY, "user_id": "other"}},
         expect=403)
    p = nova("GET", "/os-keypairs", version="2.35", params={"user_id": uid, "limit": 2},
             expect=200).json()
    assert [k["keypair"]["name"] for k in p["keypairs"]] == names[:2]
    assert "marker=" + names[1] in p["keypairs_links"][0]["href"]
    p = nova("GET", "/os-keypairs", version="2.35",
             params={"user_id": uid, "limit": 2, "marker": names[1]}, expect=200).json()
    assert [k["keypair"]["name"] for k in p["keypairs"]] == names[2:]
    nova("GET", "/os-keypairs", version="2.35", params={"marker": "nope"}, expect=400)
    s = nova("GET", "/os-keypairs/" + names[0], version="2.10", params={"user_id": uid},
             expect=200).json()["keypair"]
    assert s["user_id"] == uid
    for n in names:
        nova("DELETE", "/os-keypairs/" + n, token=member["token"], expect=202)


def test_keypair_quota(nova, cloud):
    m = cloud.member()
    for i in range(100):
        nova("POST", "/os-keypairs", token=m["token"],
             json={"keypair": {"name": "q%03d" % i, "public_key": SSH_KEY}}, expect=200)
    r = nova("POST", "/os-keypairs", token=m["token"],
             json={"keypair": {"name": "q100", "public_key": SSH_KEY}}, expect=403)
    assert "Quota exceeded" in fault(r, "forbidden", 403)


# ---- limits, zones ----

def test_limits(nova, member):
    ab = nova("GET", "/limits", token=member["token"], expect=200).json()["limits"]["absolute"]
    assert ab["maxTotalCores"] == 20 and ab["maxTotalInstances"] == 10
    assert ab["maxTotalRAMSize"] == 51200 and ab["maxTotalKeypairs"] == 100
    assert ab["maxPersonality"] == 5 and ab["totalCoresUsed"] == 0
    assert ab["maxSecurityGroups"] == 10
    ab = nova("GET", "/limits", version="2.57", expect=200).json()["limits"]["absolute"]
    assert "maxPersonality" not in ab and "maxSecurityGroups" not in ab
    assert "maxImageMeta" not in ab and ab["maxServerMeta"] == 128


def test_availability_zones(nova, member):
    z = nova("GET", "/os-availability-zone", token=member["token"], expect=200).json()
    assert z["availabilityZoneInfo"] == [
        {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    nova("GET", "/os-availability-zone/detail", expect=200)
    nova("GET", "/os-availability-zone/detail", token=member["token"], expect=403)


def test_keypair_concurrent_creates(nova, cloud):
    """Parallel imports by one user: every one succeeds with its own id;
    one name taken twice at once yields one success and one 409."""
    from concurrent.futures import ThreadPoolExecutor
    m = cloud.member()
    names = ["c%02d" % i for i in range(12)] + ["same", "same"]

    def create(n):
        return nova("POST", "/os-keypairs", token=m["token"], version="2.2",
                    json={"keypair": {"name": n, "public_key": SSH_KEY}}).status_code

    with ThreadPoolExecutor(max_workers=6) as ex:
        codes = list(ex.map(create, names))
    assert codes[:12] == [201] * 12 and sorted(codes[12:]) == [201, 409]
    ids = {nova("GET", "/os-keypairs/" + n, token=m["token"], expect=200).json()["keypair"]["id"]
           for n in names[:13]}
    assert len(ids) == 13
