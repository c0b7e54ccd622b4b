/* api_interfaces.c - Nova's os-interface: a server's network interfaces
 * (its Neutron ports), and attaching or detaching one while it exists.
 * The port is made or taken over and bound to the server's host here;
 * the host agent plugs it into a running guest over QMP (device_add of a
 * virtio NIC on its tap) and unplugs it when it goes (qemu.c). */
#include "compute_int.h"
#include "hostapi.h"
#include "srv_db.h"
#include "network/network.h"

#include <errno.h>
#include <string.h>

#define POLICY "os_compute_api:os-attach-interfaces"

static int
find(struct http_req *req, struct cmp_server *s, const char *action)
{
    if (cmp__server_find(req, s) < 0 || !cmp__db(req))
        return -1;
    return cmp__policy(req, action, NULL, s->project_id);
}

int
cmp__ifaces_list(struct http_req *req)
{
    struct cmp_server s;
    if (find(req, &s, POLICY ":list") < 0)
        return -1;
    json_t *l = net_server_interfaces(req->db, req->arena, s.id, NULL);
    if (!l)
        return cmp__db_fail(req, DB_ERR);
    return http_reply_json(req, 200, json_pack("{s:o}", "interfaceAttachments", l));
}

static int
reply_one(struct http_req *req, const struct cmp_server *s, const char *port, int status)
{
    json_t *l = net_server_interfaces(req->db, req->arena, s->id, port);
    if (!l)
        return cmp__db_fail(req, DB_ERR);
    json_t *v = json_incref(json_array_get(l, 0));
    json_decref(l);
    if (!v)
        return req_fail(req, 404, "Instance %s has no interface with port %s.", s->id, port);
    return http_reply_json(req, status, json_pack("{s:o}", "interfaceAttachment", v));
}

int
cmp__iface_show(struct http_req *req)
{
    struct cmp_server s;
    if (find(req, &s, POLICY ":show") < 0)
        return -1;
    return reply_one(req, &s, http_param(req, "port_id"), 200);
}

/* Nova attaches and detaches in these states only. */
static int
state_ok(struct http_req *req, const struct cmp_server *s, const char *what)
{
    static const char *const ok[] = {"active", "paused", "stopped", "suspended", NULL};
    bool fine = !s->task_state;
    bool vm = false;
    for (int i = 0; ok[i]; i++)
        vm |= !strcmp(ok[i], s->vm_state);
    if (vm && fine)
        return 0;
    return req_fail(req, 409, "Cannot '%s' instance %s while it is in %s %s", what, s->id,
                    vm ? "task_state" : "vm_state", vm ? s->task_state : s->vm_state);
}

int
cmp__iface_attach(struct http_req *req)
{
    struct cmp_server s;
    json_t *b = cmp__body(req);
    if (!b || find(req, &s, POLICY ":create") < 0 || state_ok(req, &s, "attach_interface") < 0)
        return -1;
    json_t *att = json_object_get(b, "interfaceAttachment");
    if (att && !json_is_object(att))
        return cmp__invalid(req, "interfaceAttachment", att, "is not of type 'object'");
    static const char *const keys[] = {"net_id", "port_id"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(att, keys[k]);
        if (v && !json_is_string(v))
            return cmp__invalid(req, keys[k], v, "is not of type 'string'");
    }
    json_t *fips = json_object_get(att, "fixed_ips");
    if (fips && (!json_is_array(fips) || json_array_size(fips) != 1 ||
                 !json_is_string(json_object_get(json_array_get(fips, 0), "ip_address"))))
        return cmp__invalid(req, "fixed_ips", fips, "is not a list of one {\"ip_address\"}");
    struct net_server_req q = {.project = s.project_id, .server = s.id,
                               .admin = cmp__admin(req)};
    char port[37], why[320];
    int st = net_server_attach(req->db, req->arena, &q, att ? att : b, s.host, port, why,
                               sizeof(why));
    if (st)
        return req_fail(req, st, "%s", why);
    cmp__action(req, s.id, "attach_interface");
    hostapi_kick();
    return reply_one(req, &s, port, 200);
}

int
cmp__iface_detach(struct http_req *req)
{
    struct cmp_server s;
    if (find(req, &s, POLICY ":delete") < 0 || state_ok(req, &s, "detach_interface") < 0)
        return -1;
    const char *port = http_param(req, "port_id");
    int rc = net_server_detach(req->db, req->arena, s.id, port);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Port %s is not attached", port);
    if (rc)
        return cmp__db_fail(req, rc);
    cmp__action(req, s.id, "detach_interface");
    hostapi_kick();
    return http_reply_empty(req, 202);
}
