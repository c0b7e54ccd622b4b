/* api_classes.c - resource classes (standard and CUSTOM_*) and traits
 * (standard and CUSTOM_*). Standard names are fixed (pl_std.c) and can be
 * neither changed nor deleted. */
#include "pl_int.h"
#include "core/arena.h"
#include "core/jv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_t *
rc_view(struct http_req *req, const char *name)
{
    json_t *l = json_pack("[{s:s,s:s}]", "rel", "self", "href",
                          arena_printf(req->arena, PLC_PREFIX "/resource_classes/%s", name));
    return json_pack("{s:s,s:o}", "name", name, "links", l);
}

int
plc__rc_list(struct http_req *req)
{
    const char **custom;
    int n;
    if (plc__start(req, "placement:resource_classes:list") < 0)
        return -1;
    if (plc_db_custom_list(req->db, req->arena, "rc", &custom, &n))
        return plc__dbfail(req);
    json_t *l = json_array();
    for (int i = 0; plc_std_rcs[i]; i++)
        json_array_append_new(l, rc_view(req, plc_std_rcs[i]));
    for (int i = 0; i < n; i++)
        json_array_append_new(l, rc_view(req, custom[i]));
    return http_reply_json(req, 200, json_pack("{s:o}", "resource_classes", l));
}

static int
bad_name(struct http_req *req, const char *name)
{
    return plc__schema(req, "'%s' does not match '^CUSTOM_[A-Z0-9_]+$'", name);
}

int
plc__rc_create(struct http_req *req)
{
    json_t *b, *v;
    const char *k;
    if (plc__start_at(req, "placement:resource_classes:create", 2) < 0 ||
        !(b = plc__body(req)))
        return -1;
    if (!json_is_object(b))
        return plc__schema(req, "%s is not of type 'object'", jv_repr(req, b));
    json_object_foreach(b, k, v) if (strcmp(k, "name"))
        return plc__schema(req, "Additional properties are not allowed ('%s' was unexpected)",
                           k);
    if (!(v = json_object_get(b, "name")))
        return plc__schema(req, "'name' is a required property");
    if (!json_is_string(v))
        return plc__schema(req, "%s is not of type 'string'", jv_repr(req, v));
    const char *name = json_string_value(v);
    if (!plc__custom_name(name))
        return bad_name(req, name);
    int rc = plc_db_custom_add(req->db, "rc", name);
    if (rc == -EEXIST)
        return plc__fail(req, 409, NULL, "Conflicting resource class already exists: %s", name);
    if (rc)
        return plc__dbfail(req);
    plc__location(req, arena_printf(req->arena, "/resource_classes/%s", name));
    return http_reply_empty(req, 201);
}

int
plc__rc_show(struct http_req *req)
{
    const char *name = http_param(req, "name");
    if (plc__start(req, "placement:resource_classes:show") < 0)
        return -1;
    int rc = plc__rc_exists(req, name);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No such resource class %s.", name);
    return rc ? plc__dbfail(req) : http_reply_json(req, 200, rc_view(req, name));
}

/* 1.2-1.6: rename a custom class ({"name": new}); 1.7+: make sure the
 * class exists (201 when created, 204 when it was there). */
int
plc__rc_put(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_classes:update", 2);
    const char *name = http_param(req, "name");
    if (mv < 0)
        return -1;
    if (mv >= 7) {
        if (!plc__custom_name(name))
            return bad_name(req, name);
        int rc = plc_db_custom_add(req->db, "rc", name);
        if (rc == -EEXIST)
            return http_reply_empty(req, 204);
        if (rc)
            return plc__dbfail(req);
        plc__location(req, arena_printf(req->arena, "/resource_classes/%s", name));
        return http_reply_empty(req, 201);
    }
    json_t *b = plc__body(req), *v;
    if (!b)
        return -1;
    if (!json_is_object(b) || !(v = json_object_get(b, "name")) || !json_is_string(v))
        return plc__schema(req, "'name' is a required property");
    const char *to = json_string_value(v);
    if (!plc__custom_name(to))
        return bad_name(req, to);
    if (plc__std_rc(name))
        return plc__fail(req, 400, NULL, "Cannot update standard resource class %s", name);
    int rc = plc_db_begin(req->db);
    if (rc == DB_OK)
        rc = plc_db_rc_rename(req->db, req->arena, name, to);
    rc = db_end(req->db, rc);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No such resource class %s.", name);
    if (rc == -EEXIST)
        return plc__fail(req, 409, NULL, "Resource class already exists: %s", to);
    return rc ? plc__dbfail(req) : http_reply_json(req, 200, rc_view(req, to));
}

int
plc__rc_delete(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:resource_classes:delete", 2);
    const char *name = http_param(req, "name");
    if (mv < 0)
        return -1;
    if (plc__std_rc(name))
        return plc__fail(req, 400, NULL, "Cannot delete standard resource class %s: Cannot "
                         "delete standard resource class %s", name, name);
    int rc = plc_db_begin(req->db);
    if (rc == DB_OK)
        rc = plc_db_custom_delete(req->db, req->arena, "rc", name);
    rc = db_end(req->db, rc);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No such resource class %s.", name);
    if (rc == -EBUSY)
        return plc__fail(req, 409, NULL, "Unable to delete resource class %s. Delete all "
                         "inventory and allocations for this resource class first.", name);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}

/* ---- traits ---- */

static bool
in_names(const char *const *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i], s))
            return true;
    return false;
}

/* GET /traits?name=startswith:X|in:A,B&associated=true|false */
int
plc__trait_list(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:traits:list", 6);
    if (mv < 0)
        return -1;
    static const char *const q[] = {"name", "associated", NULL};
    if (plc__query_only(req, q) < 0)
        return -1;
    const char *nf = http_query(req, "name"), *as = http_query(req, "associated");
    const char *prefix = NULL, **in = NULL, **custom, **used = NULL;
    int nin = 0, nc, nused = 0;
    if (nf && !strncmp(nf, "startswith:", 11)) {
        prefix = nf + 11;
    } else if (nf && !strncmp(nf, "in:", 3)) {
        char *copy = arena_strdup(req->arena, nf + 3), *save = NULL;
        in = arena_alloc(req->arena, sizeof(char *) * (strlen(nf) + 1));
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            in[nin++] = t;
    } else if (nf) {
        return plc__fail(req, 400, NULL, "Badly formatted name parameter. Expected name query "
                         "string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. "
                         "Got: \"%s\"", nf);
    }
    if (as && strcmp(as, "true") && strcmp(as, "false"))
        return plc__fail(req, 400, NULL, "Invalid query string parameters: '%s' is not one of "
                         "['true', 'false']", as);
    if (plc_db_custom_list(req->db, req->arena, "trait", &custom, &nc) ||
        (as && plc_db_traits_used(req->db, req->arena, &used, &nused)))
        return plc__dbfail(req);
    json_t *l = json_array();
    for (int pass = 0; pass < 2; pass++) {
        const char *const *src = pass ? custom : plc_std_traits;
        for (int i = 0; pass ? i < nc : src[i] != NULL; i++) {
            const char *t = src[i];
            if ((prefix && strncmp(t, prefix, strlen(prefix))) || (in && !in_names(in, nin, t)))
                continue;
            if (as && in_names(used, nused, t) != !strcmp(as, "true"))
                continue;
            json_array_append_new(l, json_string(t));
        }
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "traits", l));
}

int
plc__trait_show(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:traits:show", 6);
    const char *name = http_param(req, "name");
    if (mv < 0)
        return -1;
    if (plc__std_trait(name))
        return http_reply_empty(req, 204);
    int rc = plc_db_custom_exists(req->db, req->arena, "trait", name);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No such trait(s): %s", name);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}

int
plc__trait_put(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:traits:update", 6);
    const char *name = http_param(req, "name");
    if (mv < 0)
        return -1;
    if (plc__std_trait(name))
        return http_reply_empty(req, 204);
    if (!plc__custom_name(name))
        return plc__fail(req, 400, NULL, "The trait is invalid. A valid trait must be no "
                         "longer than 255 characters, start with the prefix \"CUSTOM_\" and use "
                         "following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"");
    int rc = plc_db_custom_add(req->db, "trait", name);
    plc__location(req, arena_printf(req->arena, "/traits/%s", name));
    if (rc == -EEXIST)
        return http_reply_empty(req, 204);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 201);
}

int
plc__trait_delete(struct http_req *req)
{
    int mv = plc__start_at(req, "placement:traits:delete", 6);
    const char *name = http_param(req, "name");
    if (mv < 0)
        return -1;
    if (plc__std_trait(name))
        return plc__fail(req, 400, NULL, "Cannot delete standard trait %s.", name);
    int rc = plc_db_begin(req->db);
    if (rc == DB_OK)
        rc = plc_db_custom_delete(req->db, req->arena, "trait", name);
    rc = db_end(req->db, rc);
    if (rc == -ENOENT)
        return plc__fail(req, 404, NULL, "No such trait(s): %s", name);
    if (rc == -EBUSY)
        return plc__fail(req, 409, NULL, "The trait %s is in use by a resource provider.",
                         name);
    return rc ? plc__dbfail(req) : http_reply_empty(req, 204);
}
