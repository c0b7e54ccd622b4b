/* api_secgroups.c - Nova's security group routes: /os-security-groups and
 * /os-security-group-rules (gone from microversion 2.36, as in Nova: 404
 * after it), a server's groups, and the addSecurityGroup /
 * removeSecurityGroup actions. The groups are Neutron's; the network
 * service renders them the Nova way (src/network/nova_secgroups.c). */
#include "compute_int.h"
#include "srv_db.h"
#include "network/network.h"

#include <string.h>

#define POLICY "os_compute_api:os-security-groups"

/* The proxy APIs exist up to 2.35 and need a passing policy. */
static int
proxy_ok(struct http_req *req, const char *rule)
{
    if (cmp__mv(req, 2, 36))
        return req_fail(req, 404, "The resource could not be found.");
    return cmp__policy(req, rule, NULL, req->auth.project_id);
}

/* proxy_ok, and the body parsed as req->json (a reference of its own:
 * the server drops req->json when the request ends, the arena cmp__body's). */
static int
proxy_body_ok(struct http_req *req, const char *rule)
{
    json_t *b;
    if (proxy_ok(req, rule) < 0 || !(b = cmp__body(req)))
        return -1;
    req->json = json_incref(b);
    return 0;
}

int
cmp__sgs_list(struct http_req *req)
{
    return proxy_ok(req, POLICY ":get") < 0 ? -1 : net_nova_groups_list(req);
}

int
cmp__sg_create(struct http_req *req)
{
    return proxy_body_ok(req, POLICY ":create") < 0 ? -1 : net_nova_group_create(req);
}

int
cmp__sg_show(struct http_req *req)
{
    return proxy_ok(req, POLICY ":show") < 0 ? -1 : net_nova_group_show(req);
}

int
cmp__sg_update(struct http_req *req)
{
    return proxy_body_ok(req, POLICY ":update") < 0 ? -1 : net_nova_group_update(req);
}

int
cmp__sg_delete(struct http_req *req)
{
    /* DELETE of the collection (no id): Nova's 404, not a 405 */
    if (!http_param(req, "group_id"))
        return req_fail(req, 404, "The resource could not be found.");
    return proxy_ok(req, POLICY ":delete") < 0 ? -1 : net_nova_group_delete(req);
}

int
cmp__sg_rule_create(struct http_req *req)
{
    return proxy_body_ok(req, POLICY ":rule:create") < 0 ? -1 : net_nova_rule_create(req);
}

int
cmp__sg_rule_delete(struct http_req *req)
{
    return proxy_ok(req, POLICY ":rule:delete") < 0 ? -1 : net_nova_rule_delete(req);
}

int
cmp__server_sgs(struct http_req *req)
{
    struct cmp_server s;
    if (cmp__server_find(req, &s) < 0 ||
        cmp__policy(req, POLICY ":list", NULL, s.project_id) < 0)
        return -1;
    return net_nova_server_groups(req, s.id);
}

int
cmp__server_sg_action(struct http_req *req, const struct cmp_server *s, json_t *arg, bool add)
{
    if (cmp__policy(req, add ? POLICY ":add" : POLICY ":remove", NULL, s->project_id) < 0)
        return -1;
    return net_nova_server_group_action(req, s->id, arg, add);
}
