/* token.h - what a token says, resolved: shared by token.c (payload,
 * validation cache, revocation) and api_auth.c (the /v3/auth API). */
#ifndef IDENTITY_TOKEN_H
#define IDENTITY_TOKEN_H

#include "identity.h"

enum { TOK_PASSWORD = 1, TOK_TOKEN = 2, TOK_APPCRED = 4 };

struct tok {
    struct auth_ctx ctx;        /* user, scope, roles, audit id, times */
    unsigned methods;           /* TOK_* bits */
    enum idn_scope scope;
    const char *scope_id;       /* project or domain id */
    const char *parent_audit;   /* audit id of the token this one came from */
    const char *app_cred_name;
    bool app_cred_restricted;
    int64_t pw_expires_us;      /* 0 = never */
    bool user_ignores_expiry;
    /* rendered {"token": ...} bodies [without, with catalog] of a cached
     * token, filled on first use; NULL for tokens outside the cache */
    _Atomic(char *) *rendered;
};

/* Fills t's names, roles and flags from its ids (user, scope, app cred),
 * checking that everything is still enabled, unexpired and that a scoped
 * token has roles. Strings go into a. Returns 0, or -1 with the reason
 * recorded on req as a 401 (or 500). */
int tok_resolve(struct http_req *req, struct arena *a, struct tok *t);
/* Decrypts token and reads its payload into t (ids only; nothing is
 * checked against the database). Strings go into a. Returns 0 or -1. */
int tok_decode(const char *token, struct arena *a, struct tok *t);
/* Mints the Fernet token string for t (malloc'd; caller frees). */
char *tok_encode(const struct tok *t);
/* The Keystone token body {"token": {...}} for t, with the catalog when
 * with_catalog; a new reference. */
json_t *tok_view(struct http_req *req, const struct tok *t, bool with_catalog);
/* Validates token (cache first) and points *out at the resolved token,
 * which stays valid until req ends. Returns 0 or -1 (nothing recorded on
 * req unless the database failed). */
int tok_validate(struct http_req *req, const char *token, const struct tok **out);
/* The JSON body of t for GET /v3/auth/tokens, rendered once per cached
 * token; returned string is valid until req ends. */
const char *tok_body(struct http_req *req, const struct tok *t, bool with_catalog);
/* true when a revocation event matches t. */
bool tok_revoked(struct http_req *req, const struct tok *t);

#endif
