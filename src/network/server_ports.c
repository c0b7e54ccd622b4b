/* server_ports.c - what compute asks of the network service for its
 * servers, as Nova asks Neutron: the ports of a new server (made for
 * "networks": [{"uuid"}, {"uuid", "fixed_ip"}], "auto", or taken over
 * with {"port"}), their binding to the host the scheduler chose, their
 * release when the server goes (ports compute made are deleted, ports the
 * user made are only detached, Nova's preserve_on_delete) and the
 * server's "addresses". Errors are Nova's messages, as the server create
 * that triggered them answers with them. */
#include "network.h"
#include "network_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"
#include "core/util.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SERVER_OWNER "compute:nova"

static int
fail(char *msg, size_t len, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return status;
}

static int release(struct db *db, const char *server, const char *port);

/* The networks project may boot on: its own and the shared ones, not
 * the external ones (as Nova's "auto" and default choice). */
static int
usable_networks(struct db *db, struct arena *a, const char *project, struct db_res **r)
{
    return db_exec(db, a, r, "SELECT id FROM net_network WHERE (project_id = ? OR shared = 1 OR "
                   NET_RBAC_TO ") AND external = 0 ORDER BY created_at, id", "ss", project,
                   project);
}

/* Network id, if project may put a port on it. */
static int
network_visible(struct db *db, struct arena *a, const char *project, bool admin, const char *id,
                bool *ok)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT 1 FROM net_network WHERE id = ? AND (? OR project_id = ? "
                     "OR shared = 1 OR " NET_RBAC_TO ")", "sbss", id, admin, project, project);
    *ok = rc == DB_OK && r->nrows;
    return rc;
}

/* The group ids of Nova's security_groups ([{"name": n}], names or ids)
 * in project, into a JSON list; NULL for the default. */
static int
group_ids(struct db *db, struct arena *a, const char *project, json_t *groups, json_t **out,
          char *msg, size_t len)
{
    *out = NULL;
    if (!json_array_size(groups))
        return 0;
    *out = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        const char *name = json_string_value(json_object_get(g, "name"));
        struct db_res *r;
        int rc = name ? db_exec(db, a, &r, "SELECT id FROM net_sg WHERE project_id = ? AND "
                                "(name = ? OR id = ?) ORDER BY is_default DESC, created_at",
                                "sss", project, name, name)
                      : 0;
        if (!rc && name && !r->nrows && !strcmp(name, "default")) {
            char def[37];
            rc = net__default_sg(db, a, project, def);
            if (!rc)
                json_array_append_new(*out, json_string(def));
            continue;
        }
        if (rc)
            return fail(msg, len, 500, "The network service failed (database error %d).", rc);
        if (!name || !r->nrows)
            return fail(msg, len, 400, "Security group %s not found for project %s.",
                        name ? name : "None", project);
        json_array_append_new(*out, json_string(db_val(r, 0, 0)));
    }
    return 0;
}

/* Takes over port id for the server: it must be the project's (or the
 * admin's to give) and unused. */
static int
claim_port(struct db *db, struct arena *a, const struct net_server_req *q, const char *id,
           char *msg, size_t len)
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "UPDATE net_port SET device_id = ?, device_owner = ?, "
                     "revision = revision + 1 WHERE id = ? AND device_id = '' AND (? OR "
                     "project_id = ?) RETURNING id", "sssbs", q->server, SERVER_OWNER, id,
                     q->admin, q->project);
    if (rc)
        return fail(msg, len, 500, "The network service failed (database error %d).", rc);
    if (r->nrows)
        return 0;
    rc = db_exec(db, a, &r, "SELECT device_id FROM net_port WHERE id = ? AND (? OR project_id = "
                 "?)", "sbs", id, q->admin, q->project);
    if (rc == DB_OK && r->nrows)
        return fail(msg, len, 409, "Port %s is still in use.", id);
    return fail(msg, len, 400, "Port id %s could not be found.", id);
}

/* Makes a port on network net for the server (fixed_ip: that address). */
static int
make_port(struct db *db, struct arena *a, const struct net_server_req *q, const char *net,
          const char *fixed_ip, json_t *groups, char *msg, size_t len, char id[37])
{
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT port_security FROM net_network WHERE id = ?", "s", net);
    if (rc || !r->nrows)
        return rc ? fail(msg, len, 500, "The network service failed (database error %d).", rc)
                  : fail(msg, len, 400, "Network %s could not be found.", net);
    net__uuid(id);
    json_t *fips = fixed_ip ? json_pack("[{s:s}]", "ip_address", fixed_ip) : NULL;
    bool psec = db_int(r, 0, 0);
    struct net_port_new p = {.id = id, .project = q->project, .network = net, .name = "",
                             .desc = "", .device_id = q->server, .device_owner = SERVER_OWNER,
                             .host = "", .vnic = "normal", .pairs = "[]", .up = true,
                             .psec = psec, .auto_delete = true, .fixed_ips = fips,
                             .groups = psec ? groups : json_array()};
    struct net_err e;
    rc = net__port_insert(db, a, &p, &e);
    json_decref(fips);
    if (!psec)
        json_decref((json_t *)p.groups);
    if (rc == 0)
        return 0;
    /* Nova's words for what Neutron said */
    if (!strcmp(e.type, "IpAddressAlreadyAllocated"))
        return fail(msg, len, 400, "Fixed IP address %s is already in use on instance.",
                    fixed_ip ? fixed_ip : "");
    if (!strcmp(e.type, "InvalidIpForSubnet") || !strcmp(e.type, "InvalidInput"))
        return fail(msg, len, 400, "Invalid fixed IP address (%s)", fixed_ip ? fixed_ip : "");
    if (!strcmp(e.type, "IpAddressGenerationFailure"))
        return fail(msg, len, 400, "No fixed IP addresses available for network: %s", net);
    return fail(msg, len, e.status, "%s", e.msg);
}

int
net_server_ports(struct db *db, struct arena *a, const struct net_server_req *q, char *msg,
                 size_t len)
{
    json_t *nets = q->networks, *groups;
    int st = group_ids(db, a, q->project, q->groups, &groups, msg, len);
    if (st) {
        json_decref(groups);    /* the ids found before the one that failed */
        return st;
    }
    const char *mode = json_string_value(nets);
    char made[37];
    if (mode && !strcmp(mode, "none"))
        goto out;
    if (!nets || mode) {
        /* none asked for: the one network the project may use, if any */
        struct db_res *r;
        int rc = usable_networks(db, a, q->project, &r);
        if (rc)
            st = fail(msg, len, 500, "The network service failed (database error %d).", rc);
        else if (r->nrows > 1)
            st = fail(msg, len, 409, "Multiple possible networks found, use a Network ID to "
                      "be more specific.");
        else if (r->nrows == 1)
            st = make_port(db, a, q, db_val(r, 0, 0), NULL, groups, msg, len, made);
        else if (mode && !strcmp(mode, "auto"))
            st = fail(msg, len, 400, "Unable to automatically allocate a network for project "
                      "%s", q->project);
        goto out;
    }
    size_t i;
    json_t *n;
    json_array_foreach(nets, i, n) {
        const char *net = json_string_value(json_object_get(n, "uuid"));
        const char *port = json_string_value(json_object_get(n, "port"));
        const char *ip = json_string_value(json_object_get(n, "fixed_ip"));
        if (port) {
            st = claim_port(db, a, q, port, msg, len);
        } else {
            bool ok;
            int rc = network_visible(db, a, q->project, q->admin, net ? net : "", &ok);
            st = rc ? fail(msg, len, 500, "The network service failed (database error %d).",
                           rc)
                 : !ok ? fail(msg, len, 400, "Network %s could not be found.", net ? net : "")
                       : make_port(db, a, q, net, ip, groups, msg, len, made);
        }
        if (st)
            break;
    }
out:
    json_decref(groups);
    if (st)
        net_server_release(db, q->server);  /* what this call made goes again */
    else
        hostapi_kick();
    return st;
}

int
net_server_bind(struct db *db, const char *server, const char *host)
{
    return db_exec(db, NULL, NULL, "UPDATE net_port SET binding_host = ?, revision = revision + "
                   "1, updated_at = ? WHERE device_id = ? AND device_owner LIKE 'compute:%'",
                   "sis", host ? host : "", now_us(), server);
}

int
net_server_release(struct db *db, const char *server)
{
    return release(db, server, "");
}

/* Releases the ports of server (port "": all of them, else that one):
 * those made for it go with their addresses, others are detached. */
static int
release(struct db *db, const char *server, const char *port)
{
    const char *own = "device_id = ? AND device_owner LIKE 'compute:%' AND (? = '' OR id = ?)";
    char sql[4][256];
    /* a floating IP of a port that goes is disassociated, not lost */
    snprintf(sql[3], sizeof(sql[3]), "UPDATE net_fip SET fixed_port_id = NULL, fixed_ip_address "
             "= NULL, router_id = NULL WHERE fixed_port_id IN (SELECT id FROM net_port WHERE "
             "auto_delete = 1 AND %s)", own);
    snprintf(sql[0], sizeof(sql[0]), "DELETE FROM net_ipalloc WHERE port_id IN (SELECT id FROM "
             "net_port WHERE auto_delete = 1 AND %s)", own);
    snprintf(sql[1], sizeof(sql[1]), "DELETE FROM net_port_sg WHERE port_id IN (SELECT id FROM "
             "net_port WHERE auto_delete = 1 AND %s)", own);
    snprintf(sql[2], sizeof(sql[2]), "DELETE FROM net_port WHERE auto_delete = 1 AND %s", own);
    int rc = db_exec(db, NULL, NULL, sql[3], "sss", server, port, port);
    for (int i = 0; i < 3 && rc == DB_OK; i++)
        rc = db_exec(db, NULL, NULL, sql[i], "sss", server, port, port);
    if (rc == DB_OK)
        rc = db_exec(db, NULL, NULL, "UPDATE net_port SET device_id = '', device_owner = '', "
                     "binding_host = '', revision = revision + 1, updated_at = ? WHERE "
                     "device_id = ? AND device_owner LIKE 'compute:%' AND (? = '' OR id = ?)",
                     "isss", now_us(), server, port, port);
    return rc;
}

json_t *
net_server_addresses(struct db *db, struct arena *a, const char *project, const char *server)
{
    struct db_res *r;
    /* fixed addresses, each followed by its floating IP (Nova's order) */
    const char *sel = "SELECT p.device_id, n.name, a.ip_address, p.mac_address, "
                      "f.floating_ip_address FROM net_port p JOIN net_ipalloc a ON a.port_id = "
                      "p.id JOIN net_network n ON n.id = p.network_id LEFT JOIN net_fip f ON "
                      "f.fixed_port_id = p.id AND f.fixed_ip_address = a.ip_address WHERE "
                      "p.device_owner LIKE 'compute:%' AND ";
    int rc = server ? db_exec(db, a, &r, arena_printf(a, "%sp.device_id = ? ORDER BY p.created_at, "
                                                      "p.id, a.ip_address", sel), "s", server)
             : project ? db_exec(db, a, &r, arena_printf(a, "%sp.project_id = ? ORDER BY "
                                                         "p.created_at, p.id, a.ip_address", sel),
                                 "s", project)
                       : db_exec(db, a, &r, arena_printf(a, "%s1 = 1 ORDER BY p.created_at, "
                                                         "p.id, a.ip_address", sel), "");
    if (rc)
        return NULL;
    json_t *all = json_object();
    for (int i = 0; i < r->nrows; i++) {
        json_t *srv = json_object_get(all, db_val(r, i, 0));
        if (!srv)
            json_object_set_new(all, db_val(r, i, 0), srv = json_object());
        json_t *l = json_object_get(srv, db_val(r, i, 1));
        if (!l)
            json_object_set_new(srv, db_val(r, i, 1), l = json_array());
        const char *ip = db_val(r, i, 2);
        json_array_append_new(l, json_pack("{s:i,s:s,s:s,s:s}", "version",
                                           strchr(ip, ':') ? 6 : 4, "addr", ip,
                                           "OS-EXT-IPS:type", "fixed", "OS-EXT-IPS-MAC:mac_addr",
                                           db_val(r, i, 3)));
        if (db_val(r, i, 4))
            json_array_append_new(l, json_pack("{s:i,s:s,s:s,s:s}", "version", 4, "addr",
                                               db_val(r, i, 4), "OS-EXT-IPS:type", "floating",
                                               "OS-EXT-IPS-MAC:mac_addr", db_val(r, i, 3)));
    }
    return all;
}

json_t *
net_server_groups(struct db *db, struct arena *a, const char *project, const char *server)
{
    struct db_res *r;
    const char *sel = "SELECT DISTINCT p.device_id, g.name FROM net_port p JOIN net_port_sg ps "
                      "ON ps.port_id = p.id JOIN net_sg g ON g.id = ps.group_id WHERE "
                      "p.device_owner LIKE 'compute:%' AND ";
    int rc = server ? db_exec(db, a, &r, arena_printf(a, "%sp.device_id = ? ORDER BY 1, 2", sel),
                              "s", server)
             : project ? db_exec(db, a, &r, arena_printf(a, "%sp.project_id = ? ORDER BY 1, 2",
                                                         sel), "s", project)
                       : db_exec(db, a, &r, arena_printf(a, "%s1 = 1 ORDER BY 1, 2", sel), "");
    if (rc)
        return NULL;
    json_t *all = json_object();
    for (int i = 0; i < r->nrows; i++) {
        json_t *l = json_object_get(all, db_val(r, i, 0));
        if (!l)
            json_object_set_new(all, db_val(r, i, 0), l = json_array());
        json_array_append_new(l, json_pack("{s:s}", "name", db_val(r, i, 1)));
    }
    return all;
}

/* ---- interfaces attached to a running server (Nova's os-interface) ---- */

static json_t *
iface_view(struct db_res *r, int i, struct db_res *ips)
{
    json_t *f = json_array();
    for (int k = 0; k < ips->nrows; k++)
        if (!strcmp(db_val(ips, k, 0), db_val(r, i, 0)))
            json_array_append_new(f, json_pack("{s:s,s:s}", "subnet_id", db_val(ips, k, 1),
                                               "ip_address", db_val(ips, k, 2)));
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "port_id", db_val(r, i, 0), "net_id",
                     db_val(r, i, 1), "mac_addr", db_val(r, i, 2), "port_state",
                     *db_val(r, i, 3) ? "ACTIVE" : "DOWN", "fixed_ips", f);
}

json_t *
net_server_interfaces(struct db *db, struct arena *a, const char *server, const char *port)
{
    struct db_res *r, *ips;
    const char *where = "p.device_id = ? AND p.device_owner LIKE 'compute:%' AND (? = '' OR "
                        "p.id = ?)";
    if (!port)
        port = "";
    if (db_exec(db, a, &r, arena_printf(a, "SELECT p.id, p.network_id, p.mac_address, "
                "p.binding_host FROM net_port p WHERE %s ORDER BY p.created_at, p.id", where),
                "sss", server, port, port) != DB_OK ||
        db_exec(db, a, &ips, arena_printf(a, "SELECT a.port_id, a.subnet_id, a.ip_address "
                "FROM net_ipalloc a JOIN net_port p ON p.id = a.port_id WHERE %s ORDER BY "
                "a.subnet_id, a.ip_address", where), "sss", server, port, port) != DB_OK)
        return NULL;
    json_t *l = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(l, iface_view(r, i, ips));
    return l;
}

int
net_server_attach(struct db *db, struct arena *a, const struct net_server_req *q, json_t *att,
                  const char *host, char port_out[37], char *msg, size_t len)
{
    const char *net = json_string_value(json_object_get(att, "net_id"));
    const char *port = json_string_value(json_object_get(att, "port_id"));
    json_t *fips = json_object_get(att, "fixed_ips");
    const char *ip = json_string_value(json_object_get(json_array_get(fips, 0), "ip_address"));
    if (net && port)
        return fail(msg, len, 400, "Must not input both network_id and port_id");
    if (ip && !net)
        return fail(msg, len, 400, "A fixed IP needs a network (net_id).");
    int st;
    if (port) {
        st = claim_port(db, a, q, port, msg, len);
        if (!st)
            snprintf(port_out, 37, "%s", port);
    } else {
        if (!net) {     /* Nova takes the one network the project may use */
            struct db_res *r;
            int rc = usable_networks(db, a, q->project, &r);
            if (rc)
                return fail(msg, len, 500, "The network service failed (database error %d).",
                            rc);
            if (r->nrows != 1)
                return fail(msg, len, r->nrows ? 409 : 400, r->nrows ? "Multiple possible "
                            "networks found, use a Network ID to be more specific." : "No "
                            "network found for the interface.");
            net = db_val(r, 0, 0);
        }
        bool ok;
        int rc = network_visible(db, a, q->project, q->admin, net, &ok);
        if (rc || !ok)
            return rc ? fail(msg, len, 500, "The network service failed (database error %d).",
                             rc)
                      : fail(msg, len, 404, "Network %s could not be found.", net);
        st = make_port(db, a, q, net, ip, NULL, msg, len, port_out);
    }
    if (st)
        return st;
    int rc = db_exec(db, NULL, NULL, "UPDATE net_port SET binding_host = ?, revision = revision "
                     "+ 1, updated_at = ? WHERE id = ?", "sis", host ? host : "", now_us(),
                     port_out);
    if (rc) {
        int r2 = db_begin(db);
        db_end(db, r2 ? r2 : release(db, q->server, port_out));
        return fail(msg, len, 500, "The network service failed (database error %d).", rc);
    }
    hostapi_kick();
    return 0;
}

int
net_server_detach(struct db *db, struct arena *a, const char *server, const char *port)
{
    json_t *l = net_server_interfaces(db, a, server, port);
    if (!l)
        return DB_ERR;
    size_t n = json_array_size(l);
    json_decref(l);
    if (!n)
        return -ENOENT;
    int rc = db_begin(db);
    rc = db_end(db, rc ? rc : release(db, server, port));
    if (rc == DB_OK)
        hostapi_kick();
    return rc;
}
