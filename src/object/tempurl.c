/* tempurl.c - Swift's TempURL: a request without a token is let in when
 * its query carries temp_url_sig, an HMAC of "<METHOD>\n<expires>\n<path>"
 * under one of the account's (X-Account-Meta-Temp-URL-Key, -Key-2) or the
 * container's keys, and temp_url_expires is still ahead. The signature is
 * hex (sha1: 40 digits, sha256: 64) or "<digest>:<base64>" for sha1,
 * sha256 and sha512. A prefix URL (temp_url_prefix) signs
 * "prefix:/v1/<account>/<container>/<prefix>" and covers every object
 * whose name starts with it. Any failure is Swift's plain 401. */
#include "object_int.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Swift's answer to every bad temp URL: no hint of what was wrong */
static int
invalid(struct http_req *req)
{
    return obj__fail_text(req, 401, "401 Unauthorized: Temp URL invalid\n");
}

/* temp_url_expires: unix seconds, or ISO 8601 "2030-01-02T03:04:05Z".
 * 0 when neither. */
static int64_t
parse_expires(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end != v && !*end)
        return n;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!rest || *rest)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Decodes the signature into raw bytes and names its digest (Swift's
 * extract_digest_and_algorithm). -1 when the form is not one Swift
 * accepts. */
static int
decode_sig(const char *sig, const EVP_MD **md, unsigned char raw[EVP_MAX_MD_SIZE],
           size_t *rawlen)
{
    const char *colon = strchr(sig, ':');
    if (colon) {
        size_t al = (size_t)(colon - sig), n = strlen(colon + 1);
        if (al == 4 && !strncmp(sig, "sha1", 4))
            *md = EVP_sha1();
        else if (al == 6 && !strncmp(sig, "sha256", 6))
            *md = EVP_sha256();
        else if (al == 6 && !strncmp(sig, "sha512", 6))
            *md = EVP_sha512();
        else
            return -1;
        /* standard or URL-safe alphabet, padding optional: the core's
         * decoder takes both */
        unsigned char tmp[256];
        long k = n > 200 ? -1 : b64url_decode(colon + 1, n, tmp);
        if (k < 0 || (size_t)k > EVP_MAX_MD_SIZE)
            return -1;
        memcpy(raw, tmp, (size_t)k);
        *rawlen = (size_t)k;
        return 0;
    }
    size_t n = strlen(sig);
    *md = n == 40 ? EVP_sha1() : n == 64 ? EVP_sha256() : n == 128 ? EVP_sha512() : NULL;
    /* Swift compares the lower-case hexdigest as a string */
    if (!*md || strspn(sig, "0123456789abcdef") != n)
        return -1;
    for (size_t i = 0; i < n; i += 2)
        raw[i / 2] = (unsigned char)(obj__hexval(sig[i]) * 16 + obj__hexval(sig[i + 1]));
    *rawlen = n / 2;
    return 0;
}

bool
obj__sig_ok(const char *sig, const char *const *keys, int nkeys, const char *const *bodies,
            int nbodies, int *key)
{
    const EVP_MD *md;
    unsigned char want[EVP_MAX_MD_SIZE];
    size_t wlen;
    if (!sig || decode_sig(sig, &md, want, &wlen) < 0 || wlen != (size_t)EVP_MD_size(md))
        return false;
    for (int k = 0; k < nkeys; k++) {
        for (int b = 0; b < nbodies; b++) {
            unsigned char got[EVP_MAX_MD_SIZE];
            unsigned int glen = 0;
            HMAC(md, keys[k], (int)strlen(keys[k]), (const unsigned char *)bodies[b],
                 strlen(bodies[b]), got, &glen);
            if (glen == wlen && !CRYPTO_memcmp(got, want, wlen)) {
                if (key)
                    *key = k;
                return true;
            }
        }
    }
    return false;
}

/* Appends the temp-url-key and temp-url-key-2 values of a metadata JSON
 * text to keys[] (at most 4 in all). */
static void
meta_keys(const char *meta, const char **keys, bool *scope_account, int *n, bool account,
          struct arena *a)
{
    static const char *const names[2] = {"temp-url-key", "temp-url-key-2"};
    const char *v[2];
    obj__meta_values(a, meta, names, 2, v);
    for (int i = 0; i < 2 && *n < 4; i++) {
        if (v[i] && *v[i]) {
            keys[*n] = v[i];
            scope_account[*n] = account;
            (*n)++;
        }
    }
}

int
obj__tempurl_keys(struct http_req *req, const char *account, const char *container,
                  const char *keys[4], bool scope[4], int *nkeys, struct obj_container *c,
                  bool *have_c)
{
    struct db *db = obj__db(req);
    const char *ameta = NULL;
    *nkeys = 0;
    *have_c = false;
    if (!db)
        return -1;
    int rc = obj_db_account_meta(db, req->arena, account, &ameta);
    if (rc)
        return obj__db_fail(req, rc);
    meta_keys(ameta, keys, scope, nkeys, true, req->arena);
    rc = obj_db_container_get(db, req->arena, account, container, c);
    if (rc && rc != -ENOENT)
        return obj__db_fail(req, rc);
    *have_c = rc == 0;
    if (*have_c)
        meta_keys(c->meta, keys, scope, nkeys, false, req->arena);
    return 0;
}

int
obj__tempurl(struct http_req *req, const char *container, struct obj_access *x)
{
    const char *sig = http_query(req, "temp_url_sig");
    const char *exps = http_query(req, "temp_url_expires");
    const char *prefix = http_query(req, "temp_url_prefix");
    const char *object = http_param(req, "object");
    const char *m = req->method_name;
    int64_t expires = exps ? parse_expires(exps) : 0;
    if (expires < now_us() / 1000000)
        expires = 0;
    if (!sig || !*sig || !expires)
        return invalid(req);
    if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "PUT") && strcmp(m, "POST") &&
        strcmp(m, "DELETE"))
        return invalid(req);
    if (prefix && strncmp(object, prefix, strlen(prefix)))
        return invalid(req);

    const char *keys[4];
    bool scope_account[4], have_c;
    int nkeys = 0, key;
    if (obj__tempurl_keys(req, x->account, container, keys, scope_account, &nkeys, &x->c,
                          &have_c) < 0)
        return -1;

    /* the path as a client behind our /object-store prefix signs it, and
     * as Swift itself (PATH_INFO from /v1) does: both name this object; a
     * HEAD may use a URL made for any method */
    static const char *const head_methods[] = {"HEAD", "GET", "POST", "PUT"};
    const char *const *methods = !strcmp(m, "HEAD") ? head_methods : &m;
    int nmethods = !strcmp(m, "HEAD") ? 4 : 1, nbodies = 0;
    const char *bodies[8];
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < nmethods; i++)
            bodies[nbodies++] = arena_printf(
                req->arena, "%s\n%lld\n%s%s/v1/%s/%s/%s", methods[i], (long long)expires,
                prefix ? "prefix:" : "", p ? "" : req->svc->prefix, x->account, container,
                prefix ? prefix : object);
    if (!obj__sig_ok(sig, keys, nkeys, bodies, nbodies, &key))
        return invalid(req);
    x->tu_account_scope = scope_account[key];
    if (!have_c)
        return obj__db_fail(req, -ENOENT);
    x->tempurl = true;
    x->tu_expires = expires;
    x->tu_filename = http_query(req, "filename");
    x->tu_inline = http_query(req, "inline") != NULL;
    return 0;
}

/* Python's urllib.parse.quote: every byte but letters, digits, "_.-~"
 * and those in safe as %XX */
static const char *
quote(struct arena *a, const char *s, const char *safe)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, n * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_.-~", *p) || strchr(safe, *p)) {
            *o++ = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *
obj__quote(struct arena *a, const char *s)
{
    return quote(a, s, "/");
}

/* Content-Disposition with both the plain and the RFC 5987 filename */
static const char *
disposition(struct arena *a, const char *type, const char *name)
{
    return arena_printf(a, "%s; filename=\"%s\"; filename*=UTF-8''%s", type,
                        quote(a, name, " /"), quote(a, name, "/"));
}

void
obj__tempurl_headers(struct http_req *req, const struct obj_access *x, const char *object)
{
    const char *v;
    if (x->tu_inline)
        v = x->tu_filename ? disposition(req->arena, "inline", x->tu_filename) : "inline";
    else if (x->tu_filename)
        v = disposition(req->arena, "attachment", x->tu_filename);
    else {
        /* the last segment of the object name, trailing slashes aside */
        size_t n = strlen(object);
        while (n && object[n - 1] == '/')
            n--;
        const char *base = object;
        for (size_t i = 0; i < n; i++)
            if (object[i] == '/')
                base = object + i + 1;
        v = disposition(req->arena, "attachment",
                        arena_strndup(req->arena, base, n - (size_t)(base - object)));
    }
    http_header(req, "Content-Disposition", v);
    http_header(req, "Expires", obj__http_date(req, x->tu_expires * 1000000));
}
