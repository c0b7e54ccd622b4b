/* assign.c - who holds which role where: the effective roles that go into
 * a token, implied-role expansion, and GET /v3/role_assignments.
 *
 * Effective roles (Keystone's get_roles_for_user_and_project and friends)
 * run on every token issue and validation that misses the cache, so they
 * are one SQL statement: recursive CTEs walk the project's ancestors, the
 * user's groups and the implied-role graph inside the database, and C only
 * sorts the answer. The role-assignment listing is an admin call; it favours
 * Keystone's exact output (links, "indirect" expansion of groups,
 * inheritance and implied roles) over speed, but still issues a fixed
 * number of queries whatever the size of the answer.
 *
 * Not here: grants (api_roles.c) and the schema (schema.c). */
#include "identity.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- effective roles ---- */

/* The tail every scope shares: expand the direct role ids with the
 * implied-role graph (UNION, not UNION ALL, so a cycle in the graph ends
 * the recursion), then keep global roles only, because Keystone strips
 * domain-specific roles from tokens once they have done their job of
 * implying global ones.
 *
 * The CROSS JOINs pin SQLite's join order (PostgreSQL treats them as
 * plain joins): left free, SQLite scans role and re-runs the recursive
 * CTEs for every row, 100 times slower (3 ms instead of 30 us). */
#define EFF_TAIL                                                                        \
    " eff(role_id) AS (SELECT role_id FROM direct UNION SELECT i.implied_role_id FROM " \
    "implied_role i JOIN eff ON i.prior_role_id = eff.role_id) "                        \
    "SELECT r.id, r.name FROM eff CROSS JOIN role r WHERE r.id = eff.role_id "          \
    "AND r.domain_id = '" IDN_NULL_DOMAIN "'"

/* Assignments of the user (type User*) or of one of the user's groups
 * (type Group*); the two ? are the user id. */
#define EFF_ACTOR(utypes, gtypes)                                                      \
    "((a.type IN (" utypes ") AND a.actor_id = ?) OR (a.type IN (" gtypes ") AND "      \
    "a.actor_id IN (SELECT group_id FROM user_group WHERE user_id = ?)))"

/* Project scope: the project itself (depth 0) takes non-inherited grants;
 * every ancestor, the domain included (top-level projects have the domain
 * as parent), passes down its inherited ones. depth < 100 guards against a
 * corrupt parent cycle. */
static const char eff_project_sql[] =
    "WITH RECURSIVE anc(id, parent_id, depth) AS ("
    "SELECT id, parent_id, 0 FROM project WHERE id = ? AND is_domain = 0 "
    "UNION ALL SELECT p.id, p.parent_id, anc.depth + 1 FROM project p "
    "JOIN anc ON p.id = anc.parent_id WHERE anc.depth < 100), "
    "direct(role_id) AS (SELECT a.role_id FROM anc CROSS JOIN assignment a WHERE "
    "a.target_id = anc.id AND ((anc.depth = 0 AND a.inherited = 0) OR "
    "(anc.depth > 0 AND a.inherited = 1)) AND "
    EFF_ACTOR("'UserProject', 'UserDomain'", "'GroupProject', 'GroupDomain'") "),"
    EFF_TAIL;

/* Domain scope: only non-inherited grants on the domain itself (inherited
 * ones are for the projects below it). */
static const char eff_domain_sql[] =
    "WITH RECURSIVE direct(role_id) AS (SELECT a.role_id FROM assignment a "
    "WHERE a.target_id = ? AND a.inherited = 0 AND "
    EFF_ACTOR("'UserDomain'", "'GroupDomain'") "),"
    EFF_TAIL;

static const char eff_system_sql[] =
    "WITH RECURSIVE direct(role_id) AS (SELECT a.role_id FROM assignment a "
    "WHERE a.target_id = ? AND a.inherited = 0 AND "
    EFF_ACTOR("'UserSystem'", "'GroupSystem'") "),"
    EFF_TAIL;

static int
ref_by_name(const void *a, const void *b)
{
    const struct idn_role_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

int
idn_effective_roles(struct http_req *req, const char *user_id, enum idn_scope scope,
                    const char *target_id, struct idn_role_ref **out)
{
    const char *sql;
    struct db_res *r;
    *out = NULL;
    switch (scope) {
    case IDN_SCOPE_PROJECT: sql = eff_project_sql; break;
    case IDN_SCOPE_DOMAIN: sql = eff_domain_sql; break;
    case IDN_SCOPE_SYSTEM: sql = eff_system_sql; target_id = "system"; break;
    default: return 0;
    }
    if (!user_id || !target_id)
        return 0;
    struct db *db = idn_db(req);
    if (!db)
        return -1;
    int rc = db_exec(db, req->arena, &r, sql, "sss", target_id, user_id, user_id);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "role assignment");
    struct idn_role_ref *v = arena_alloc(req->arena, sizeof(*v) * (size_t)(r->nrows + 1));
    for (int i = 0; i < r->nrows; i++) {
        v[i].id = db_val(r, i, 0);
        v[i].name = db_val(r, i, 1);
    }
    /* sorted here rather than by ORDER BY: SQLite and PostgreSQL collate
     * names differently and the order must not depend on the engine */
    qsort(v, (size_t)r->nrows, sizeof(*v), ref_by_name);
    *out = v;
    return r->nrows;
}

/* The implied-role graph, all of it: a handful of rows in any cloud. */
static int
load_implied(struct http_req *req, struct db *db, struct db_res **r)
{
    int rc = db_exec(db, req->arena, r,
                     "SELECT prior_role_id, implied_role_id FROM implied_role", NULL);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, "implied role");
}

int
idn_expand_implied(struct http_req *req, const char **ids, int n, int max)
{
    struct db_res *r;
    struct db *db = idn_db(req);
    if (!db || load_implied(req, db, &r) < 0)
        return n;
    /* breadth-first over the growing array: every id appended is itself
     * expanded later, and a duplicate is never appended, so cycles end */
    for (int k = 0; k < n; k++)
        for (int i = 0; i < r->nrows; i++) {
            if (strcmp(db_val(r, i, 0), ids[k]))
                continue;
            const char *imp = db_val(r, i, 1);
            bool have = false;
            for (int j = 0; j < n && !have; j++)
                have = !strcmp(ids[j], imp);
            if (!have && n < max)
                ids[n++] = imp;
        }
    return n;
}

/* ---- GET /v3/role_assignments ---- */

/* One assignment as Keystone's assignment manager hands it to its
 * formatter: a target (project, domain or the system), one actor, a role,
 * and where it came from when it is not a direct grant. */
struct ra {
    char kind;                  /* 'p' project, 'd' domain, 's' system */
    bool inherited;             /* an inherited grant, listed as such */
    const char *target, *user, *group, *role;
    const char *via_group;      /* effective: user is in this group */
    const char *via_project;    /* effective: inherited from this project */
    const char *via_domain;     /* effective: inherited from this domain */
    const char *via_role;       /* effective: implied by this role */
};

/* Ceiling on one answer: past it the caller must filter. */
#define RA_MAX 100000

struct ra_list {
    struct ra *v;
    int n, cap;
};

static int
ra_push(struct http_req *req, struct ra_list *l, const struct ra *x)
{
    if (l->n == RA_MAX)
        return req_fail(req, 400, "The role assignment list is too long; filter it by "
                                  "user, group, role or scope.");
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 64;
        struct ra *nv = arena_alloc(req->arena, sizeof(*nv) * (size_t)ncap);
        if (l->n)
            memcpy(nv, l->v, sizeof(*nv) * (size_t)l->n);
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = *x;
    return 0;
}

/* Turns an assignment row (type, actor_id, target_id, role_id, inherited)
 * into a struct ra. */
static void
ra_from_row(const struct db_res *r, int i, struct ra *x)
{
    const char *type = db_val(r, i, 0);
    memset(x, 0, sizeof(*x));
    if (type[0] == 'U')
        x->user = db_val(r, i, 1);
    else
        x->group = db_val(r, i, 1);
    x->kind = strstr(type, "Project") ? 'p' : strstr(type, "Domain") ? 'd' : 's';
    x->target = db_val(r, i, 2);
    x->role = db_val(r, i, 3);
    x->inherited = db_bool(r, i, 4);
}

/* A query whose WHERE clause grows with the filters given; db_exec reads
 * as many of the arguments as fmt has letters. */
#define QB_MAX 8
struct qb {
    const char *sql;
    const char *v[QB_MAX];
    char fmt[QB_MAX + 1];
    int n;
};

static void
qb_add(struct http_req *req, struct qb *q, const char *sql, const char *val)
{
    q->sql = arena_printf(req->arena, "%s%s", q->sql ? q->sql : "", sql);
    if (val && q->n < QB_MAX) {
        q->v[q->n] = val;
        q->fmt[q->n++] = 's';
    }
}

static int
qb_run(struct http_req *req, struct db *db, struct qb *q, struct db_res **r)
{
    const char **v = q->v;
    int rc = db_exec(db, req->arena, r, q->sql, q->fmt, v[0], v[1], v[2], v[3], v[4], v[5],
                     v[6], v[7]);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, "role assignment");
}

#define SYS_TYPES "('UserSystem', 'GroupSystem')"
#define RA_COLS "SELECT a.type, a.actor_id, a.target_id, a.role_id, a.inherited FROM assignment a"
/* The project (?) and, when the second ? is "100" rather than "0", every
 * project below it. */
#define SUBTREE_CTE                                                                      \
    "WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM project WHERE id = ? AND "     \
    "is_domain = 0 UNION ALL SELECT p.id, sub.depth + 1 FROM project p JOIN sub ON "    \
    "p.parent_id = sub.id WHERE p.is_domain = 0 AND sub.depth < CAST(? AS INTEGER)) "

/* The query filters, as given. */
struct ra_query {
    const char *user, *group, *role, *project, *domain;
    bool system, effective, names, subtree;
    int inherited;              /* -1 no filter, else 0/1 */
};

/* Keystone's query_filter_is_true: present and not "0" */
static bool
qtrue(struct http_req *req, const char *name)
{
    const char *v = http_query(req, name);
    return v && strcmp(v, "0");
}

/* Direct listing (_list_direct_role_assignments): the grants as stored.
 * System grants come along unless a project or domain filter excludes
 * them; the inherited filter does not apply to them (as in Keystone). */
static int
list_direct(struct http_req *req, struct db *db, const struct ra_query *f, struct ra_list *out)
{
    struct qb q = {0};
    struct db_res *r;
    if (f->project && f->subtree) {
        qb_add(req, &q, SUBTREE_CTE, f->project);
        qb_add(req, &q, "", "100");
    }
    qb_add(req, &q, RA_COLS " WHERE 1 = 1", NULL);
    if (f->role)
        qb_add(req, &q, " AND a.role_id = ?", f->role);
    if (f->user)
        qb_add(req, &q, " AND a.actor_id = ? AND a.type IN ('UserProject', 'UserDomain', "
                        "'UserSystem')", f->user);
    if (f->group)
        qb_add(req, &q, " AND a.actor_id = ? AND a.type IN ('GroupProject', 'GroupDomain', "
                        "'GroupSystem')", f->group);
    if (f->system)
        qb_add(req, &q, " AND a.type IN " SYS_TYPES, NULL);
    else if (f->project && f->subtree)
        qb_add(req, &q, " AND a.type IN ('UserProject', 'GroupProject') AND a.target_id IN "
                        "(SELECT id FROM sub)", NULL);
    else if (f->project)
        qb_add(req, &q, " AND a.type IN ('UserProject', 'GroupProject') AND a.target_id = ?",
               f->project);
    else if (f->domain)
        qb_add(req, &q, " AND a.type IN ('UserDomain', 'GroupDomain') AND a.target_id = ?",
               f->domain);
    if (f->inherited >= 0)
        qb_add(req, &q, " AND (a.inherited = ? OR a.type IN " SYS_TYPES ")",
               f->inherited ? "1" : "0");
    /* project and domain grants first, system ones last, as Keystone */
    qb_add(req, &q, " ORDER BY CASE WHEN a.type IN " SYS_TYPES " THEN 1 ELSE 0 END, "
                    "a.target_id, a.actor_id, a.role_id", NULL);
    if (qb_run(req, db, &q, &r) < 0)
        return -1;
    for (int i = 0; i < r->nrows; i++) {
        struct ra x;
        ra_from_row(r, i, &x);
        if (ra_push(req, out, &x) < 0)
            return -1;
    }
    return 0;
}

/* The project tree, loaded only when an inherited grant must be spread
 * over the projects below its target (OS-INHERIT grants are rare). */
struct tree {
    struct db_res *r;           /* id, parent_id, domain_id of every project */
};

static int
tree_load(struct http_req *req, struct db *db, struct tree *t)
{
    if (t->r)
        return 0;
    int rc = db_exec(db, req->arena, &t->r,
                     "SELECT id, parent_id, domain_id FROM project WHERE is_domain = 0", NULL);
    return rc == DB_OK ? 0 : idn_db_fail(req, rc, "project");
}

/* true when anc is a strict ancestor of row i's project (walking parents
 * within the tree; the domain is the parent of top-level projects) */
static bool
tree_below(const struct tree *t, int i, const char *anc)
{
    const char *p = db_val(t->r, i, 1);
    for (int depth = 0; p && depth < 100; depth++) {
        if (!strcmp(p, anc))
            return true;
        int k = -1;
        for (int j = 0; j < t->r->nrows && k < 0; j++)
            if (!strcmp(db_val(t->r, j, 0), p))
                k = j;
        p = k >= 0 ? db_val(t->r, k, 1) : NULL;
    }
    return false;
}

/* Members of group g: from the preloaded membership rows (group_id,
 * user_id), or just the filtered user when the listing is for one user. */
struct members {
    struct db_res *r;
    const char *only;
};

/* Appends x for every user x.group stands for (or x itself when it is a
 * user's), each placed on target project tp (NULL: x's own target). */
static int
spread(struct http_req *req, const struct members *m, const struct ra *x, const char *tp,
       struct ra_list *out)
{
    struct ra y = *x;
    if (tp) {
        /* an inherited grant shows up on each project it reaches, with
         * where it was granted kept aside for the link */
        if (x->kind == 'd')
            y.via_domain = x->target;
        else
            y.via_project = x->target;
        y.kind = 'p';
        y.target = tp;
        y.inherited = false;
    }
    if (!x->group)
        return ra_push(req, out, &y);
    y.via_group = x->group;
    y.group = NULL;
    if (m->only) {
        y.user = m->only;
        return ra_push(req, out, &y);
    }
    for (int i = 0; m->r && i < m->r->nrows; i++)
        if (!strcmp(db_val(m->r, i, 0), x->group)) {
            y.user = db_val(m->r, i, 1);
            if (ra_push(req, out, &y) < 0)
                return -1;
        }
    return 0;
}

/* Effective listing (_list_effective_role_assignments): group grants
 * become one entry per member, inherited grants one entry per project they
 * reach, implied roles are added and domain-specific roles dropped. System
 * grants are not part of it, as in Keystone. */
static int
list_effective(struct http_req *req, struct db *db, const struct ra_query *f,
               struct db_res *roles, struct ra_list *out)
{
    struct qb q = {0};
    struct db_res *r;
    struct idn_project proj;
    int inherited = f->domain ? 0 : f->inherited;
    if (f->project) {
        /* Keystone looks the project up to find its domain */
        if (idn_project_get(req, f->project, false, &proj) < 0)
            return -1;
        qb_add(req, &q, SUBTREE_CTE, f->project);
        qb_add(req, &q, "", f->subtree ? "100" : "0");
    }
    qb_add(req, &q, RA_COLS " WHERE a.type NOT IN " SYS_TYPES, NULL);
    if (f->user) {
        qb_add(req, &q, " AND ((a.type IN ('UserProject', 'UserDomain') AND a.actor_id = ?)",
               f->user);
        qb_add(req, &q, " OR (a.type IN ('GroupProject', 'GroupDomain') AND a.actor_id IN "
                        "(SELECT group_id FROM user_group WHERE user_id = ?)))", f->user);
    }
    if (inherited >= 0)
        qb_add(req, &q, " AND a.inherited = ?", inherited ? "1" : "0");
    if (f->domain)
        qb_add(req, &q, " AND a.type IN ('UserDomain', 'GroupDomain') AND a.target_id = ?",
               f->domain);
    if (f->project)
        qb_add(req, &q, " AND ((a.inherited = 0 AND a.type IN ('UserProject', "
                        "'GroupProject') AND a.target_id IN (SELECT id FROM sub)) OR "
                        "a.inherited = 1)", NULL);
    qb_add(req, &q, " ORDER BY a.target_id, a.actor_id, a.role_id", NULL);
    if (qb_run(req, db, &q, &r) < 0)
        return -1;

    struct members m = {.only = f->user};
    if (!f->user) {
        int rc = db_exec(db, req->arena, &m.r,
                         "SELECT group_id, user_id FROM user_group WHERE group_id IN "
                         "(SELECT actor_id FROM assignment WHERE type IN ('GroupProject', "
                         "'GroupDomain')) ORDER BY group_id, user_id", NULL);
        if (rc != DB_OK)
            return idn_db_fail(req, rc, "group membership");
    }
    struct tree t = {0};
    /* projects the listing is about: the filtered one and, with
     * include_subtree, those below it */
    struct db_res *subp = NULL;
    for (int i = 0; i < r->nrows; i++) {
        struct ra x;
        ra_from_row(r, i, &x);
        if (!x.inherited) {
            if (spread(req, &m, &x, NULL, out) < 0)
                return -1;
            continue;
        }
        if (tree_load(req, db, &t) < 0)
            return -1;
        if (f->project && f->subtree && !subp) {
            int rc = db_exec(db, req->arena, &subp, SUBTREE_CTE "SELECT id FROM sub", "ss",
                             f->project, "100");
            if (rc != DB_OK)
                return idn_db_fail(req, rc, "project");
        }
        for (int k = 0; k < t.r->nrows; k++) {
            const char *pid = db_val(t.r, k, 0);
            bool hit;
            if (!f->project) {
                /* domain grant: every project of the domain; project
                 * grant: every project below it */
                hit = x.kind == 'd' ? !strcmp(db_val(t.r, k, 2), x.target)
                                    : tree_below(&t, k, x.target);
            } else {
                bool wanted = !strcmp(pid, f->project);
                for (int s = 0; subp && !wanted && s < subp->nrows; s++)
                    wanted = !strcmp(db_val(subp, s, 0), pid);
                /* reaches a wanted project from its domain or from a
                 * parent of it */
                hit = wanted && (x.kind == 'd' ? !strcmp(x.target, proj.domain_id)
                                               : tree_below(&t, k, x.target));
            }
            if (hit && spread(req, &m, &x, pid, out) < 0)
                return -1;
        }
    }

    /* implied roles (add_implied_roles): each entry brings a copy per role
     * its role implies, recursively, remembering the prior role. An entry
     * is skipped when the same (role, prior) pair was already made from
     * the same base entry: Keystone's cycle guard. */
    struct db_res *imp;
    if (load_implied(req, db, &imp) < 0)
        return -1;
    int nbase = out->n;
    for (int b = 0; b < nbase && imp->nrows; b++) {
        /* work list: the base entry, then each copy made from it (they
         * are appended from index first on) */
        int first = out->n;
        for (int w = -1; w < 0 || first + w < out->n; w++) {
            int k = w < 0 ? b : first + w;
            for (int i = 0; i < imp->nrows; i++) {
                if (strcmp(db_val(imp, i, 0), out->v[k].role))
                    continue;
                struct ra y = out->v[k];
                y.via_role = y.role;
                y.role = db_val(imp, i, 1);
                bool seen = false;
                for (int j = first; j < out->n && !seen; j++)
                    seen = !strcmp(out->v[j].role, y.role) &&
                           !strcmp(out->v[j].via_role, y.via_role);
                if (!seen && ra_push(req, out, &y) < 0)
                    return -1;
            }
        }
    }

    /* domain-specific roles only imply; they never count themselves */
    int n = 0;
    for (int i = 0; i < out->n; i++) {
        bool global = false;
        for (int k = 0; k < roles->nrows && !global; k++)
            if (!strcmp(db_val(roles, k, 0), out->v[i].role))
                global = !strcmp(db_val(roles, k, 2), IDN_NULL_DOMAIN);
        if (global && (!f->role || !strcmp(out->v[i].role, f->role)))
            out->v[n++] = out->v[i];
    }
    out->n = n;
    return 0;
}

/* ---- names (include_names), looked up once per id ---- */

struct name {
    char kind;                  /* u user, g group, p project, d domain */
    const char *id, *name, *domain_id, *domain_name;
};

struct names {
    struct name *v;
    int n, cap;
};

/* Returns the cached entry for (kind, id), filling it on first use. A
 * missing user or group gets empty strings, as Keystone renders an
 * assignment whose actor is gone. NULL on a database failure. */
static const struct name *
name_of(struct http_req *req, struct db *db, struct names *c, char kind, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (c->v[i].kind == kind && !strcmp(c->v[i].id, id))
            return &c->v[i];
    static const char *const sql[] = {
        "SELECT u.name, u.domain_id, d.name FROM users u LEFT JOIN project d ON "
        "d.id = u.domain_id WHERE u.id = ?",
        "SELECT g.name, g.domain_id, d.name FROM groups g LEFT JOIN project d ON "
        "d.id = g.domain_id WHERE g.id = ?",
        "SELECT p.name, p.domain_id, d.name FROM project p LEFT JOIN project d ON "
        "d.id = p.domain_id WHERE p.id = ?",
        "SELECT name, NULL, NULL FROM project WHERE id = ?",
    };
    int k = kind == 'u' ? 0 : kind == 'g' ? 1 : kind == 'p' ? 2 : 3;
    struct db_res *r;
    int rc = db_exec(db, req->arena, &r, sql[k], "s", id);
    if (rc != DB_OK) {
        idn_db_fail(req, rc, "role assignment");
        return NULL;
    }
    if (c->n == c->cap) {
        int ncap = c->cap ? c->cap * 2 : 32;
        struct name *nv = arena_alloc(req->arena, sizeof(*nv) * (size_t)ncap);
        if (c->n)
            memcpy(nv, c->v, sizeof(*nv) * (size_t)c->n);
        c->v = nv;
        c->cap = ncap;
    }
    struct name *e = &c->v[c->n++];
    e->kind = kind;
    e->id = id;
    e->name = r->nrows && db_val(r, 0, 0) ? db_val(r, 0, 0) : "";
    e->domain_id = r->nrows && db_val(r, 0, 1) ? db_val(r, 0, 1) : "";
    e->domain_name = r->nrows && db_val(r, 0, 2) ? db_val(r, 0, 2) : "";
    return e;
}

/* {"id", "name", "domain": {"id", "name"}} for a user, group or project */
static json_t *
named(const struct name *e)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", e->id, "name", e->name, "domain", "id",
                     e->domain_id, "name", e->domain_name);
}

/* ---- rendering (Keystone's RoleAssignmentsResource._format_entity) ---- */

static json_t *
render(struct http_req *req, struct db *db, const struct ra *x, struct db_res *roles,
       struct names *nc, bool names)
{
    const struct name *e;
    json_t *o = json_object(), *links = json_object(), *scope;
    const char *link, *base = idn_base_url(req);
    bool inherited = x->inherited;

    if (x->kind == 'p') {
        if (names) {
            if (!(e = name_of(req, db, nc, 'p', x->target)))
                goto fail;
            scope = json_pack("{s:o}", "project", named(e));
        } else {
            scope = json_pack("{s:{s:s}}", "project", "id", x->target);
        }
        if (x->via_domain || x->via_project)
            inherited = true;
        link = x->via_domain ? arena_printf(req->arena, "/domains/%s", x->via_domain)
               : x->via_project ? arena_printf(req->arena, "/projects/%s", x->via_project)
                                : arena_printf(req->arena, "/projects/%s", x->target);
    } else if (x->kind == 'd') {
        if (names) {
            if (!(e = name_of(req, db, nc, 'd', x->target)))
                goto fail;
            scope = json_pack("{s:{s:s,s:s}}", "domain", "id", x->target, "name", e->name);
        } else {
            scope = json_pack("{s:{s:s}}", "domain", "id", x->target);
        }
        link = arena_printf(req->arena, "/domains/%s", x->target);
    } else {
        scope = json_pack("{s:{s:b}}", "system", "all", 1);
        link = "/system";
    }
    json_object_set_new(o, "scope", scope);

    if (x->user) {
        if (names) {
            if (!(e = name_of(req, db, nc, 'u', x->user)))
                goto fail;
            json_object_set_new(o, "user", named(e));
        } else {
            json_object_set_new(o, "user", json_pack("{s:s}", "id", x->user));
        }
        if (x->via_group) {
            json_object_set_new(links, "membership",
                                json_string(arena_printf(req->arena, "%s/v3/groups/%s/users/%s",
                                                         base, x->via_group, x->user)));
            link = arena_printf(req->arena, "%s/groups/%s", link, x->via_group);
        } else {
            link = arena_printf(req->arena, "%s/users/%s", link, x->user);
        }
    } else {
        if (names) {
            if (!(e = name_of(req, db, nc, 'g', x->group)))
                goto fail;
            json_object_set_new(o, "group", named(e));
        } else {
            json_object_set_new(o, "group", json_pack("{s:s}", "id", x->group));
        }
        link = arena_printf(req->arena, "%s/groups/%s", link, x->group);
    }

    json_t *role = json_pack("{s:s}", "id", x->role);
    for (int k = 0; names && roles && k < roles->nrows; k++) {
        if (strcmp(db_val(roles, k, 0), x->role))
            continue;
        json_object_set_new(role, "name", json_string(db_val(roles, k, 1)));
        const char *rd = db_val(roles, k, 2);
        if (rd && strcmp(rd, IDN_NULL_DOMAIN)) {
            if (!(e = name_of(req, db, nc, 'd', rd))) {
                json_decref(role);
                goto fail;
            }
            json_object_set_new(role, "domain", json_pack("{s:s,s:s}", "id", rd, "name",
                                                          e->name));
        }
    }
    json_object_set_new(o, "role", role);

    if (x->via_role) {
        link = arena_printf(req->arena, "%s/roles/%s", link, x->via_role);
        /* sic: Keystone names the implied role "prior" in this link */
        json_object_set_new(links, "prior_role",
                            json_string(arena_printf(req->arena, "%s/v3/prior_role/%s/implies/%s",
                                                     base, x->role, x->via_role)));
    } else {
        link = arena_printf(req->arena, "%s/roles/%s", link, x->role);
    }
    if (inherited) {
        json_object_set_new(scope, "OS-INHERIT:inherited_to", json_string("projects"));
        link = arena_printf(req->arena, "/OS-INHERIT%s/inherited_to_projects", link);
    }
    json_object_set_new(links, "assignment",
                        json_string(arena_printf(req->arena, "%s/v3%s", base, link)));
    json_object_set_new(o, "links", links);
    return o;
fail:
    json_decref(o);
    json_decref(links);
    return NULL;
}

/* A domain-scoped caller sees only assignments on its domain and on the
 * projects of its domain (RoleAssignmentsResource._list_role_assignments). */
static int
in_domain(struct http_req *req, struct db *db, struct names *nc, const struct ra *x,
          const char *dom)
{
    if (x->kind == 'd')
        return !strcmp(x->target, dom);
    if (x->kind != 'p')
        return 0;
    const struct name *e = name_of(req, db, nc, 'p', x->target);
    if (!e)
        return -1;
    return !strcmp(e->domain_id, dom);
}

int
idn_role_assignments(struct http_req *req)
{
    struct ra_query f = {
        .user = http_query(req, "user.id"),
        .group = http_query(req, "group.id"),
        .role = http_query(req, "role.id"),
        .project = http_query(req, "scope.project.id"),
        .domain = http_query(req, "scope.domain.id"),
        .effective = qtrue(req, "effective"),
        .names = qtrue(req, "include_names"),
        .subtree = qtrue(req, "include_subtree"),
        .inherited = -1,
    };
    const char *sys = http_query(req, "scope.system");
    const char *inh = http_query(req, "scope.OS-INHERIT:inherited_to");
    /* an empty filter value filters nothing (Keystone tests truthiness) */
    const char **empty[] = {&f.user, &f.group, &f.role, &f.project, &f.domain};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
        if (*empty[i] && !**empty[i])
            *empty[i] = NULL;
    f.system = sys && !strcmp(sys, "all");
    if (inh)
        f.inherited = !strcmp(inh, "projects");

    struct db *db = idn_db(req);
    if (!db)
        return -1;
    if (f.subtree) {
        struct idn_project p;
        struct policy_target t = {.project_id = f.project};
        if (f.project) {
            if (idn_project_get(req, f.project, false, &p) < 0)
                return -1;
            t.domain_id = p.domain_id;
        }
        if (policy_enforce(req, "identity:list_role_assignments_for_tree", &t) < 0)
            return -1;
        if (!f.project)
            return req_fail(req, 400, "scope.project.id must be specified if "
                                      "include_subtree is also specified");
    } else {
        struct policy_target t = {.domain_id = req->auth.domain_id};
        if (policy_enforce(req, "identity:list_role_assignments", &t) < 0)
            return -1;
    }
    /* the same checks, in the same order, as Keystone */
    if (f.domain && f.project)
        return req_fail(req, 400, "Specify a domain or project, not both");
    if (sys && *sys && f.domain)
        return req_fail(req, 400, "Specify system or domain, not both");
    if (sys && *sys && f.project)
        return req_fail(req, 400, "Specify system or project, not both");
    if (f.user && f.group)
        return req_fail(req, 400, "Specify a user or group, not both");
    if (f.effective && f.group)
        return req_fail(req, 400, "Combining effective and group filter will always result "
                                  "in an empty list.");
    if (f.effective && f.inherited == 1 && f.domain)
        return req_fail(req, 400, "Combining effective, domain and inherited filters will "
                                  "always result in an empty list.");

    struct db_res *roles = NULL;
    if (f.effective || f.names) {
        int rc = db_exec(db, req->arena, &roles, "SELECT id, name, domain_id FROM role", NULL);
        if (rc != DB_OK)
            return idn_db_fail(req, rc, "role");
    }
    struct ra_list l = {0};
    if (f.effective ? list_effective(req, db, &f, roles, &l) < 0
                    : list_direct(req, db, &f, &l) < 0)
        return -1;

    struct names nc = {0};
    const char *dom = req->auth.domain_id;
    json_t *arr = json_array();
    for (int i = 0; i < l.n; i++) {
        if (dom) {
            int in = in_domain(req, db, &nc, &l.v[i], dom);
            if (in < 0)
                goto fail;
            if (!in)
                continue;
        }
        json_t *o = render(req, db, &l.v[i], roles, &nc, f.names);
        if (!o)
            goto fail;
        json_array_append_new(arr, o);
    }
    return idn_reply_list(req, "role_assignments", arr);
fail:
    json_decref(arr);
    return -1;
}
