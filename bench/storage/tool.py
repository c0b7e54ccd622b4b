#!/usr/bin/python3
"""Helpers of the storage benchmark (standard library and curl only). Commands whose result
bench.py records print one JSON object as their last line.

  tool.py token-onestack IDENTITY_V3 USER PASSWORD PROJECT   -> "TOKEN PROJECT_ID"
  tool.py token-swift AUTH_URL USER KEY                       -> "STORAGE_URL TOKEN"
  tool.py populate CONT_URL TOKEN N SIZE [THREADS]            creates obj-000000 .. (N-1)
  tool.py put URL TOKEN FILE [CONTENT_TYPE]                   timed streamed PUT (curl)
  tool.py get URL TOKEN [MD5]                                 timed GET (curl); checks md5
  tool.py image-create IMAGE_V2_URL TOKEN NAME                -> image id
  tool.py disk DIR BYTES                                      raw write (fdatasync) + read
  tool.py hash                                                MD5 / SHA-512 MB/s on one core
"""
import hashlib, http.client, json, os, subprocess, sys, threading, time, urllib.parse


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120), u.path


def token_onestack(base, user, pw, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": pw}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    c, path = conn_for(base + "/auth/tokens")
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    if r.status != 201:
        sys.exit("token: %d %s" % (r.status, data))
    print(r.getheader("X-Subject-Token"), data["token"]["project"]["id"])


def token_swift(auth_url, user, key):
    c, path = conn_for(auth_url)
    c.request("GET", path, headers={"X-Auth-User": user, "X-Auth-Key": key})
    r = c.getresponse()
    r.read()
    if r.status // 100 != 2:
        sys.exit("swift auth: %d" % r.status)
    print(r.getheader("X-Storage-Url"), r.getheader("X-Auth-Token"))


def populate(cont_url, token, n, size, threads=8):
    """PUT obj-%06d with size bytes each, threads connections in parallel (keep-alive)"""
    n, size, threads = int(n), int(size), int(threads)
    body = b"p" * size
    c, path = conn_for(cont_url)
    c.request("PUT", path, headers={"X-Auth-Token": token})
    r = c.getresponse(); r.read()
    if r.status not in (201, 202, 204):
        sys.exit("container PUT: %d" % r.status)
    errors = []

    def worker(k):
        c, path = conn_for(cont_url)
        for i in range(k, n, threads):
            c.request("PUT", "%s/obj-%06d" % (path, i), body, {"X-Auth-Token": token})
            r = c.getresponse(); r.read()
            if r.status != 201:
                errors.append(r.status)
                return
    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()
    if errors:
        sys.exit("populate: PUT failed with %s" % errors[:3])
    print("populated %d objects of %d bytes in %.1f s" % (n, size, time.time() - t0))


def curl_timed(args, nbytes):
    p = subprocess.run(["curl", "-sS", "--fail", "-H", "Expect:"] + args +
                       ["-w", "%{time_total} %{http_code} %{size_download}"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("curl rc=%d %s %s" % (p.returncode, p.stdout[-300:], p.stderr[-300:]))
    secs, code, down = p.stdout.split()[-3:]
    secs = float(secs)
    nbytes = nbytes or int(down)
    return {"bytes": nbytes, "seconds": round(secs, 3), "http_code": int(code),
            "mb_s": round(nbytes / secs / 1e6, 1)}


def put(url, token, path, ctype="application/octet-stream"):
    n = os.path.getsize(path)
    print(json.dumps(curl_timed(["-X", "PUT", "-T", path, "-o", "/dev/null", "-H",
                                 "X-Auth-Token: " + token, "-H", "Content-Type: " + ctype, url], n)))


def drop_caches():
    subprocess.run(["sync"])
    with open("/proc/sys/vm/drop_caches", "w") as fh:
        fh.write("3\n")


def get(url, token, md5=None):
    """timed GET to /dev/null, with the page cache dropped first (the bytes come from the disk,
    as the raw-disk read they are compared with); then (not timed) a second GET hashed when md5
    is given"""
    drop_caches()
    res = curl_timed(["-o", "/dev/null", "-H", "X-Auth-Token: " + token, url], 0)
    if md5:
        h = hashlib.md5()
        c, path = conn_for(url)
        c.request("GET", path, headers={"X-Auth-Token": token})
        r = c.getresponse()
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            h.update(b)
        res["md5_ok"] = h.hexdigest() == md5
        if not res["md5_ok"]:
            sys.exit("md5 mismatch: %s != %s" % (h.hexdigest(), md5))
    print(json.dumps(res))


def image_create(url, token, name):
    c, path = conn_for(url)
    c.request("POST", path + "/images", json.dumps(
        {"name": name, "disk_format": "raw", "container_format": "bare"}),
        {"X-Auth-Token": token, "Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    if r.status != 201:
        sys.exit("image create: %d %s" % (r.status, data))
    print(data["id"])


def disk(d, nbytes):
    """The directory's raw limits: dd write of nbytes with fdatasync, then (page cache dropped)
    a direct-I/O read of the same file"""
    nbytes = int(nbytes)
    f = os.path.join(d, "dd-raw.bin")
    mib = nbytes >> 20
    t0 = time.time()
    subprocess.run(["dd", "if=/dev/zero", "of=" + f, "bs=1M", "count=%d" % mib,
                    "conv=fdatasync", "status=none"], check=True)
    w = time.time() - t0
    drop_caches()
    t0 = time.time()
    subprocess.run(["dd", "if=" + f, "of=/dev/null", "bs=1M", "iflag=direct", "status=none"],
                   check=True)
    rd = time.time() - t0
    os.unlink(f)
    print(json.dumps({"bytes": nbytes, "write_s": round(w, 3), "read_s": round(rd, 3),
                      "write_mb_s": round(nbytes / w / 1e6, 1),
                      "read_mb_s": round(nbytes / rd / 1e6, 1)}))


def hash_speed():
    """What one core hashes (OpenSSL through hashlib): every upload computes MD5 (the ETag),
    images also SHA-512, so these bound a single upload stream whatever the disk does"""
    buf = os.urandom(64 << 20)
    res = {}
    for name in ("md5", "sha512"):
        best = 0.0
        for _ in range(3):
            t0 = time.process_time()
            hashlib.new(name, buf).hexdigest()
            best = max(best, len(buf) / (time.process_time() - t0) / 1e6)
        res[name + "_mb_s"] = round(best, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    cmds = {"token-onestack": token_onestack, "token-swift": token_swift,
            "populate": populate, "put": put, "get": get, "image-create": image_create,
            "disk": disk, "hash": hash_speed}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
