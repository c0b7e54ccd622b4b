/* compute_int.h - what the compute API files share: helpers in api.c
 * and the handlers each api_*.c file gives the route table. */
#ifndef COMPUTE_COMPUTE_INT_H
#define COMPUTE_COMPUTE_INT_H

#include "core/http.h"
#include "core/microversion.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The API level served: Nova 2.1 up to 2.92 (Zed's maximum is 2.93,
 * Yoga's 2.90; 2.92 is the last that still shapes key pairs). */
#define CMP_MV_MIN MV(2, 1)
#define CMP_MV_MAX MV(2, 92)

/* Absolute limits until os-quota-sets overrides them: Nova's defaults. */
#define CMP_QUOTA_KEYPAIRS 100

/* true when the request's microversion is at least major.minor */
#define cmp__mv(req, major, minor) ((req)->microversion >= MV(major, minor))

/* The request's database connection, or NULL with a 503 recorded. */
struct db *cmp__db(struct http_req *req);
/* Records a 500 naming the database failure rc; returns -1. */
int cmp__db_fail(struct http_req *req, int rc);
/* true when the caller holds role admin (Nova's context.is_admin). */
bool cmp__admin(struct http_req *req);
/* Checks policy action for the target user/project (either may be NULL);
 * 0, or a 403 in Nova's wording and -1. */
int cmp__policy(struct http_req *req, const char *action, const char *user_id,
                const char *project_id);
/* The JSON object of the body, owned by the request (freed with its
 * arena); NULL with Nova's 400 when the body is no JSON object. */
json_t *cmp__body(struct http_req *req);
/* Records Nova's schema validation 400 ("Invalid input for
 * field/attribute <field>. Value: <v>. <why>") and returns -1. */
int cmp__invalid(struct http_req *req, const char *field, json_t *v, const char *why);
/* Short JSON text of v for messages, in the request arena. */
const char *cmp__repr(struct http_req *req, json_t *v);
/* Base URLs for links: "http://host/compute/v2.1" and "http://host/compute"
 * (bookmark), in the request arena. */
const char *cmp__url(struct http_req *req);
const char *cmp__bookmark_url(struct http_req *req);
/* Nova's "links" of a resource: self and bookmark of <kind>/<id>. */
json_t *cmp__links(struct http_req *req, const char *kind, const char *id);
/* Reads a paging query parameter "limit" (non-negative integer, capped at
 * Nova's max_limit 1000; default 1000): 0 or Nova's 400 and -1. */
int cmp__limit(struct http_req *req, int64_t *out);
/* ISO time Nova shows ("2023-01-02T03:04:05.000000"), in the arena. */
const char *cmp__time(struct http_req *req, int64_t us);

/* api_flavors.c */
/* Loads flavor {flavor_id} if the caller may see it: admins see every
 * flavor, others the public ones and those shared with their project.
 * 0, or Nova's 404 and -1. f's strings are in the request arena. */
struct cmp_flavor;
int cmp__flavor_find(struct http_req *req, struct cmp_flavor *f);
/* The same for flavor id, with no failure recorded when it is not
 * found or not visible: -ENOENT. */
int cmp__flavor_get(struct http_req *req, const char *id, struct cmp_flavor *f);
int cmp__flavors_list(struct http_req *req);
int cmp__flavors_detail(struct http_req *req);
int cmp__flavor_show(struct http_req *req);
int cmp__flavor_create(struct http_req *req);
int cmp__flavor_update(struct http_req *req);
int cmp__flavor_delete(struct http_req *req);
/* api_flavor_extra.c */
int cmp__specs_list(struct http_req *req);
int cmp__specs_create(struct http_req *req);
int cmp__spec_show(struct http_req *req);
int cmp__spec_update(struct http_req *req);
int cmp__spec_delete(struct http_req *req);
int cmp__access_list(struct http_req *req);
int cmp__flavor_action(struct http_req *req);
/* The specs of flavor id as a JSON object (new reference), NULL on a
 * database failure (recorded). */
json_t *cmp__specs_json(struct http_req *req, const char *id);
/* api_keypairs.c */
int cmp__keypairs_list(struct http_req *req);
int cmp__keypair_create(struct http_req *req);
int cmp__keypair_show(struct http_req *req);
int cmp__keypair_delete(struct http_req *req);
/* api_limits.c */
int cmp__limits(struct http_req *req);
/* The project's limit of a quota resource ("instances", "cores", "ram",
 * ...): set through os-quota-sets, else Nova's default; -1 unlimited. */
int64_t cmp__quota_limit(struct http_req *req, const char *project_id, const char *resource);
int cmp__quota_show(struct http_req *req);
int cmp__quota_defaults(struct http_req *req);
int cmp__quota_detail(struct http_req *req);
int cmp__quota_update(struct http_req *req);
int cmp__quota_delete(struct http_req *req);
/* api_consoles.c: remote consoles and their tokens */
int cmp__remote_console(struct http_req *req);
int cmp__console_token_show(struct http_req *req);
struct cmp_server;
int cmp__vnc_console_action(struct http_req *req, const struct cmp_server *s, json_t *arg);
/* The SHA-256 (hex) a console token is stored as. */
void cmp__token_hash(const char *token, char out[65]);
/* A live console token's server, host and VNC address (strings in a).
 * 0, -ENOENT (unknown or expired) or a DB_* code. */
int cmp__console_token_lookup(struct db *db, struct arena *a, const char *token,
                              const char **id, const char **host, const char **path);
/* vncproxy.c: the noVNC pages and the websocket proxy at /vnc */
void cmp__vncproxy_register(void);
/* api_usage.c: os-simple-tenant-usage index and show */
int cmp__usage_list(struct http_req *req);
int cmp__usage_show(struct http_req *req);
int cmp__az_list(struct http_req *req);
int cmp__az_detail(struct http_req *req);

/* srv_view.c */
struct cmp_server;
/* Nova's status of a server in vm_state with task_state (may be NULL). */
const char *cmp__status(const char *vm_state, const char *task_state);
/* "instance-<first 8 hex of the id>", the hypervisor's name of it. */
const char *cmp__instance_name(struct http_req *req, const struct cmp_server *s);
/* {"id", "name", "links"}: a server in a plain listing. */
json_t *cmp__server_brief(struct http_req *req, const struct cmp_server *s);
/* Which view of a server: a detail listing, GET /servers/{id} (adds
 * 2.71 server_groups), or the answer of update and rebuild (Nova's basic
 * view before 2.75, the show view from then on). */
enum cmp_view { CMP_VIEW_LIST, CMP_VIEW_SHOW, CMP_VIEW_BASIC };
/* The server's view; meta, tags and addrs (borrowed, NULL: none) are
 * its metadata object, tag array and "addresses" object. New reference. */
json_t *cmp__server_view(struct http_req *req, const struct cmp_server *s, json_t *meta,
                         json_t *tags, json_t *addrs, enum cmp_view mode);

/* api_servers.c */
int cmp__servers_list(struct http_req *req);
int cmp__servers_detail(struct http_req *req);
int cmp__server_create(struct http_req *req);
int cmp__server_show(struct http_req *req);
int cmp__server_update(struct http_req *req);
int cmp__server_delete(struct http_req *req);
/* Loads server {server_id} if the caller may see it (its project, or
 * admin): 0, or Nova's 404 and -1. */
int cmp__server_find(struct http_req *req, struct cmp_server *s);
/* Replies {"server": view} with its metadata and tags (and adminPass when
 * given). */
int cmp__reply_server(struct http_req *req, int status, const struct cmp_server *s,
                      enum cmp_view mode, const char *admin_pass);
/* The flavor id of a flavorRef (a string, an integer or a flavor URL),
 * or NULL with Nova's 400 recorded. */
const char *cmp__flavor_ref(struct http_req *req, json_t *fref);
/* A new random admin password (12 characters), in the arena. */
const char *cmp__admin_pass(struct http_req *req);
/* Records instance action `action` of server id for this request (best
 * effort: a failure is logged, never the caller's). */
void cmp__action(struct http_req *req, const char *id, const char *action);

/* api_hosts.c */
int cmp__services_list(struct http_req *req);
int cmp__service_update(struct http_req *req);
int cmp__hypervisors_list(struct http_req *req);
int cmp__hypervisors_detail(struct http_req *req);
int cmp__hypervisor_show(struct http_req *req);
int cmp__hypervisor_stats(struct http_req *req);

/* api_images.c */
int cmp__images_list(struct http_req *req);
int cmp__images_detail(struct http_req *req);
int cmp__image_show(struct http_req *req);
int cmp__image_delete(struct http_req *req);

/* api_server_groups.c */
int cmp__group_create(struct http_req *req);
int cmp__group_list(struct http_req *req);
int cmp__group_show(struct http_req *req);
int cmp__group_delete(struct http_req *req);
/* Checks the "group" scheduler hint of a server create: the group exists,
 * is the caller's, and has room (server_group_members). 0, or Nova's 400 /
 * 403 and -1. */
int cmp__group_check_hint(struct http_req *req, const char *id);

/* api_server_meta.c */
int cmp__meta_list(struct http_req *req);
int cmp__meta_create(struct http_req *req);
int cmp__meta_replace(struct http_req *req);
int cmp__meta_show(struct http_req *req);
int cmp__meta_update(struct http_req *req);
int cmp__meta_delete(struct http_req *req);
int cmp__tags_list(struct http_req *req);
int cmp__tags_replace(struct http_req *req);
int cmp__tags_delete_all(struct http_req *req);
int cmp__tag_show(struct http_req *req);
int cmp__tag_add(struct http_req *req);
int cmp__tag_delete(struct http_req *req);
int cmp__actions_list(struct http_req *req);
int cmp__action_show(struct http_req *req);

/* api_server_actions.c */
int cmp__server_action(struct http_req *req);
int cmp__console_output(struct http_req *req);

/* ---- security groups (api_secgroups.c) ---- */
int cmp__sgs_list(struct http_req *req);
int cmp__sg_create(struct http_req *req);
int cmp__sg_show(struct http_req *req);
int cmp__sg_update(struct http_req *req);
int cmp__sg_delete(struct http_req *req);
int cmp__sg_rule_create(struct http_req *req);
int cmp__sg_rule_delete(struct http_req *req);
int cmp__server_sgs(struct http_req *req);
/* addSecurityGroup (add) / removeSecurityGroup on server s (found). */
int cmp__server_sg_action(struct http_req *req, const struct cmp_server *s, json_t *arg,
                          bool add);

/* ---- interfaces (api_interfaces.c) ---- */
int cmp__ifaces_list(struct http_req *req);
int cmp__iface_show(struct http_req *req);
int cmp__iface_attach(struct http_req *req);
int cmp__iface_detach(struct http_req *req);

#endif
