/* policy.h - RBAC: an action name ("identity:create_user") maps to a set of
 * conditions, any of which allows the call. Each service owns one table of
 * its defaults (Keystone's, Nova's ...); the engine here knows no service.
 *
 * The conditions model the oslo.policy defaults of OpenStack Zed with
 * enforce_scope = false, where each new scoped rule is OR'ed with the
 * deprecated one (usually "role:admin"), so a project admin stays cloud
 * admin exactly as in a stock deployment. */
#ifndef CORE_POLICY_H
#define CORE_POLICY_H

struct http_req;

enum {
    P_ANY = 1 << 0,             /* any valid token */
    P_ADMIN = 1 << 1,           /* role:admin in any scope */
    P_SYS_READER = 1 << 2,      /* system scope with role reader */
    P_SYS_ADMIN = 1 << 3,       /* system scope with role admin */
    P_DOM_READER = 1 << 4,      /* domain scope == target domain, role reader */
    P_DOM_ADMIN = 1 << 5,       /* domain scope == target domain, role admin */
    P_OWNER = 1 << 6,           /* caller's user id == target user id */
    P_PROJECT = 1 << 7,         /* caller's project == target project */
    P_PROJECT_DOMAIN = 1 << 8,  /* caller's project's domain == target domain */
    P_PROJECT_READER = 1 << 9,  /* caller's project == target project, role reader */
    P_PROJECT_MEMBER = 1 << 10, /* caller's project == target project, role member */
};

struct policy_rule {
    const char *action;
    unsigned allow;
};

struct policy_target {
    const char *user_id;
    const char *project_id;
    const char *domain_id;
};

/* Adds a table of rules (must outlive the process). */
void policy_register(const struct policy_rule *rules, int n);
/* 0 when req->auth satisfies action for target (t may be NULL), else
 * records a 403 on req and returns -1. An action with no rule is denied
 * unless the caller is admin (fail closed). */
int policy_enforce(struct http_req *req, const char *action, const struct policy_target *t);
/* Same check without recording a failure; 1 allowed, 0 denied. */
int policy_check(struct http_req *req, const char *action, const struct policy_target *t);

#endif
