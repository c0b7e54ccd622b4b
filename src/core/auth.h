/* auth.h - the request's identity (who calls, in which scope, with which
 * roles) and the hook through which the identity service validates tokens.
 * Every service's handlers read req->auth; only identity fills it. */
#ifndef CORE_AUTH_H
#define CORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct http_req;

#define AUTH_MAX_ROLES 32

struct auth_ctx {
    bool valid;
    const char *token;
    const char *user_id, *user_name, *user_domain_id, *user_domain_name;
    const char *project_id, *project_name, *project_domain_id, *project_domain_name;
    const char *domain_id, *domain_name;    /* domain scope */
    bool system;                            /* system scope (all) */
    const char *role_names[AUTH_MAX_ROLES]; /* effective, implied included */
    const char *role_ids[AUTH_MAX_ROLES];
    int nroles;
    const char *app_cred_id;
    const char *audit_id;
    int64_t expires_us;
    int64_t issued_us;
};

/* Validates token for req and fills out (strings in req->arena). Returns 0
 * for a valid token, -1 otherwise. Installed by the identity service. */
typedef int (*auth_validator)(struct http_req *req, const char *token,
                              struct auth_ctx *out);
void auth_set_validator(auth_validator fn);
/* Calls the installed validator; -1 when none is installed. */
int auth_validate(struct http_req *req, const char *token, struct auth_ctx *out);

/* true when the context carries the role (by name). */
bool auth_has_role(const struct auth_ctx *a, const char *role);

/* Answers req with the refusal keystonemiddleware gives in front of every
 * service but Keystone itself when the token is missing or bad: 401,
 * WWW-Authenticate naming the identity endpoint on the request's Host,
 * and Keystone's {"error": {code, title, message}} body with msg. */
void auth_reply_401(struct http_req *req, const char *msg);

#endif
