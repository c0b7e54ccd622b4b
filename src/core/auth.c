/* auth.c - see auth.h. */
#include "auth.h"
#include "arena.h"
#include "http.h"

#include <jansson.h>
#include <string.h>

static auth_validator validator;

void
auth_set_validator(auth_validator fn)
{
    validator = fn;
}

int
auth_validate(struct http_req *req, const char *token, struct auth_ctx *out)
{
    return validator ? validator(req, token, out) : -1;
}

bool
auth_has_role(const struct auth_ctx *a, const char *role)
{
    for (int i = 0; i < a->nroles; i++)
        if (!strcmp(a->role_names[i], role))
            return true;
    return false;
}

void
auth_reply_401(struct http_req *req, const char *msg)
{
    const char *host = http_header_in(req, "Host");
    http_header(req, "WWW-Authenticate",
                arena_printf(req->arena, "Keystone uri=\"http://%s/identity\"",
                             host ? host : "localhost"));
    http_reply_json(req, 401, json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 401, "title",
                                        "Unauthorized", "message", msg));
}
