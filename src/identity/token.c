/* token.c - token payloads, validation with a cache, and revocation.
 *
 * A token is a Fernet message carrying a compact binary payload: version,
 * methods, scope type, user id, scope id, issued (µs), expires (µs), audit
 * id, optional parent audit id and application credential id. Ids that are
 * uuid4 hex travel as 16 raw bytes. Nothing is stored per token.
 *
 * Validation resolves a token against the database (user, scope, effective
 * roles) and keeps the result in a cache keyed by the token string and the
 * identity revision (bumped by every identity write, including revocation),
 * so a repeated validation costs a hash lookup. Entries also expire after
 * [token] cache_time seconds, which bounds staleness when several
 * processes share one PostgreSQL database. */
#include "token.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAYLOAD_VERSION 1
#define CACHE_BUCKETS 4096
#define CACHE_PER_BUCKET 4

/* ---- payload ---- */

static size_t
pack_id(unsigned char *p, const char *id)
{
    if (!id) {
        p[0] = 0;
        return 1;
    }
    if (is_hex32(id)) {
        p[0] = 1;
        for (int i = 0; i < 16; i++) {
            unsigned v;
            sscanf(id + 2 * i, "%2x", &v);
            p[1 + i] = (unsigned char)v;
        }
        return 17;
    }
    size_t n = strlen(id);
    if (n > 255)
        n = 255;
    p[0] = 2;
    p[1] = (unsigned char)n;
    memcpy(p + 2, id, n);
    return n + 2;
}

/* Reads an id at p (len bytes left); returns bytes used or 0 if malformed. */
static size_t
unpack_id(const unsigned char *p, size_t len, struct arena *a, const char **out)
{
    if (len < 1)
        return 0;
    if (p[0] == 0) {
        *out = NULL;
        return 1;
    }
    if (p[0] == 1 && len >= 17) {
        char *s = arena_alloc(a, 33);
        hex_encode(p + 1, 16, s);
        *out = s;
        return 17;
    }
    if (p[0] == 2 && len >= 2 && len >= 2u + p[1]) {
        *out = arena_strndup(a, (const char *)p + 2, p[1]);
        return 2u + p[1];
    }
    return 0;
}

static void
put64(unsigned char *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
}

static int64_t
get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* audit ids are 16 random bytes shown as 22 base64url characters */
static size_t
pack_audit(unsigned char *p, const char *audit)
{
    unsigned char raw[24];
    if (!audit || strlen(audit) != 22 || b64url_decode(audit, 22, raw) != 16) {
        p[0] = 0;
        return 1;
    }
    p[0] = 1;
    memcpy(p + 1, raw, 16);
    return 17;
}

static size_t
unpack_audit(const unsigned char *p, size_t len, struct arena *a, const char **out)
{
    if (len < 1)
        return 0;
    if (p[0] == 0) {
        *out = NULL;
        return 1;
    }
    if (len < 17)
        return 0;
    char *s = arena_alloc(a, 24);
    b64url_encode(p + 1, 16, s);
    *out = s;
    return 17;
}

char *
tok_encode(const struct tok *t)
{
    unsigned char p[700];
    size_t n = 0;
    p[n++] = PAYLOAD_VERSION;
    p[n++] = (unsigned char)t->methods;
    p[n++] = (unsigned char)t->scope;
    n += pack_id(p + n, t->ctx.user_id);
    n += pack_id(p + n, t->scope_id);
    put64(p + n, t->ctx.issued_us);
    put64(p + n + 8, t->ctx.expires_us);
    n += 16;
    n += pack_audit(p + n, t->ctx.audit_id);
    n += pack_audit(p + n, t->parent_audit);
    n += pack_id(p + n, t->ctx.app_cred_id);
    return fernet_encrypt(p, n);
}

int
tok_decode(const char *token, struct arena *a, struct tok *t)
{
    unsigned char p[800];
    long len = fernet_decrypt(token, p, sizeof(p), NULL);
    if (len < 3 || p[0] != PAYLOAD_VERSION)
        return -1;
    size_t n = 3, u, left = (size_t)len;
    memset(t, 0, sizeof(*t));
    t->methods = p[1];
    t->scope = p[2];
    if (t->scope > IDN_SCOPE_SYSTEM)
        return -1;
    if (!(u = unpack_id(p + n, left - n, a, &t->ctx.user_id)) || !t->ctx.user_id)
        return -1;
    n += u;
    if (!(u = unpack_id(p + n, left - n, a, &t->scope_id)))
        return -1;
    n += u;
    if (left - n < 16)
        return -1;
    t->ctx.issued_us = get64(p + n);
    t->ctx.expires_us = get64(p + n + 8);
    n += 16;
    if (!(u = unpack_audit(p + n, left - n, a, &t->ctx.audit_id)))
        return -1;
    n += u;
    if (!(u = unpack_audit(p + n, left - n, a, &t->parent_audit)))
        return -1;
    n += u;
    if (!(u = unpack_id(p + n, left - n, a, &t->ctx.app_cred_id)))
        return -1;
    t->ctx.token = arena_strdup(a, token);
    return 0;
}

/* ---- revocation ---- */

struct revent {
    const char *user_id, *project_id, *domain_id, *audit_id;
    int64_t issued_before;
};

/* Events of the live-token window, reloaded when the revision moves. */
static struct {
    pthread_mutex_t lock;
    uint64_t rev;
    struct arena *arena;
    struct revent *ev;
    int n;
} revs = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t
token_lifetime_us(void)
{
    return cfg_int("token", "expiration", 3600) * 1000000;
}

int
idn_revoke(struct db *db, const char *user_id, const char *project_id,
           const char *domain_id, const char *audit_id)
{
    char id[33];
    uuid_hex(id);
    int64_t now = now_us();
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO revocation_event (id, user_id, project_id, domain_id, "
                     "audit_id, issued_before, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     "sssssii", id, user_id, project_id, domain_id, audit_id, now, now);
    if (rc == DB_OK)
        /* events older than any live token can never match again */
        db_exec(db, NULL, NULL, "DELETE FROM revocation_event WHERE revoked_at < ?", "i",
                now - token_lifetime_us() - 3600LL * 1000000);
    idn_bump();
    return rc;
}

static int
load_revocations(struct db *db)
{
    uint64_t rev = idn_revision();
    if (revs.arena && revs.rev == rev)
        return 0;
    struct arena *a = arena_new();
    struct db_res *r;
    int rc = db_exec(db, a, &r,
                     "SELECT user_id, project_id, domain_id, audit_id, issued_before "
                     "FROM revocation_event WHERE issued_before >= ?",
                     "i", now_us() - token_lifetime_us());
    if (rc != DB_OK) {
        arena_free(a);
        return -1;
    }
    struct revent *ev = arena_alloc(a, sizeof(*ev) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        ev[i].user_id = db_val(r, i, 0);
        ev[i].project_id = db_val(r, i, 1);
        ev[i].domain_id = db_val(r, i, 2);
        ev[i].audit_id = db_val(r, i, 3);
        ev[i].issued_before = db_int(r, i, 4);
    }
    arena_free(revs.arena);
    revs.arena = a;
    revs.ev = ev;
    revs.n = r->nrows;
    revs.rev = rev;
    return 0;
}

static bool
eq_or_any(const char *ev, const char *v)
{
    return !ev || (v && !strcmp(ev, v));
}

bool
tok_revoked(struct http_req *req, const struct tok *t)
{
    struct db *db = req_db(req);
    bool hit = false;
    pthread_mutex_lock(&revs.lock);
    if (!db || load_revocations(db) < 0) {
        /* cannot tell: refuse rather than accept a possibly revoked token */
        pthread_mutex_unlock(&revs.lock);
        return true;
    }
    for (int i = 0; i < revs.n && !hit; i++) {
        const struct revent *e = &revs.ev[i];
        if (t->ctx.issued_us > e->issued_before)
            continue;
        bool dom = !e->domain_id || eq_or_any(e->domain_id, t->ctx.user_domain_id) ||
                   eq_or_any(e->domain_id, t->ctx.project_domain_id) ||
                   eq_or_any(e->domain_id, t->ctx.domain_id);
        bool audit = !e->audit_id || eq_or_any(e->audit_id, t->ctx.audit_id) ||
                     eq_or_any(e->audit_id, t->parent_audit);
        hit = eq_or_any(e->user_id, t->ctx.user_id) &&
              eq_or_any(e->project_id, t->ctx.project_id) && dom && audit;
    }
    pthread_mutex_unlock(&revs.lock);
    return hit;
}

/* ---- resolution ---- */

/* Keystone (without insecure_debug) never tells a client why it is not
 * authenticated; the reason goes to the log with the request id. */
static int
unauthorized(struct http_req *req, const char *why)
{
    if (why)
        log_info(req->request_id, "auth: %s", why);
    return req_fail(req, 401, IDN_GENERIC_401);
}

/* name of a domain that must be enabled; NULL (and 401) otherwise */
static const char *
enabled_domain_name(struct http_req *req, struct db *db, struct arena *a, const char *id)
{
    struct db_res *r;
    if (db_exec(db, a, &r, "SELECT name, enabled FROM project WHERE id = ? AND is_domain = 1",
                "s", id) != DB_OK || r->nrows == 0 || !db_bool(r, 0, 1)) {
        unauthorized(req, NULL);
        return NULL;
    }
    return db_val(r, 0, 0);
}

int
tok_resolve(struct http_req *req, struct arena *a, struct tok *t)
{
    struct db *db = idn_db(req);
    struct db_res *r;
    if (!db)
        return -1;
    struct auth_ctx *c = &t->ctx;
    if (db_exec(db, a, &r,
                "SELECT u.name, u.domain_id, u.enabled, u.options, (SELECT p.expires_at "
                "FROM password p WHERE p.user_id = u.id ORDER BY p.created_at DESC LIMIT 1) "
                "FROM users u WHERE u.id = ?", "s", c->user_id) != DB_OK ||
        r->nrows == 0 || !db_bool(r, 0, 2))
        return unauthorized(req, NULL);
    c->user_name = db_val(r, 0, 0);
    c->user_domain_id = db_val(r, 0, 1);
    t->pw_expires_us = db_int(r, 0, 4);
    json_t *opts = idn_json_text(db_val(r, 0, 3));
    t->user_ignores_expiry = json_is_true(json_object_get(opts, "ignore_password_expiry"));
    json_decref(opts);
    if (!(c->user_domain_name = enabled_domain_name(req, db, a, c->user_domain_id)))
        return -1;

    if (t->scope == IDN_SCOPE_PROJECT) {
        if (db_exec(db, a, &r,
                    "SELECT name, domain_id, enabled FROM project WHERE id = ? AND "
                    "is_domain = 0", "s", t->scope_id) != DB_OK ||
            r->nrows == 0 || !db_bool(r, 0, 2))
            return unauthorized(req, NULL);
        c->project_id = t->scope_id;
        c->project_name = db_val(r, 0, 0);
        c->project_domain_id = db_val(r, 0, 1);
        if (!(c->project_domain_name = enabled_domain_name(req, db, a, c->project_domain_id)))
            return -1;
    } else if (t->scope == IDN_SCOPE_DOMAIN) {
        c->domain_id = t->scope_id;
        if (!(c->domain_name = enabled_domain_name(req, db, a, t->scope_id)))
            return -1;
    } else if (t->scope == IDN_SCOPE_SYSTEM) {
        c->system = true;
    }
    if (t->scope == IDN_SCOPE_NONE)
        goto done;

    struct idn_role_ref *roles;
    int n = idn_effective_roles(req, c->user_id, t->scope,
                                t->scope == IDN_SCOPE_SYSTEM ? "system" : t->scope_id, &roles);
    if (n < 0)
        return -1;
    if (c->app_cred_id) {
        /* an application credential carries a subset of its user's roles;
         * it dies when it expires or the user loses one of them */
        if (db_exec(db, a, &r,
                    "SELECT ac.name, ac.unrestricted, ac.expires_at, ac.project_id, "
                    "acr.role_id FROM application_credential ac LEFT JOIN "
                    "application_credential_role acr ON acr.application_credential_id = "
                    "ac.id WHERE ac.id = ? AND ac.user_id = ?",
                    "ss", c->app_cred_id, c->user_id) != DB_OK || r->nrows == 0)
            return unauthorized(req, NULL);
        int64_t exp = db_int(r, 0, 2);
        if ((exp && exp <= now_us()) || !db_val(r, 0, 3) ||
            strcmp(db_val(r, 0, 3), t->scope_id ? t->scope_id : ""))
            return unauthorized(req, NULL);
        t->app_cred_name = db_val(r, 0, 0);
        t->app_cred_restricted = !db_bool(r, 0, 1);
        const char *ids[AUTH_MAX_ROLES];
        int k = 0;
        for (int i = 0; i < r->nrows && k < AUTH_MAX_ROLES; i++) {
            const char *rid = db_val(r, i, 4);
            bool held = false;
            for (int j = 0; j < n && !held; j++)
                held = rid && !strcmp(roles[j].id, rid);
            if (!held)
                return unauthorized(req, NULL);
            ids[k++] = rid;
        }
        k = idn_expand_implied(req, ids, k, AUTH_MAX_ROLES);
        int m = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < k; i++)
                if (!strcmp(roles[j].id, ids[i])) {
                    roles[m++] = roles[j];
                    break;
                }
        n = m;
    }
    if (n == 0)
        return unauthorized(req, t->scope == IDN_SCOPE_PROJECT
                                     ? arena_printf(req->arena,
                                                    "User %s has no access to project %s",
                                                    c->user_id, t->scope_id)
                                     : NULL);
    /* roles come in the request's arena; t may outlive the request (cache) */
    for (int i = 0; i < n && i < AUTH_MAX_ROLES; i++) {
        c->role_ids[i] = arena_strdup(a, roles[i].id);
        c->role_names[i] = arena_strdup(a, roles[i].name);
        c->nroles = i + 1;
    }
done:
    c->valid = true;
    return 0;
}

/* ---- rendering ---- */

static json_t *
iso(int64_t us)
{
    char ts[40];
    time_iso(us, ts, sizeof(ts));
    return json_string(ts);
}

json_t *
tok_view(struct http_req *req, const struct tok *t, bool with_catalog)
{
    const struct auth_ctx *c = &t->ctx;
    json_t *methods = json_array();
    static const char *names[] = {"password", "token", "application_credential"};
    for (int i = 0; i < 3; i++)
        if (t->methods & (1u << i))
            json_array_append_new(methods, json_string(names[i]));
    json_t *audit = json_pack("[s]", c->audit_id);
    if (t->parent_audit)
        json_array_append_new(audit, json_string(t->parent_audit));
    json_t *user = json_pack("{s:{s:s,s:s},s:s,s:s,s:n}", "domain", "id", c->user_domain_id,
                             "name", c->user_domain_name, "id", c->user_id, "name",
                             c->user_name, "password_expires_at");
    if (t->pw_expires_us) {
        char ts[40];
        time_iso(t->pw_expires_us, ts, sizeof(ts));
        json_object_set_new(user, "password_expires_at", json_string(ts));
    }
    json_t *tok = json_pack("{s:o,s:o,s:o,s:o,s:o}", "methods", methods, "user", user,
                            "audit_ids", audit, "expires_at", iso(c->expires_us), "issued_at",
                            iso(c->issued_us));
    if (t->scope == IDN_SCOPE_PROJECT) {
        json_object_set_new(tok, "project",
                            json_pack("{s:{s:s,s:s},s:s,s:s}", "domain", "id",
                                      c->project_domain_id, "name", c->project_domain_name,
                                      "id", c->project_id, "name", c->project_name));
        json_object_set_new(tok, "is_domain", json_false());
    } else if (t->scope == IDN_SCOPE_DOMAIN) {
        json_object_set_new(tok, "domain", json_pack("{s:s,s:s}", "id", c->domain_id, "name",
                                                     c->domain_name));
    } else if (t->scope == IDN_SCOPE_SYSTEM) {
        json_object_set_new(tok, "system", json_pack("{s:b}", "all", 1));
    }
    if (t->scope != IDN_SCOPE_NONE) {
        json_t *roles = json_array();
        for (int i = 0; i < c->nroles; i++)
            json_array_append_new(roles, json_pack("{s:s,s:s}", "id", c->role_ids[i], "name",
                                                   c->role_names[i]));
        json_object_set_new(tok, "roles", roles);
        if (with_catalog) {
            json_t *cat = idn_catalog_scoped(req, c->user_id, c->project_id);
            json_object_set_new(tok, "catalog", cat ? cat : json_array());
        }
    }
    if (c->app_cred_id)
        json_object_set_new(tok, "application_credential",
                            json_pack("{s:s,s:s,s:b}", "id", c->app_cred_id, "name",
                                      t->app_cred_name ? t->app_cred_name : "", "restricted",
                                      t->app_cred_restricted));
    return json_pack("{s:o}", "token", tok);
}

/* ---- validation cache ---- */

struct centry {
    struct centry *next;
    _Atomic int refs;
    _Atomic(char *) rendered[2];
    uint64_t rev;
    int64_t cached_us;
    struct arena *arena;        /* owns key and everything tok points at */
    const char *key;
    struct tok tok;
};

static struct {
    pthread_mutex_t locks[64];
    struct centry *buckets[CACHE_BUCKETS];
} cache;

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_init(void)
{
    for (int i = 0; i < 64; i++)
        pthread_mutex_init(&cache.locks[i], NULL);
}

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void
centry_unref(void *p)
{
    struct centry *e = p;
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        free(e->rendered[0]);
        free(e->rendered[1]);
        arena_free(e->arena);
        free(e);
    }
}

/* Cached entry for token if fresh, with a reference held by req. */
static struct centry *
cache_get(struct http_req *req, const char *token, uint32_t h)
{
    uint64_t rev = idn_revision();
    int64_t ttl = cfg_int("token", "cache_time", 300) * 1000000;
    pthread_mutex_t *l = &cache.locks[h % 64];
    struct centry *hit = NULL;
    pthread_mutex_lock(l);
    for (struct centry *e = cache.buckets[h % CACHE_BUCKETS]; e; e = e->next)
        if (!strcmp(e->key, token)) {
            if (e->rev == rev && mono_us() - e->cached_us < ttl) {
                hit = e;
                atomic_fetch_add(&hit->refs, 1);
            }
            break;
        }
    pthread_mutex_unlock(l);
    if (hit)
        arena_on_release(req->arena, centry_unref, hit);
    return hit;
}

/* Inserts e (the cache takes one reference), replacing an older entry for
 * the same token and dropping the oldest beyond the bucket's capacity. */
static void
cache_put(struct centry *e, uint32_t h)
{
    pthread_mutex_t *l = &cache.locks[h % 64];
    struct centry *drop[CACHE_PER_BUCKET + 2];
    int nd = 0;
    pthread_mutex_lock(l);
    struct centry **pp = &cache.buckets[h % CACHE_BUCKETS];
    e->next = *pp;
    *pp = e;
    int n = 1;
    for (pp = &e->next; *pp;) {
        struct centry *x = *pp;
        if (!strcmp(x->key, e->key) || ++n > CACHE_PER_BUCKET) {
            *pp = x->next;
            if (nd < (int)(sizeof(drop) / sizeof(drop[0])))
                drop[nd++] = x;
            else
                centry_unref(x);
            continue;
        }
        pp = &x->next;
    }
    pthread_mutex_unlock(l);
    for (int i = 0; i < nd; i++)
        centry_unref(drop[i]);
}

int
tok_validate(struct http_req *req, const char *token, const struct tok **out)
{
    pthread_once(&cache_once, cache_init);
    fernet_refresh();   /* a rotation must reach cached tokens too */
    uint32_t h = fnv1a(token);
    struct centry *e = cache_get(req, token, h);
    if (e) {
        if (e->tok.ctx.expires_us <= now_us())
            return -1;
        *out = &e->tok;
        return 0;
    }
    e = xcalloc(1, sizeof(*e));
    e->arena = arena_new();
    e->refs = 1;
    e->rev = idn_revision();    /* read before the DB, so a racing write wins */
    e->cached_us = mono_us();
    e->key = arena_strdup(e->arena, token);
    int rc = -1;
    if (tok_decode(token, e->arena, &e->tok) == 0 && e->tok.ctx.expires_us > now_us()) {
        e->tok.rendered = e->rendered;
        /* resolution failures are recorded on a scratch copy of the failure
         * state: an invalid token is a plain -1 to the caller */
        int saved = req->fail_status;
        rc = tok_resolve(req, e->arena, &e->tok);
        if (rc == 0 && tok_revoked(req, &e->tok))
            rc = -1;
        if (req->fail_status != 500 && req->fail_status != 503)
            req->fail_status = saved;
    }
    if (rc < 0) {
        centry_unref(e);
        return -1;
    }
    atomic_fetch_add(&e->refs, 1);
    cache_put(e, h);
    arena_on_release(req->arena, centry_unref, e);
    *out = &e->tok;
    return 0;
}

const char *
tok_body(struct http_req *req, const struct tok *t, bool with_catalog)
{
    char *s = t->rendered ? atomic_load(&t->rendered[with_catalog]) : NULL;
    if (s)
        return s;
    json_t *v = tok_view(req, t, with_catalog);
    s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s)
        return NULL;
    if (!t->rendered) {
        const char *r = arena_strdup(req->arena, s);
        free(s);
        return r;
    }
    /* first renderer wins; a loser frees its copy */
    char *expected = NULL;
    if (!atomic_compare_exchange_strong(&t->rendered[with_catalog], &expected, s)) {
        free(s);
        s = expected;
    }
    return s;
}

int
idn_validate_token(struct http_req *req, const char *token, struct auth_ctx *out)
{
    const struct tok *t;
    if (tok_validate(req, token, &t) < 0)
        return -1;
    *out = t->ctx;
    return 0;
}
