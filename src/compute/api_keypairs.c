/* api_keypairs.c - key pairs (/os-keypairs): import a public key or have
 * one generated (until 2.92), types ssh and x509 (2.2), another user's
 * pairs for admins (2.10), paging (2.35), with Nova's bodies, statuses
 * and messages per microversion. Key material is in keygen.c. */
#include "compute_int.h"
#include "cp_db.h"
#include "keygen.h"
#include "core/arena.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The user whose key pairs a call is about: from 2.10 an admin may name
 * another one (query or body user_id), else the caller. */
static const char *
target_user(struct http_req *req, const char *given)
{
    return given && cmp__mv(req, 2, 10) ? given : req->auth.user_id;
}

/* Nova's name rules: 1-255 of letters, digits, '-', '_' and spaces, plus
 * '@' and '.' from 2.92. */
static int
check_name(struct http_req *req, json_t *v)
{
    const char *ok = cmp__mv(req, 2, 92)
        ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ @."
        : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ";
    if (!v)
        return cmp__invalid(req, "keypair", NULL, "'name' is a required property");
    if (!json_is_string(v))
        return cmp__invalid(req, "name", v, arena_printf(req->arena, "%s is not of type "
                                                         "'string'", cmp__repr(req, v)));
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (!n || n > 255 || strspn(s, ok) != n)
        return cmp__invalid(req, "name", v, cmp__mv(req, 2, 92)
                            ? "The 'name' must be 1-255 characters of letters, digits, "
                              "hyphens, underscores, spaces, '@' and '.'."
                            : "The 'name' must be 1-255 characters of letters, digits, "
                              "hyphens, underscores and spaces.");
    return 0;
}

static json_t *
keypair_json(struct http_req *req, const struct cmp_keypair *k, bool full)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", k->name, "public_key", k->public_key,
                          "fingerprint", k->fingerprint);
    if (full) {
        json_object_set_new(o, "user_id", json_string(k->user_id));
        json_object_set_new(o, "created_at", json_string(cmp__time(req, k->created_us)));
        json_object_set_new(o, "updated_at", json_null());
        json_object_set_new(o, "deleted_at", json_null());
        json_object_set_new(o, "deleted", json_false());
        json_object_set_new(o, "id", json_integer(k->id));
    }
    if (cmp__mv(req, 2, 2))
        json_object_set_new(o, "type", json_string(k->type));
    return o;
}

static const char *const create_keys[] = {"name", "public_key", "type", "user_id", NULL};

/* Reads the create body into k; *generate tells whether to make the key.
 * 0, or Nova's 400 and -1. */
static int
parse_create(struct http_req *req, json_t *body, struct cmp_keypair *k, bool *generate)
{
    json_t *o = json_object_get(body, "keypair"), *v;
    const char *key;
    if (!json_is_object(o))
        return cmp__invalid(req, "keypair", o, o ? "is not of type 'object'"
                                                 : "'keypair' is a required property");
    json_object_foreach(o, key, v) {
        int i = 0;
        while (create_keys[i] && strcmp(create_keys[i], key))
            i++;
        if (!create_keys[i] || (i == 2 && !cmp__mv(req, 2, 2)) ||
            (i == 3 && !cmp__mv(req, 2, 10)))
            return req_fail(req, 400, "Invalid input for field/attribute keypair. Value: %s. "
                            "Additional properties are not allowed ('%s' was unexpected)",
                            cmp__repr(req, o), key);
    }
    if (check_name(req, json_object_get(o, "name")) < 0)
        return -1;
    k->name = json_string_value(json_object_get(o, "name"));
    k->type = "ssh";
    if ((v = json_object_get(o, "type"))) {
        if (!json_is_string(v) || (strcmp(json_string_value(v), "ssh") &&
                                   strcmp(json_string_value(v), "x509")))
            return cmp__invalid(req, "type", v, arena_printf(req->arena, "%s is not one of "
                                                             "['ssh', 'x509']",
                                                             cmp__repr(req, v)));
        k->type = json_string_value(v);
    }
    if ((v = json_object_get(o, "user_id")) &&
        (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 255))
        return cmp__invalid(req, "user_id", v, "is not a valid user id");
    k->user_id = target_user(req, v ? json_string_value(v) : NULL);
    v = json_object_get(o, "public_key");
    if (!v && cmp__mv(req, 2, 92))
        return cmp__invalid(req, "keypair", o, "'public_key' is a required property");
    if (v && (!json_is_string(v) || strlen(json_string_value(v)) > 65535))
        return cmp__invalid(req, "public_key", v, "is not of type 'string'");
    *generate = !v;
    k->public_key = v ? json_string_value(v) : NULL;
    return 0;
}

int
cmp__keypair_create(struct http_req *req)
{
    struct cmp_keypair k = {0};
    bool generate = false;
    char *priv = NULL, *pub = NULL, fp[CMP_FP_MAX] = "";
    json_t *body;
    if (!(body = cmp__body(req)) || parse_create(req, body, &k, &generate) < 0 ||
        cmp__policy(req, "os_compute_api:os-keypairs:create", k.user_id, NULL) < 0)
        return -1;
    if (generate) {
        /* an x509 pair is a key and its self-signed certificate */
        if ((!strcmp(k.type, "x509") ? cmp_key_generate_x509(k.user_id, &priv, &pub)
                                     : cmp_key_generate(&priv, &pub)) < 0)
            return req_fail(req, 500, "key generation failed");
        k.public_key = arena_strdup(req->arena, pub);
        free(pub);
        /* the private key goes out once and is never stored */
        const char *p = arena_strdup(req->arena, priv);
        free(priv);
        priv = (char *)p;
    }
    int rc = !strcmp(k.type, "x509") ? cmp_key_fingerprint_x509(k.public_key, fp)
                                     : cmp_key_fingerprint_ssh(k.public_key, fp);
    if (rc < 0)
        return req_fail(req, 400, "Keypair data is invalid: failed to generate fingerprint");
    k.fingerprint = fp;
    k.created_us = now_us();
    if (!cmp__db(req))
        return -1;
    rc = cmp_db_keypair_create(req->db, req->arena, &k, CMP_QUOTA_KEYPAIRS);
    if (rc == -EDQUOT)
        return req_fail(req, 403, "Quota exceeded, too many key pairs.");
    if (rc == -EEXIST)
        return req_fail(req, 409, "Key pair '%s' already exists.", k.name);
    if (rc)
        return cmp__db_fail(req, rc);
    json_t *o = keypair_json(req, &k, false);
    json_object_set_new(o, "user_id", json_string(k.user_id));
    if (priv)
        json_object_set_new(o, "private_key", json_string(priv));
    return http_reply_json(req, cmp__mv(req, 2, 2) ? 201 : 200,
                           json_pack("{s:o}", "keypair", o));
}

int
cmp__keypairs_list(struct http_req *req)
{
    const char *user = target_user(req, http_query(req, "user_id"));
    const char *marker = cmp__mv(req, 2, 35) ? http_query(req, "marker") : NULL;
    int64_t limit = 1000000;
    if ((cmp__mv(req, 2, 35) && http_query(req, "limit") && cmp__limit(req, &limit) < 0) ||
        cmp__policy(req, "os_compute_api:os-keypairs:index", user, NULL) < 0 || !cmp__db(req))
        return -1;
    struct cmp_keypair *ks;
    int n, rc = cmp_db_keypair_list(req->db, req->arena, user, &ks, &n);
    if (rc)
        return cmp__db_fail(req, rc);
    int start = 0;
    if (marker) {
        while (start < n && strcmp(ks[start].name, marker))
            start++;
        if (start == n)
            return req_fail(req, 400, "Marker %s could not be found.", marker);
        start++;
    }
    json_t *arr = json_array();
    int shown = 0;
    for (int i = start; i < n && shown < limit; i++, shown++)
        json_array_append_new(arr, json_pack("{s:o}", "keypair",
                                             keypair_json(req, &ks[i], false)));
    json_t *body = json_pack("{s:o}", "keypairs", arr);
    if (cmp__mv(req, 2, 35) && http_query(req, "limit") && shown && shown == limit) {
        const char *u = http_query(req, "user_id");
        json_object_set_new(body, "keypairs_links", json_pack(
            "[{s:s,s:s}]", "rel", "next", "href",
            arena_printf(req->arena, "%s/os-keypairs?limit=%lld&marker=%s%s%s", cmp__url(req),
                         (long long)limit, ks[start + shown - 1].name, u ? "&user_id=" : "",
                         u ? u : "")));
    }
    return http_reply_json(req, 200, body);
}

/* Loads key pair {name} of the target user after the policy check. */
static int
find(struct http_req *req, const char *action, struct cmp_keypair *k)
{
    const char *name = http_param(req, "name");
    const char *user = target_user(req, http_query(req, "user_id"));
    if (cmp__policy(req, action, user, NULL) < 0 || !cmp__db(req))
        return -1;
    int rc = cmp_db_keypair_get(req->db, req->arena, user, name, k);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Keypair %s not found for user %s", name, user);
    return rc ? cmp__db_fail(req, rc) : 0;
}

int
cmp__keypair_show(struct http_req *req)
{
    struct cmp_keypair k;
    if (find(req, "os_compute_api:os-keypairs:show", &k) < 0)
        return -1;
    return http_reply_json(req, 200, json_pack("{s:o}", "keypair", keypair_json(req, &k, true)));
}

int
cmp__keypair_delete(struct http_req *req)
{
    struct cmp_keypair k;
    if (find(req, "os_compute_api:os-keypairs:delete", &k) < 0)
        return -1;
    int rc = cmp_db_keypair_delete(req->db, k.user_id, k.name);
    if (rc == -ENOENT)
        return req_fail(req, 404, "Keypair %s not found for user %s", k.name, k.user_id);
    if (rc)
        return cmp__db_fail(req, rc);
    return http_reply_empty(req, cmp__mv(req, 2, 2) ? 204 : 202);
}
