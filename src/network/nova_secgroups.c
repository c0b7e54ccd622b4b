/* nova_secgroups.c - Nova's security group API (os-security-groups,
 * os-security-group-rules, a server's groups, addSecurityGroup and
 * removeSecurityGroup; microversions up to 2.35) over Neutron's groups.
 *
 * Real Nova proxies these to Neutron's REST API and translates the answer;
 * this does the same in-process: it calls the Neutron handler of
 * api_secgroups.c on the same request with a Neutron body, takes its JSON
 * answer or fault back, and answers in Nova's shapes and status codes (a
 * group in use is Nova's 400, not Neutron's 409). So both APIs share one
 * set of rules, one validation and one default group. */
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*handler_fn)(struct http_req *);

/* Calls Neutron's fn on req (net__call); a Neutron fault becomes Nova's
 * (409 is 400 there) and -1 is returned. */
static int
neutron(struct http_req *req, handler_fn fn, const char *pname, const char *pval, json_t *body,
        json_t **out)
{
    if (net__call(req, fn, pname, pval, body, out) == 0)
        return 0;
    int st = req->fail_status == 409 ? 400 : req->fail_status;
    const char *m = req->fail_msg ? req->fail_msg : "", *sep = strchr(m, '\x1f');
    m = sep ? sep + 1 : m;
    req->fail_status = 0;
    req->fail_msg = NULL;
    return req_fail(req, st, "%s", m);
}

/* The network service's database failed: Nova's 500. */
static int
db_fail(struct http_req *req, int rc)
{
    return req_fail(req, 500, "The network service's database failed (%d).", rc);
}

/* A string member of o, "" when absent or not a string. */
static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- views ---- */

/* Nova shows a group's ingress rules only (it has no egress). */
static json_t *
rule_view(struct http_req *req, json_t *r)
{
    if (strcmp(jstr(r, "direction"), "ingress"))
        return NULL;
    json_t *v = json_pack("{s:O,s:O,s:O,s:O,s:O,s:{},s:{}}", "id", json_object_get(r, "id"),
                          "parent_group_id", json_object_get(r, "security_group_id"),
                          "ip_protocol", json_object_get(r, "protocol"), "from_port",
                          json_object_get(r, "port_range_min"), "to_port",
                          json_object_get(r, "port_range_max"), "ip_range", "group");
    const char *remote = json_string_value(json_object_get(r, "remote_group_id"));
    if (remote) {
        struct db_res *g;
        if (db_exec(req->db, req->arena, &g, "SELECT name, project_id FROM net_sg WHERE id = ?",
                    "s", remote) == DB_OK && g->nrows)
            json_object_set_new(v, "group", json_pack("{s:s,s:s}", "name", db_val(g, 0, 0),
                                                      "tenant_id", db_val(g, 0, 1)));
    } else {
        const char *cidr = json_string_value(json_object_get(r, "remote_ip_prefix"));
        bool v6 = !strcmp(jstr(r, "ethertype"), "IPv6");
        json_object_set_new(v, "ip_range", json_pack("{s:s}", "cidr",
                                                     cidr ? cidr : v6 ? "::/0" : "0.0.0.0/0"));
    }
    return v;
}

static json_t *
group_view(struct http_req *req, json_t *g)
{
    json_t *rules = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(g, "security_group_rules"), i, r) {
        json_t *v = rule_view(req, r);
        if (v)
            json_array_append_new(rules, v);
    }
    return json_pack("{s:O,s:O,s:O,s:O,s:o}", "id", json_object_get(g, "id"), "name",
                     json_object_get(g, "name"), "description",
                     json_object_get(g, "description"), "tenant_id",
                     json_object_get(g, "project_id"), "rules", rules);
}

static int
reply_group(struct http_req *req, json_t *neutron_answer)
{
    json_t *g = json_object_get(neutron_answer, "security_group");
    json_t *v = g ? group_view(req, g) : NULL;
    json_decref(neutron_answer);
    if (!v)
        return req_fail(req, 500, "no group in the network service's answer");
    return http_reply_json(req, 200, json_pack("{s:o}", "security_group", v));
}

/* ---- groups ---- */

int
net_nova_groups_list(struct http_req *req)
{
    json_t *out;
    if (neutron(req, net__sgs_list, NULL, NULL, NULL, &out) < 0)
        return -1;
    /* Neutron shows an admin every project's groups, Nova only with
     * all_tenants */
    const char *all = http_query(req, "all_tenants");
    bool every = net__admin(req) && all && strcmp(all, "0") && strcasecmp(all, "false");
    json_t *l = json_array(), *g;
    size_t i;
    json_array_foreach(json_object_get(out, "security_groups"), i, g)
        if (every || !strcmp(jstr(g, "project_id"),
                             req->auth.project_id))
            json_array_append_new(l, group_view(req, g));
    json_decref(out);
    return http_reply_json(req, 200, json_pack("{s:o}", "security_groups", l));
}

int
net_nova_group_show(struct http_req *req)
{
    json_t *out;
    if (neutron(req, net__sg_show, "sg_id", http_param(req, "group_id"), NULL, &out) < 0)
        return -1;
    return reply_group(req, out);
}

/* Nova's checks of a group's name and description: strings, the name
 * not empty, both at most 255 characters. */
static json_t *
group_body(struct http_req *req, bool create)
{
    json_t *g = req->json ? json_object_get(req->json, "security_group") : NULL;
    if (!json_is_object(g)) {
        req_fail(req, 400, "The request body is missing security_group");
        return NULL;
    }
    json_t *nb = json_object();
    static const char *const keys[] = {"name", "description"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(g, keys[k]);
        if (!v && !create)
            continue;
        if (!json_is_string(v)) {
            json_decref(nb);
            req_fail(req, 400, "Security group %s is not a string or unicode", keys[k]);
            return NULL;
        }
        if ((!k && !*json_string_value(v)) || strlen(json_string_value(v)) > 255) {
            json_decref(nb);
            req_fail(req, 400, *json_string_value(v) ? "Security group %s should not be "
                     "greater than 255 characters." : "Security group %s cannot be empty.",
                     keys[k]);
            return NULL;
        }
        json_object_set(nb, keys[k], v);
    }
    return json_pack("{s:o}", "security_group", nb);
}

int
net_nova_group_create(struct http_req *req)
{
    json_t *b = group_body(req, true), *out;
    if (!b || neutron(req, net__sg_create, NULL, NULL, b, &out) < 0)
        return -1;
    return reply_group(req, out);
}

int
net_nova_group_update(struct http_req *req)
{
    json_t *b = group_body(req, false), *out;
    if (!b || neutron(req, net__sg_update, "sg_id", http_param(req, "group_id"), b, &out) < 0)
        return -1;
    return reply_group(req, out);
}

int
net_nova_group_delete(struct http_req *req)
{
    json_t *out;
    if (neutron(req, net__sg_delete, "sg_id", http_param(req, "group_id"), NULL, &out) < 0)
        return -1;
    json_decref(out);
    return http_reply_empty(req, 202);
}

/* ---- rules ---- */

int
net_nova_rule_create(struct http_req *req)
{
    json_t *r = req->json ? json_object_get(req->json, "security_group_rule") : NULL;
    if (!json_is_object(r))
        return req_fail(req, 400, "The request body is missing security_group_rule");
    const char *parent = json_string_value(json_object_get(r, "parent_group_id"));
    const char *proto = json_string_value(json_object_get(r, "ip_protocol"));
    const char *cidr = json_string_value(json_object_get(r, "cidr"));
    const char *group = json_string_value(json_object_get(r, "group_id"));
    if (!parent)
        return req_fail(req, 400, "Bad parent_group_id");
    if (cidr && group)
        return req_fail(req, 400, "Either cidr or group_id may be given, not both.");
    json_t *nb = json_pack("{s:s,s:s,s:s}", "security_group_id", parent, "direction",
                           "ingress", "ethertype", cidr && strchr(cidr, ':') ? "IPv6" : "IPv4");
    if (proto)
        json_object_set_new(nb, "protocol", json_string(proto));
    /* Nova's -1 (ICMP: any type or code) is Neutron's none */
    static const char *const ports[][2] = {{"from_port", "port_range_min"},
                                           {"to_port", "port_range_max"}};
    for (int k = 0; k < 2; k++) {
        json_t *p = json_object_get(r, ports[k][0]);
        long long n = json_is_integer(p) ? json_integer_value(p)
                      : json_is_string(p) ? strtoll(json_string_value(p), NULL, 10) : -1;
        if (p && !json_is_null(p) && n != -1)
            json_object_set_new(nb, ports[k][1], json_integer(n));
    }
    if (cidr)
        json_object_set_new(nb, "remote_ip_prefix", json_string(cidr));
    if (group)
        json_object_set_new(nb, "remote_group_id", json_string(group));
    json_t *out;
    if (neutron(req, net__sg_rule_create, NULL, NULL, json_pack("{s:o}", "security_group_rule",
                                                                 nb), &out) < 0)
        return -1;
    json_t *v = rule_view(req, json_object_get(out, "security_group_rule"));
    json_decref(out);
    if (!v)
        return req_fail(req, 500, "no rule in the network service's answer");
    return http_reply_json(req, 200, json_pack("{s:o}", "security_group_rule", v));
}

int
net_nova_rule_delete(struct http_req *req)
{
    json_t *out;
    if (neutron(req, net__sg_rule_delete, "rule_id", http_param(req, "rule_id"), NULL,
                &out) < 0)
        return -1;
    json_decref(out);
    return http_reply_empty(req, 202);
}

/* ---- a server's groups ---- */

int
net_nova_server_groups(struct http_req *req, const char *server)
{
    struct db_res *r;
    int rc = db_exec(req_db(req), req->arena, &r, "SELECT DISTINCT ps.group_id FROM net_port_sg "
                     "ps JOIN net_port p ON p.id = ps.port_id WHERE p.device_id = ?", "s",
                     server);
    if (rc)
        return db_fail(req, rc);
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *out;
        if (neutron(req, net__sg_show, "sg_id", db_val(r, i, 0), NULL, &out) < 0) {
            json_decref(l);
            return -1;
        }
        json_t *g = json_object_get(out, "security_group");
        if (g)
            json_array_append_new(l, group_view(req, g));
        json_decref(out);
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "security_groups", l));
}

int
net_nova_server_group_action(struct http_req *req, const char *server, json_t *arg, bool add)
{
    const char *name = json_string_value(json_object_get(arg, "name"));
    if (!json_is_object(arg) || !name || !*name)
        return req_fail(req, 400, "Missing parameter dict");
    struct db *db = req_db(req);
    char def[37];
    struct db_res *g, *ports;
    /* Nova looks the group up by name in the server's project (or by id) */
    int rc = net__default_sg(db, req->arena, req->auth.project_id, def);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &g, "SELECT id FROM net_sg WHERE (name = ? AND "
                     "project_id = ?) OR id = ?", "sss", name, req->auth.project_id, name);
    if (rc)
        return db_fail(req, rc);
    if (!g->nrows)
        return req_fail(req, 404, "Security group %s not found for project %s.", name,
                        req->auth.project_id);
    if (g->nrows > 1)
        return req_fail(req, 409, "Multiple security_group matches found for name '%s', use an "
                        "ID to be more specific.", name);
    const char *gid = db_val(g, 0, 0);
    rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &ports, "SELECT p.id, p.port_security, (SELECT 1 FROM "
                     "net_port_sg s WHERE s.port_id = p.id AND s.group_id = ?) FROM net_port p "
                     "WHERE p.device_id = ?", "ss", gid, server);
    if (rc) {
        db_end(db, rc);
        return db_fail(req, rc);
    }
    bool any = false;
    for (int i = 0; i < ports->nrows; i++)
        any |= db_val(ports, i, 2) != NULL;
    const char *err = !ports->nrows ? "no ports"
                      : !add && !any ? "not associated" : NULL;
    for (int i = 0; add && !err && i < ports->nrows; i++)
        if (!db_int(ports, i, 1))
            err = "port security";
    if (err) {
        db_end(db, -1);
        if (!strcmp(err, "no ports"))
            return req_fail(req, 404, "instance_id %s could not be found as device id on any "
                            "ports", server);
        if (!strcmp(err, "not associated"))
            return req_fail(req, 400, "Security group %s not associated with the instance %s",
                            name, server);
        return req_fail(req, 400, "Cannot apply security group %s to instance %s: port "
                        "security is disabled on one of its ports.", name, server);
    }
    int64_t now = now_us();
    for (int i = 0; rc == DB_OK && i < ports->nrows; i++) {
        const char *pid = db_val(ports, i, 0);
        bool has = db_val(ports, i, 2) != NULL;
        if (add == has)
            continue;
        rc = add ? db_exec(db, NULL, NULL, "INSERT INTO net_port_sg (port_id, group_id) VALUES "
                           "(?, ?)", "ss", pid, gid)
                 : db_exec(db, NULL, NULL, "DELETE FROM net_port_sg WHERE port_id = ? AND "
                           "group_id = ?", "ss", pid, gid);
        if (rc == DB_OK)
            rc = db_exec(db, NULL, NULL, "UPDATE net_port SET updated_at = ?, revision = "
                         "revision + 1 WHERE id = ?", "is", now, pid);
    }
    rc = db_end(db, rc);
    if (rc)
        return db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 202);
}
