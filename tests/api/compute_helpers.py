"""Helpers of the compute API tests: requests to /compute/v2.1 with a
microversion."""


def compute_call(cloud, method, path, version=None, headers=None, **kw):
    """cloud.request against the compute service: path below /compute/v2.1
    ('/flavors'), or from the service root when it starts with '//'
    ('//' is '/compute/'). version: "2.55" etc. sent as
    OpenStack-API-Version."""
    root = cloud.base_url + "/compute"
    url = root + path[1:] if path.startswith("//") else root + "/v2.1" + path
    h = dict(headers or {})
    if version:
        h["OpenStack-API-Version"] = "compute " + version
    return cloud.request(method, url, headers=h, **kw)
