/* acl.c - who may do what to a container and its objects, as Swift's
 * keystoneauth middleware decides it: operator roles on the project own
 * its account; anyone else gets in only through the container's ACLs
 * (X-Container-Read / X-Container-Write: "<project>:<user>" grants with
 * '*' wildcards, role names, and for reads ".r:<referrer>" and
 * ".rlistings"). TempURL signatures are checked in tempurl.c. Denials are
 * 401 for an anonymous caller and 403 for an authenticated one. */
#include "object_int.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* fail_title marker: render the message itself as a text/plain body */
const char obj__text_body[] = "text";

int
obj__fail_text(struct http_req *req, int status, const char *msg)
{
    int rc = req_fail(req, status, "%s", msg);
    if (req->fail_status == status && req->fail_msg && !strcmp(req->fail_msg, msg))
        req->fail_title = obj__text_body;
    return rc;
}

bool
obj__is_reseller(struct http_req *req)
{
    const struct auth_ctx *a = &req->auth;
    const char *role = cfg_get("object", "reseller_admin_role", "ResellerAdmin");
    if (!a->valid)
        return false;
    /* keystoneauth compares role names lower-cased */
    for (int i = 0; i < a->nroles; i++)
        if (!strcasecmp(a->role_names[i], role))
            return true;
    return false;
}

bool
obj__is_owner(struct http_req *req, const char *account)
{
    const struct auth_ctx *a = &req->auth;
    if (!a->valid || !account || strncmp(account, "AUTH_", 5))
        return false;
    /* keystoneauth: operator roles on the project own its account; the
     * implied roles are in the list, so admin counts as member */
    if (a->project_id && !strcmp(account + 5, a->project_id) &&
        (auth_has_role(a, "member") || auth_has_role(a, "admin")))
        return true;
    /* and the reseller admin is given every account */
    return obj__is_reseller(req);
}

int
obj__deny(struct http_req *req)
{
    if (!req->auth.valid)
        return req_fail(req, 401, "The request you have made requires authentication.");
    return req_fail(req, 403, "Access was denied to this resource.");
}

/* The host of a Referer URL ("http://h.example.com:8/x" -> h.example.com)
 * into out; "" when there is none. */
static void
referer_host(const char *ref, char *out, size_t outlen)
{
    const char *p = ref ? strstr(ref, "://") : NULL;
    out[0] = '\0';
    if (!p)
        return;
    p += 3;
    const char *at = strchr(p, '@'), *end = p + strcspn(p, "/?#");
    if (at && at < end)
        p = at + 1;
    size_t n = strcspn(p, ":/?#");
    if (n >= outlen)
        return;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    out[n] = '\0';
}

/* true when a grant's side matches the id, or the name for entities of
 * the default domain (keystoneauth allows names only there, where they
 * cannot be ambiguous) */
static bool
side_matches(const char *g, size_t n, const char *id, const char *name, const char *domain)
{
    if (n == 1 && g[0] == '*')
        return true;
    if (id && strlen(id) == n && !strncmp(g, id, n))
        return true;
    return name && domain && !strcmp(domain, "default") && strlen(name) == n &&
           !strncmp(g, name, n);
}

/* Walks an ACL text. *user: a project:user grant or a role of the caller
 * matches; *referrer: the .r: rules allow the request's Referer (later
 * rules win, "-" negates, as Swift's referrer_allowed); *listings:
 * .rlistings is there. */
static void
acl_scan(struct http_req *req, const char *acl, bool *user, bool *referrer, bool *listings)
{
    const struct auth_ctx *a = &req->auth;
    char host[256];
    referer_host(http_header_in(req, "Referer"), host, sizeof(host));
    *user = *referrer = *listings = false;
    size_t n;
    for (const char *p = acl, *item, *colon; (item = obj__list_next(&p, ',', &n));) {
        if (!n)
            continue;
        if (n > 3 && !strncmp(item, ".r:", 3)) {
            bool neg = item[3] == '-';
            const char *v = item + 3 + neg;
            size_t vn = n - 3 - neg, hl = strlen(host);
            bool hit = (vn == 1 && *v == '*') ||
                       (*v == '.' && hl >= vn && !strncmp(host + hl - vn, v, vn)) ||
                       (hl == vn && !strncmp(host, v, vn));
            if (hit)
                *referrer = !neg;
        } else if (n == 10 && !strncmp(item, ".rlistings", 10)) {
            *listings = true;
        } else if (a->valid && (colon = memchr(item, ':', n))) {
            size_t pn = (size_t)(colon - item);
            if (side_matches(item, pn, a->project_id, a->project_name,
                             a->project_domain_id) &&
                side_matches(colon + 1, n - pn - 1, a->user_id, a->user_name,
                             a->user_domain_id))
                *user = true;
        } else if (a->valid) {
            for (int i = 0; i < a->nroles; i++)
                if (strlen(a->role_names[i]) == n &&
                    !strncasecmp(a->role_names[i], item, n))
                    *user = true;
        }
    }
}

/* true when the container's ACLs let the caller do op */
static bool
acl_allows(struct http_req *req, enum obj_op op, const struct obj_container *c)
{
    bool user, referrer, listings;
    if (op == OBJ_WRITE) {
        acl_scan(req, c->write_acl, &user, &referrer, &listings);
        return user;
    }
    acl_scan(req, c->read_acl, &user, &referrer, &listings);
    if (user)
        return true;
    return referrer && (op == OBJ_READ || listings);
}

int
obj__access(struct http_req *req, enum obj_op op, const char *container, struct obj_access *x)
{
    memset(x, 0, sizeof(*x));
    x->account = http_param(req, "account");
    if (!x->account || strncmp(x->account, "AUTH_", 5))
        return obj__deny(req);
    if (op != OBJ_LIST && http_param(req, "object") &&
        (http_query(req, "temp_url_sig") || http_query(req, "temp_url_expires")))
        return obj__tempurl(req, container, x);
    struct db *db = obj__db(req);
    if (!db)
        return -1;
    int rc = obj_db_container_get(db, req->arena, x->account, container, &x->c);
    if (rc && rc != -ENOENT)
        return obj__db_fail(req, rc);
    if (obj__is_owner(req, x->account)) {
        x->owner = true;
        return rc ? obj__db_fail(req, rc) : 0;
    }
    /* a missing container has no ACL: the same denial as a closed one, so
     * outsiders cannot probe for names */
    if (rc == 0 && acl_allows(req, op, &x->c))
        return 0;
    return obj__deny(req);
}

const char *
obj__acl_clean(struct http_req *req, const char *header, const char *value, bool write)
{
    struct buf out;
    const char *r = NULL;
    buf_init(&out, 8192);
    size_t n;
    for (const char *p = value, *item; (item = obj__list_next(&p, ',', &n));) {
        if (!n)
            continue;
        const char *colon = memchr(item, ':', n);
        const char *raw = arena_strndup(req->arena, item, n);
        if (colon && item[0] == '.') {
            /* a designator: Swift's clean_acl knows only the referrer one */
            size_t fn = (size_t)(colon - item);
            const char *first = arena_strndup(req->arena, item, fn);
            if (strcmp(first, ".r") && strcmp(first, ".ref") && strcmp(first, ".referer") &&
                strcmp(first, ".referrer")) {
                obj__fail_text(req, 400, arena_printf(req->arena,
                                                      "Unknown designator '%s' in ACL: '%s'",
                                                      first, raw));
                goto out;
            }
            if (write) {
                obj__fail_text(req, 400, arena_printf(req->arena,
                                                      "Referrers not allowed in write ACL: "
                                                      "'%s'", raw));
                goto out;
            }
            const char *v = colon + 1, *end = item + n;
            bool neg = false;
            while (v < end && *v == ' ')
                v++;
            if (v < end && *v == '-')
                neg = true, v++;
            while (v < end && *v == ' ')
                v++;
            if (end - v > 1 && *v == '*')
                v++;
            if (v == end || (end - v == 1 && *v == '.')) {
                obj__fail_text(req, 400, arena_printf(req->arena,
                                                      "No host/domain value after referrer "
                                                      "designation in ACL: '%s'", raw));
                goto out;
            }
            const char *norm = arena_printf(req->arena, ".r:%s%.*s", neg ? "-" : "",
                                            (int)(end - v), v);
            if (out.len)
                buf_append(&out, ",", 1);
            buf_append(&out, norm, strlen(norm));
            continue;
        }
        if (out.len)
            buf_append(&out, ",", 1);
        buf_append(&out, item, n);
    }
    if (out.toobig) {
        obj__fail_text(req, 400, arena_printf(req->arena, "%s too long", header));
        goto out;
    }
    r = out.len ? arena_strndup(req->arena, out.data, out.len) : "";
out:
    buf_release(&out);
    return r;
}
