/* api_secgroups.c - /v2.0/security-groups and /v2.0/security-group-rules:
 * groups with their rules, each project's "default" group (made the first
 * time the project lists groups or makes a port, as Neutron does: egress
 * anywhere, ingress from members of the group), Neutron's rule validation
 * and messages, and which ports use a group (net_port_sg). What the rules
 * mean on the host is plan.c's business: it resolves remote groups to
 * their members' addresses for the agent. */
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCOLS "id, project_id, name, description, is_default, created_at, updated_at, revision"
#define RCOLS "id, group_id, project_id, direction, ethertype, protocol, port_min, port_max, " \
              "remote_prefix, remote_group_id, description, created_at, updated_at, revision"

static json_t *
rule_view(struct http_req *req, struct db_res *r, int i)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:n}", "id", db_val(r, i, 0),
        "security_group_id", db_val(r, i, 1), "project_id", db_val(r, i, 2), "tenant_id",
        db_val(r, i, 2), "direction", db_val(r, i, 3), "ethertype", db_val(r, i, 4),
        "description", db_val(r, i, 10), "created_at", net__time(req, db_int(r, i, 11)),
        "updated_at", net__time(req, db_int(r, i, 12)), "revision_number",
        (json_int_t)db_int(r, i, 13), "remote_address_group_id");
    static const int cols[] = {5, 8, 9};
    static const char *const keys[] = {"protocol", "remote_ip_prefix", "remote_group_id"};
    for (int k = 0; k < 3; k++)
        json_object_set_new(o, keys[k], db_val(r, i, cols[k]) ? json_string(db_val(r, i, cols[k]))
                                                              : json_null());
    json_object_set_new(o, "port_range_min",
                        db_val(r, i, 6) ? json_integer(db_int(r, i, 6)) : json_null());
    json_object_set_new(o, "port_range_max",
                        db_val(r, i, 7) ? json_integer(db_int(r, i, 7)) : json_null());
    return o;
}

static json_t *
group_view(struct http_req *req, struct db_res *r, int i)
{
    json_t *rules = json_array();
    struct db_res *rr;
    if (db_exec(req->db, req->arena, &rr, "SELECT " RCOLS " FROM net_sg_rule WHERE group_id = ? "
                "ORDER BY created_at, id", "s", db_val(r, i, 0)) == DB_OK)
        for (int k = 0; k < rr->nrows; k++)
            json_array_append_new(rules, rule_view(req, rr, k));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:b,s:[],s:s,s:s,s:I}", "id", db_val(r, i, 0),
                     "project_id", db_val(r, i, 1), "tenant_id", db_val(r, i, 1), "name",
                     db_val(r, i, 2), "description", db_val(r, i, 3), "security_group_rules",
                     rules, "stateful", 1, "shared", 0, "tags", "created_at",
                     net__time(req, db_int(r, i, 5)), "updated_at",
                     net__time(req, db_int(r, i, 6)), "revision_number",
                     (json_int_t)db_int(r, i, 7));
}

static int
insert_rule(struct db *db, const char *group, const char *project, const char *dir,
            const char *eth, const char *proto, int64_t pmin, int64_t pmax, const char *prefix,
            const char *remote, const char *desc, const char *id_out)
{
    int64_t now = now_us();
    char pmin_s[24], pmax_s[24];
    snprintf(pmin_s, sizeof(pmin_s), "%lld", (long long)pmin);
    snprintf(pmax_s, sizeof(pmax_s), "%lld", (long long)pmax);
    return db_exec(db, NULL, NULL, "INSERT INTO net_sg_rule (" RCOLS ") VALUES (?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, 1)", "sssssssssssii",
                   id_out, group, project, dir, eth, proto, pmin >= 0 ? pmin_s : NULL,
                   pmax >= 0 ? pmax_s : NULL, prefix, remote, desc, now, now);
}

int
net__default_sg(struct db *db, struct arena *a, const char *project, char out[37])
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT id FROM net_sg WHERE project_id = ? AND is_default = 1",
                     "s", project);
    if (rc == DB_OK && r->nrows) {
        snprintf(out, 37, "%s", db_val(r, 0, 0));
        return 0;
    }
    char id[37];
    net__uuid(id);
    rc = db_begin(db);
    /* the claim row makes two first requests of a project agree on one
     * group: the loser's insert does nothing */
    if (rc == DB_OK)
        rc = db_exec(db, a, &r, "INSERT INTO net_sg_default (project_id, group_id) VALUES (?, ?) "
                     "ON CONFLICT DO NOTHING RETURNING group_id", "ss", project, id);
    if (rc == DB_OK && r->nrows) {
        int64_t now = now_us();
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_sg (" GCOLS ") VALUES (?, ?, 'default', "
                     "'Default security group', 1, ?, ?, 1)", "ssii", id, project, now, now);
        static const char *const eth[] = {"IPv4", "IPv6"};
        for (int k = 0; k < 4 && rc == DB_OK; k++) {
            char rid[37];
            net__uuid(rid);
            rc = insert_rule(db, id, project, k < 2 ? "egress" : "ingress", eth[k % 2], NULL, -1,
                             -1, NULL, k < 2 ? NULL : id, "", rid);
        }
    }
    rc = db_end(db, rc);
    if (rc)
        return rc;
    rc = db_exec(db, a, &r, "SELECT group_id FROM net_sg_default WHERE project_id = ?", "s",
                 project);
    if (rc == DB_OK && r->nrows)
        snprintf(out, 37, "%s", db_val(r, 0, 0));
    return rc ? rc : r->nrows ? 0 : DB_ERR;
}

/* The groups the caller sees (id: only that one); 404 recorded. */
static int
select_groups(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    char def[37];
    int rc = net__default_sg(db, req->arena, req->auth.project_id, def);
    if (rc)
        return net__db_fail(req, rc);
    bool all = net__admin(req);
    rc = id ? db_exec(db, req->arena, r, "SELECT " GCOLS " FROM net_sg WHERE id = ? AND "
                      "(? OR project_id = ?)", "sbs", id, all, req->auth.project_id)
            : db_exec(db, req->arena, r, "SELECT " GCOLS " FROM net_sg WHERE ? OR project_id = "
                      "? ORDER BY created_at, id", "bs", all, req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "SecurityGroupNotFound", "Security group %s does not exist",
                         id);
    return 0;
}

int
net__sgs_list(struct http_req *req)
{
    struct db_res *r;
    if (select_groups(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, group_view(req, r, i));
    return net__list_reply(req, "security_groups", l);
}

int
net__sg_show(struct http_req *req)
{
    struct db_res *r;
    if (select_groups(req, http_param(req, "sg_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "security_group",
                                               net__fields(req, group_view(req, r, 0))));
}

static const char *const sg_writable[] = {"name", "description", "project_id", "tenant_id",
                                          "stateful", NULL};

int
net__sg_create(struct http_req *req)
{
    json_t *o = net__body(req, "security_group");
    const char *owner, *name, *desc;
    if (!o || net__only(req, o, sg_writable) < 0 || !(owner = net__owner(req, o)) ||
        net__quota_check(req, owner, "security_group") < 0 ||
        net__str(req, o, "name", 255, "", &name) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0)
        return -1;
    if (!strcmp(name, "default"))
        return net__fail(req, 409, "SecurityGroupDefaultAlreadyExists", "Default security "
                         "group already exists.");
    struct db *db = net__db(req);
    char def[37], id[37];
    int rc = db ? net__default_sg(db, req->arena, owner, def) : -1;
    if (!db)
        return -1;
    net__uuid(id);
    int64_t now = now_us();
    rc = rc ? rc : db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "INSERT INTO net_sg (" GCOLS ") VALUES (?, ?, ?, ?, 0, ?, "
                     "?, 1)", "ssssii", id, owner, name, desc, now, now);
    /* a new group lets everything out, as Neutron's do */
    static const char *const eth[] = {"IPv4", "IPv6"};
    for (int k = 0; k < 2 && rc == DB_OK; k++) {
        char rid[37];
        net__uuid(rid);
        rc = insert_rule(db, id, owner, "egress", eth[k], NULL, -1, -1, NULL, NULL, "", rid);
    }
    rc = db_end(db, rc);
    struct db_res *r;
    if (rc)
        return net__db_fail(req, rc);
    if (select_groups(req, id, &r) < 0)
        return -1;
    return http_reply_json(req, 201, json_pack("{s:o}", "security_group", group_view(req, r, 0)));
}

int
net__sg_update(struct http_req *req)
{
    const char *id = http_param(req, "sg_id");
    json_t *o = net__body(req, "security_group");
    struct db_res *r;
    if (!o || select_groups(req, id, &r) < 0 || net__only(req, o, sg_writable) < 0)
        return -1;
    const char *name, *desc;
    if (net__str(req, o, "name", 255, db_val(r, 0, 2), &name) < 0 ||
        net__str(req, o, "description", 255, db_val(r, 0, 3), &desc) < 0)
        return -1;
    if (db_int(r, 0, 4) && strcmp(name, "default"))
        return net__fail(req, 409, "SecurityGroupCannotUpdateDefault", "Updating default "
                         "security group not allowed.");
    if (!db_int(r, 0, 4) && !strcmp(name, "default"))
        return net__fail(req, 409, "SecurityGroupDefaultAlreadyExists", "Default security "
                         "group already exists.");
    int rc = db_exec(req->db, NULL, NULL, "UPDATE net_sg SET name = ?, description = ?, "
                     "updated_at = ?, revision = revision + 1 WHERE id = ?", "ssis", name, desc,
                     now_us(), id);
    if (rc || select_groups(req, id, &r) < 0)
        return rc ? net__db_fail(req, rc) : -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "security_group", group_view(req, r, 0)));
}

int
net__sg_delete(struct http_req *req)
{
    const char *id = http_param(req, "sg_id");
    struct db_res *r, *use;
    if (select_groups(req, id, &r) < 0)
        return -1;
    if (db_int(r, 0, 4) && !net__admin(req))
        return net__fail(req, 409, "SecurityGroupCannotRemoveDefault", "Insufficient rights "
                         "for removing default security group.");
    struct db *db = req->db;
    int rc = db_begin(db);
    if (rc == DB_OK)
        rc = db_exec(db, req->arena, &use, "SELECT port_id FROM net_port_sg WHERE group_id = ? "
                     "LIMIT 1", "s", id);
    if (rc == DB_OK && use->nrows) {
        db_end(db, -1);
        return net__fail(req, 409, "SecurityGroupInUse", "Security Group %s in use.", id);
    }
    /* rules of other groups that name this one as their remote go too */
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_sg_rule WHERE group_id = ? OR "
                     "remote_group_id = ?", "ss", id, id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_sg_default WHERE group_id = ?", "s", id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "DELETE FROM net_sg WHERE id = ?", "s", id);
    rc = db_end(db, rc);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 204);
}

/* ---- rules ---- */

/* Neutron's protocol names and their numbers. */
static const struct {
    const char *name;
    int num;
} protocols[] = {
    {"ah", 51}, {"dccp", 33}, {"egp", 8}, {"esp", 50}, {"gre", 47}, {"hopopt", 0},
    {"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"ipv6-encap", 41}, {"ipv6-frag", 44},
    {"ipv6-icmp", 58}, {"icmpv6", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60},
    {"ipv6-route", 43}, {"ospf", 89}, {"pgm", 113}, {"rsvp", 46}, {"sctp", 132}, {"tcp", 6},
    {"udp", 17}, {"udplite", 136}, {"vrrp", 112},
};

int
net__proto_num(const char *p)
{
    if (!p)
        return -1;
    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
        if (!strcmp(protocols[i].name, p))
            return protocols[i].num;
    char *end;
    long n = strtol(p, &end, 10);
    return *p && !*end && n >= 0 && n <= 255 ? (int)n : -2;
}

/* A port_range member: absent/null -1; else 0..65535 into *out. */
static int
port_bound(struct http_req *req, json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    char *end = NULL;
    long long n = json_is_integer(v) ? json_integer_value(v)
                  : json_is_string(v) ? strtoll(json_string_value(v), &end, 10) : -1;
    if ((end && (*end || end == json_string_value(v))) || (!end && !json_is_integer(v)))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for %s. Reason: '%s' is "
                         "not a valid port number.", key,
                         json_is_string(v) ? json_string_value(v) : "value");
    if (n < 0 || n > 65535)
        return net__fail(req, 400, "SecurityGroupInvalidPortValue", "Invalid value for port "
                         "%lld.", n);
    *out = n;
    return 0;
}

static const char *const rule_writable[] = {
    "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
    "port_range_max", "remote_ip_prefix", "remote_group_id", "description", "project_id",
    "tenant_id", "remote_address_group_id", NULL};

int
net__sg_rule_create(struct http_req *req)
{
    json_t *o = net__body(req, "security_group_rule");
    if (!o || net__only(req, o, rule_writable) < 0)
        return -1;
    const char *gid, *dir, *eth, *desc, *prefix, *remote, *owner;
    json_t *pv = json_object_get(o, "protocol");
    char pbuf[8];
    const char *proto = json_string_value(pv);
    if (json_is_integer(pv)) {
        snprintf(pbuf, sizeof(pbuf), "%lld", (long long)json_integer_value(pv));
        proto = pbuf;
    }
    int64_t pmin, pmax;
    if (net__str(req, o, "security_group_id", 36, NULL, &gid) < 0 ||
        net__str(req, o, "direction", 16, NULL, &dir) < 0 ||
        net__str(req, o, "ethertype", 8, "IPv4", &eth) < 0 ||
        net__str(req, o, "description", 255, "", &desc) < 0 ||
        net__str_null(req, o, "remote_ip_prefix", 64, NULL, true, &prefix) < 0 ||
        net__str_null(req, o, "remote_group_id", 36, NULL, true, &remote) < 0 ||
        port_bound(req, o, "port_range_min", &pmin) < 0 ||
        port_bound(req, o, "port_range_max", &pmax) < 0 || !(owner = net__owner(req, o)) ||
        net__quota_check(req, owner, "security_group_rule") < 0)
        return -1;
    if (!gid)
        return net__fail(req, 400, "HTTPBadRequest", "Failed to parse request. Required "
                         "attribute 'security_group_id' not specified");
    if (!dir || (strcmp(dir, "ingress") && strcmp(dir, "egress")))
        return net__fail(req, 400, "HTTPBadRequest", "Invalid input for direction. Reason: "
                         "%s is not in valid_values.", dir ? dir : "None");
    if (strcasecmp(eth, "IPv4") && strcasecmp(eth, "IPv6"))
        return net__fail(req, 400, "SecurityGroupRuleInvalidEtherType", "Security group rule "
                         "for ethertype '%s' not supported. Allowed values are ['IPv4', "
                         "'IPv6'].", eth);
    eth = strcasecmp(eth, "IPv4") ? "IPv6" : "IPv4";
    if (pv && !json_is_null(pv) && !proto)
        return net__fail(req, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule "
                         "protocol value not supported.");
    if (proto && (!*proto || !strcmp(proto, "any")))
        proto = NULL;
    int pnum = net__proto_num(proto);
    if (pnum == -2)
        return net__fail(req, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule "
                         "protocol %s not supported. Only protocol values [None, 'ah', 'dccp', "
                         "'egp', 'esp', 'gre', 'icmp', 'icmpv6', 'igmp', 'ipip', 'ipv6-encap', "
                         "'ipv6-frag', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', "
                         "'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and "
                         "integer representations [0 to 255] are supported.", proto);
    bool ported = pnum == 6 || pnum == 17 || pnum == 132 || pnum == 33 || pnum == 136;
    bool icmp = pnum == 1 || pnum == 58;
    if ((pmin >= 0 || pmax >= 0) && pnum < 0)
        return net__fail(req, 400, "SecurityGroupProtocolRequiredWithPorts", "Must also "
                         "specify protocol if port range is given.");
    if (ported) {
        if ((pmin == 0 || pmax == 0) && !(pmin == 0 && pmax == 0))
            return net__fail(req, 400, "SecurityGroupInvalidPortValue", "Invalid value for "
                             "port 0.");
        /* Neutron wants both bounds or neither for ported protocols. */
        if ((pmin >= 0) != (pmax >= 0) || pmin > pmax)
            return net__fail(req, 400, "SecurityGroupInvalidPortRange", "For TCP/UDP "
                             "protocols, port_range_min must be <= port_range_max");
    } else if (icmp) {
        if (pmin > 255 || pmax > 255)
            return net__fail(req, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for "
                             "ICMP %s (%s): %lld. It must be 0 to 255.", pmin > 255 ? "type" :
                             "code", pmin > 255 ? "port-range-min" : "port-range-max",
                             (long long)(pmin > 255 ? pmin : pmax));
        if (pmin < 0 && pmax >= 0)
            return net__fail(req, 400, "SecurityGroupMissingIcmpType", "ICMP code "
                             "(port-range-max) %lld is provided but ICMP type (port-range-min) "
                             "is missing.", (long long)pmax);
    } else if (pmin >= 0 || pmax >= 0) {
        pmin = pmax = -1;   /* Neutron ignores ports of other protocols */
    }
    if (prefix && remote)
        return net__fail(req, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only "
                         "remote_ip_prefix or remote_group_id may be provided.");
    char *norm = NULL;
    if (prefix) {
        ip128 a;
        int len;
        bool hostbits;
        int v = cidr_parse(prefix, &a, &len, &hostbits);
        if (!v && (v = ip_parse(prefix, 0, &a)))
            len = v == 4 ? 32 : 128;
        if (!v)
            return net__fail(req, 400, "HTTPBadRequest", "Invalid input for remote_ip_prefix. "
                             "Reason: '%s' is not a valid IP subnet.", prefix);
        if ((v == 6) != !strcmp(eth, "IPv6"))
            return net__fail(req, 400, "SecurityGroupRuleParameterConflict", "Conflicting "
                             "value ethertype %s for CIDR %s", eth, prefix);
        char buf[46];
        ip_format(net_first(a, len, v), v, buf);
        norm = arena_printf(req->arena, "%s/%d", buf, len);
    }
    struct db_res *g;
    if (select_groups(req, gid, &g) < 0)
        return -1;
    if (remote && strcmp(remote, gid) && select_groups(req, remote, &g) < 0)
        return -1;
    struct db *db = req->db;
    /* a rule the group has already: Neutron's 409 names it */
    struct db_res *dup;
    int rc = db_exec(db, req->arena, &dup, "SELECT id FROM net_sg_rule WHERE group_id = ? AND "
                     "direction = ? AND ethertype = ? AND COALESCE(protocol, '') = ? AND "
                     "COALESCE(port_min, -1) = ? AND COALESCE(port_max, -1) = ? AND "
                     "COALESCE(remote_prefix, '') = ? AND COALESCE(remote_group_id, '') = ?",
                     "ssssiiss", gid, dir, eth, proto ? proto : "", pmin, pmax,
                     norm ? norm : "", remote ? remote : "");
    if (rc)
        return net__db_fail(req, rc);
    if (dup->nrows)
        return net__fail(req, 409, "SecurityGroupRuleExists", "Security group rule already "
                         "exists. Rule id is %s.", db_val(dup, 0, 0));
    char id[37];
    net__uuid(id);
    rc = insert_rule(db, gid, owner, dir, eth, proto, pmin, pmax, norm, remote, desc, id);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE net_sg SET revision = revision + 1, updated_at = "
                     "? WHERE id = ?", "is", now_us(), gid);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    struct db_res *r;
    rc = db_exec(db, req->arena, &r, "SELECT " RCOLS " FROM net_sg_rule WHERE id = ?", "s", id);
    if (rc)
        return net__db_fail(req, rc);
    return http_reply_json(req, 201, json_pack("{s:o}", "security_group_rule",
                                               rule_view(req, r, 0)));
}

/* Rules the caller sees: of its groups (admin: all). */
static int
select_rules(struct http_req *req, const char *id, struct db_res **r)
{
    struct db *db = net__db(req);
    if (!db)
        return -1;
    bool all = net__admin(req);
    int rc = id ? db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_sg_rule WHERE id = ? "
                          "AND (? OR group_id IN (SELECT id FROM net_sg WHERE project_id = ?))",
                          "sbs", id, all, req->auth.project_id)
                : db_exec(db, req->arena, r, "SELECT " RCOLS " FROM net_sg_rule WHERE ? OR "
                          "group_id IN (SELECT id FROM net_sg WHERE project_id = ?) ORDER BY "
                          "created_at, id", "bs", all, req->auth.project_id);
    if (rc)
        return net__db_fail(req, rc);
    if (id && !(*r)->nrows)
        return net__fail(req, 404, "SecurityGroupRuleNotFound", "Security group rule %s does "
                         "not exist", id);
    return 0;
}

int
net__sg_rules_list(struct http_req *req)
{
    struct db_res *r;
    if (select_rules(req, NULL, &r) < 0)
        return -1;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, rule_view(req, r, i));
    return net__list_reply(req, "security_group_rules", l);
}

int
net__sg_rule_show(struct http_req *req)
{
    struct db_res *r;
    if (select_rules(req, http_param(req, "rule_id"), &r) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "security_group_rule",
                                               net__fields(req, rule_view(req, r, 0))));
}

int
net__sg_rule_delete(struct http_req *req)
{
    const char *id = http_param(req, "rule_id");
    struct db_res *r;
    if (select_rules(req, id, &r) < 0)
        return -1;
    int rc = db_exec(req->db, NULL, NULL, "DELETE FROM net_sg_rule WHERE id = ?", "s", id);
    if (rc)
        return net__db_fail(req, rc);
    hostapi_kick();
    return http_reply_empty(req, 204);
}
