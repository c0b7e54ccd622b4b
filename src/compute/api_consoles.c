/* api_consoles.c - remote consoles: POST /servers/{id}/remote-consoles
 * (2.6+), the older os-getVNCConsole action (2.1 to 2.5) and the admin's
 * GET /os-console-auth-tokens/{token}. A console URL carries a one-time
 * random token; the database keeps only its SHA-256 with the server, the
 * host and the address of the guest's VNC server as the host agent
 * reports it, until [vnc] token_ttl (Nova's 600 s) passes. The proxy that
 * redeems tokens is vncproxy.c. Only noVNC over VNC exists here: the
 * other protocols and types Nova knows are refused as a Nova host without
 * them refuses them. */
#include "compute_int.h"
#include "cp_db.h"
#include "hostapi.h"
#include "srv_db.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define HOSTAPI_ADDR_MAX 4096

void
cmp__token_hash(const char *token, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), d);
    hex_encode(d, sizeof(d), out);
}

/* s percent-encoded for a query value (RFC 3986 unreserved kept). */
static const char *
pct(struct arena *a, const char *s)
{
    char *out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

/* The console URL's base: [vnc] novncproxy_base_url, or this listener's
 * own /vnc/vnc_lite.html as the client reached it. */
static const char *
base_url(struct http_req *req)
{
    const char *b = cfg_get("vnc", "novncproxy_base_url", NULL);
    if (b && *b)
        return b;
    const char *host = http_header_in(req, "Host");
    return arena_printf(req->arena, "http://%s/vnc/vnc_lite.html", host ? host : "127.0.0.1");
}

/* A new token for server s's VNC console, stored hashed; its URL into
 * *url. 0, or -1 with the failure recorded (409: no console now). */
static int
new_console(struct http_req *req, const struct cmp_server *s, const char **url)
{
    char addr[HOSTAPI_ADDR_MAX];
    if (strcmp(s->vm_state, "active") || !s->host || s->task_state ||
        hostapi_vnc(s->id, addr, sizeof(addr)) < 0)
        return req_fail(req, 409, "Instance %s is not ready", s->id);
    unsigned char raw[16];
    char token[33], hash[65];
    random_bytes(raw, sizeof(raw));
    hex_encode(raw, sizeof(raw), token);
    /* Nova's tokens read as uuids */
    const char *tok = arena_printf(req->arena, "%.8s-%.4s-%.4s-%.4s-%.12s", token, token + 8,
                                   token + 12, token + 16, token + 20);
    cmp__token_hash(tok, hash);
    int64_t now = now_us(), ttl = cfg_int("vnc", "token_ttl", 600);
    int rc = db_exec(req->db, NULL, NULL, "DELETE FROM cmp_console_token WHERE expires < ?",
                     "i", now);
    if (rc == DB_OK)
        rc = db_exec(req->db, NULL, NULL, "INSERT INTO cmp_console_token (token_hash, "
                     "instance_uuid, host, access_path, console_type, expires) VALUES "
                     "(?, ?, ?, ?, 'novnc', ?)", "ssssi", hash, s->id, s->host, addr,
                     now + ttl * 1000000);
    if (rc)
        return cmp__db_fail(req, rc);
    /* noVNC's vnc_lite.html connects to ws://<host>/<path> */
    *url = arena_printf(req->arena, "%s?path=%s", base_url(req),
                        pct(req->arena, arena_printf(req->arena, "vnc/websockify?token=%s",
                                                     tok)));
    return 0;
}

int
cmp__remote_console(struct http_req *req)
{
    struct cmp_server s;
    if (!cmp__mv(req, 2, 6))    /* os-getVNCConsole and its kin before */
        return req_fail(req, 404, "The resource could not be found.");
    json_t *body = cmp__body(req);
    if (!body || cmp__server_find(req, &s) < 0 ||
        cmp__policy(req, "os_compute_api:os-remote-consoles", NULL, s.project_id) < 0)
        return -1;
    json_t *rc = json_object_get(body, "remote_console");
    if (!json_is_object(rc))
        return cmp__invalid(req, "remote_console", rc, "'remote_console' is a required "
                            "property");
    static const char *const protocols[] = {"vnc", "spice", "rdp", "serial", "mks", NULL};
    static const char *const types[] = {"novnc", "xvpvnc", "rdp-html5", "spice-html5",
                                        "serial", "webmks", NULL};
    const char *p = json_string_value(json_object_get(rc, "protocol"));
    const char *t = json_string_value(json_object_get(rc, "type"));
    bool pok = false, tok = false;
    /* mks / webmks exist from 2.8 */
    for (int i = 0; p && protocols[i]; i++)
        pok |= !strcmp(p, protocols[i]) && (strcmp(p, "mks") || cmp__mv(req, 2, 8));
    for (int i = 0; t && types[i]; i++)
        tok |= !strcmp(t, types[i]) && (strcmp(t, "webmks") || cmp__mv(req, 2, 8));
    if (!pok)
        return cmp__invalid(req, "remote_console/protocol", json_object_get(rc, "protocol"),
                            "is not one of the protocols");
    if (!tok)
        return cmp__invalid(req, "remote_console/type", json_object_get(rc, "type"),
                            "is not one of the types");
    if (strcmp(p, "vnc") || strcmp(t, "novnc"))
        return req_fail(req, 400, "Unavailable console type %s.", t);
    const char *url;
    if (new_console(req, &s, &url) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:{s:s,s:s,s:s}}", "remote_console",
                                               "protocol", "vnc", "type", "novnc", "url",
                                               url));
}

int
cmp__vnc_console_action(struct http_req *req, const struct cmp_server *s, json_t *arg)
{
    json_t *t = json_is_object(arg) ? json_object_get(arg, "type") : NULL;
    const char *ty = json_string_value(t);
    if (!ty || (strcmp(ty, "novnc") && strcmp(ty, "xvpvnc")))
        return cmp__invalid(req, "type", t, "is not one of ['novnc', 'xvpvnc']");
    if (strcmp(ty, "novnc"))
        return req_fail(req, 400, "Unavailable console type %s.", ty);
    const char *url;
    if (new_console(req, s, &url) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:{s:s,s:s}}", "console", "type", "novnc",
                                               "url", url));
}

int
cmp__console_token_lookup(struct db *db, struct arena *a, const char *token, const char **id,
                          const char **host, const char **path)
{
    char hash[65];
    cmp__token_hash(token, hash);
    struct db_res *r;
    int rc = db_exec(db, a, &r, "SELECT instance_uuid, host, access_path FROM "
                     "cmp_console_token WHERE token_hash = ? AND expires >= ?", "si", hash,
                     now_us());
    if (rc)
        return rc;
    if (!r->nrows)
        return -ENOENT;
    *id = db_val(r, 0, 0);
    *host = db_val(r, 0, 1);
    *path = db_val(r, 0, 2);
    return 0;
}

int
cmp__console_token_show(struct http_req *req)
{
    if (cmp__policy(req, "os_compute_api:os-console-auth-tokens", NULL, NULL) < 0)
        return -1;
    const char *tok = http_param(req, "console_token"), *id, *host, *path;
    struct db *db = cmp__db(req);
    if (!db)
        return -1;
    int rc = cmp__console_token_lookup(db, req->arena, tok, &id, &host, &path);
    if (rc == -ENOENT)
        return req_fail(req, 404, "The token '%s' is invalid or has expired", tok);
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_json(req, 200, json_pack("{s:{s:s,s:s,s:n,s:s}}", "console",
                                               "instance_uuid", id, "host", host, "port",
                                               "internal_access_path", path));
}
