/* policy.c - see policy.h. */
#include "policy.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_TABLES 16

static struct {
    const struct policy_rule *rules;
    int n;
} tables[POLICY_MAX_TABLES];
static int ntables;

void
policy_register(const struct policy_rule *rules, int n)
{
    if (ntables == POLICY_MAX_TABLES)
        abort();
    tables[ntables].rules = rules;
    tables[ntables].n = n;
    ntables++;
}

static const struct policy_rule *
find(const char *action)
{
    for (int t = 0; t < ntables; t++)
        for (int i = 0; i < tables[t].n; i++)
            if (!strcmp(tables[t].rules[i].action, action))
                return &tables[t].rules[i];
    return NULL;
}

static int
eq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

int
policy_check(struct http_req *req, const char *action, const struct policy_target *t)
{
    const struct auth_ctx *a = &req->auth;
    static const struct policy_target none;
    if (!t)
        t = &none;
    if (!a->valid)
        return 0;
    const struct policy_rule *r = find(action);
    unsigned allow = r ? r->allow : P_ADMIN;
    bool admin = auth_has_role(a, "admin");
    bool reader = auth_has_role(a, "reader");
    bool member = auth_has_role(a, "member");

    if ((allow & P_ANY) ||
        ((allow & P_ADMIN) && admin) ||
        ((allow & P_SYS_READER) && a->system && reader) ||
        ((allow & P_SYS_ADMIN) && a->system && admin) ||
        ((allow & P_DOM_READER) && eq(a->domain_id, t->domain_id) && reader) ||
        ((allow & P_DOM_ADMIN) && eq(a->domain_id, t->domain_id) && admin) ||
        ((allow & P_OWNER) && eq(a->user_id, t->user_id)) ||
        ((allow & P_PROJECT) && eq(a->project_id, t->project_id)) ||
        ((allow & P_PROJECT_DOMAIN) && eq(a->project_domain_id, t->domain_id)) ||
        ((allow & P_PROJECT_READER) && eq(a->project_id, t->project_id) && reader) ||
        ((allow & P_PROJECT_MEMBER) && eq(a->project_id, t->project_id) && member))
        return 1;
    return 0;
}

int
policy_enforce(struct http_req *req, const char *action, const struct policy_target *t)
{
    if (policy_check(req, action, t))
        return 0;
    return req_fail(req, 403, "You are not authorized to perform the requested action: %s.",
                    action);
}
