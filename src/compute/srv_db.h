/* srv_db.h - the SQL of servers: the desired and reported state of every
 * server, its metadata and tags, its instance actions and events, and the
 * revision counter the scheduler and host agents watch.
 *
 * A server row is the durable queue of its work (DESIGN.md §1): the API
 * records what is wanted by setting task_state (and task_arg) and bumping
 * the revision; the scheduler and the agent act on it and report back with
 * a compare-and-set on (task_state, rev), so a report about work that was
 * overtaken (a delete during a boot) changes nothing. Functions take a
 * borrowed connection, copy results into the caller's arena and return 0,
 * -ENOENT (no such row), -ESTALE (a compare-and-set lost) or a DB_* code. */
#ifndef COMPUTE_SRV_DB_H
#define COMPUTE_SRV_DB_H

#include "core/db.h"

#include <stdbool.h>
#include <stdint.h>

struct arena;

struct cmp_server {
    const char *id, *project_id, *user_id;
    const char *name, *description, *hostname;   /* description NULL: none */
    const char *image_id;                        /* "" when none */
    /* the flavor as it was at boot (Nova keeps a copy): */
    const char *flavor_id, *flavor_name;
    int64_t vcpus, ram, disk, ephemeral, swap;
    const char *flavor_specs;                    /* JSON object text */
    const char *new_flavor;                      /* JSON of a resize's target, or NULL */
    const char *key_name, *key_data, *user_data; /* NULL: none */
    bool config_drive;
    const char *az;                  /* requested availability zone or NULL */
    const char *host;                /* NULL until scheduled */
    const char *vm_state, *task_state;           /* task_state NULL: none */
    const char *task_arg;            /* what the task needs (snapshot image id ...) */
    int power_state;
    bool locked;
    const char *locked_reason, *locked_by;
    int64_t launch_index;
    const char *reservation_id, *access_v4, *access_v6, *group_id;
    int64_t launched_us, terminated_us, created_us, updated_us, deleted_us; /* 0: never */
    bool deleted;
    int64_t rev;
    int attempts;                    /* build attempts so far */
    int64_t fault_code;              /* 0: no fault */
    const char *fault_message, *fault_details;
    int64_t fault_us;
};

/* ---- the revision everything watches ---- */

/* The newest revision (0 on a fresh database). */
int srv_db_rev(struct db *db, struct arena *a, int64_t *rev);

/* ---- servers ---- */

/* Inserts s (rev assigned) with its metadata (nmeta pairs) and tags
 * (ntags), all in one transaction, unless the project would pass its
 * quota (max_instances, max_cores, max_ram; < 0 unlimited): then -EDQUOT
 * with *over naming the first resource passed ("instances", "cores",
 * "ram"). */
int srv_db_create(struct db *db, struct cmp_server *s, const char *const *mkeys,
                  const char *const *mvals, int nmeta, const char *const *tags, int ntags,
                  int64_t max_instances, int64_t max_cores, int64_t max_ram,
                  const char **over);
/* A server that is not deleted (with_deleted: also a deleted one). */
int srv_db_get(struct db *db, struct arena *a, const char *id, bool with_deleted,
               struct cmp_server *s);

/* A change of state: the fields the API or a reconciler sets. Strings
 * NULL keep the column unless the matching set_* flag says to write it
 * (NULL then writes SQL NULL). */
struct srv_change {
    const char *vm_state;
    bool set_task;
    const char *task_state, *task_arg;  /* written when set_task */
    int power_state;                    /* -1 keeps */
    bool set_host;
    const char *host;
    int64_t launched_us, terminated_us; /* 0 keeps */
    bool set_new_flavor;
    const char *new_flavor;
    bool set_flavor;                    /* copy the flavor fields of `flavor` */
    const struct cmp_server *flavor;
    bool set_fault;                     /* record (or with code 0 clear) the fault */
    int64_t fault_code;
    const char *fault_message, *fault_details;
    int attempts;                       /* -1 keeps */
    bool mark_deleted;                  /* soft-delete: vm_state deleted, deleted_at */
    const char *image_id;               /* non-NULL: rebuild to this image */
};

/* expect_task that matches every task state */
#define SRV_ANY_TASK "*"
/* Applies c to server id when its task_state is still expect_task (NULL
 * matches none, SRV_ANY_TASK any) and, when expect_rev > 0, its rev still expect_rev; the
 * rev is bumped. -ESTALE when the row moved on, -ENOENT when gone. */
int srv_db_change(struct db *db, const char *id, const char *expect_task, int64_t expect_rev,
                  const struct srv_change *c);
/* Starts a task from the API: sets task_state (and task_arg) when the
 * server's vm_state is one of vm_ok (NULL-terminated) and its task_state
 * one of task_ok (NULL-terminated; an entry "" stands for no task); with
 * locked checks (non-admin) a locked server is refused with -EPERM. Else
 * -EBUSY with *cur_vm / *cur_task (arena) naming the state found. */
int srv_db_start_task(struct db *db, struct arena *a, const char *id, const char *task,
                      const char *task_arg, const char *const *vm_ok,
                      const char *const *task_ok, bool check_lock, const char **cur_vm,
                      const char **cur_task);
/* Sets the simple API-owned columns (name, description, hostname,
 * access IPs, lock); NULL fields are kept. Bumps rev. */
struct srv_update {
    const char *name, *description, *hostname, *access_v4, *access_v6;
    bool set_description;
    int locked;                         /* -1 keeps, 0 / 1 sets */
    const char *locked_reason, *locked_by;
};
int srv_db_update(struct db *db, const char *id, const struct srv_update *u);

/* Filters of a listing; NULL / negative fields do not filter. */
struct srv_filter {
    const char *project_id;     /* NULL: every project (admin all_tenants) */
    const char *user_id, *name_re_like; /* name: substring match (Nova: regex) */
    const char *vm_state, *task_state, *host, *image_id, *flavor_id, *reservation_id;
    const char *az, *key_name;
    const char *const *ids;     /* with ip_filter: only these servers */
    int nids;
    bool ip_filter;             /* ids holds the servers an address filter kept */
    int locked;                 /* -1 any */
    int64_t changes_since_us, changes_before_us;    /* 0: none */
    /* active at some time in [from, to] (os-simple-tenant-usage): not
     * terminated before from, launched (if ever) before to; 0: none */
    int64_t active_from_us, active_to_us;
    bool with_deleted;          /* changes-since shows deleted servers */
    int deleted;                /* -1 any, 0 / 1 */
    const char *const *tags_all; int ntags_all;
    const char *const *tags_any; int ntags_any;
    const char *const *not_tags_all; int nnot_tags_all;
    const char *const *not_tags_any; int nnot_tags_any;
    const char *sort_keys[8];   /* columns from srv_db_sort_col() */
    bool sort_desc[8];
    int nsort;
    const char *marker;         /* id of the last server of the previous page */
    int64_t limit;              /* <= 0: none */
};
/* The column a Nova sort_key sorts by, NULL for one that is not allowed. */
const char *srv_db_sort_col(const char *key);
/* Matching servers in order into *out (arena), count in *n. -ENOENT when
 * the marker is no server. */
int srv_db_list(struct db *db, struct arena *a, const struct srv_filter *f,
                struct cmp_server **out, int *n);
/* Servers on host that are not deleted, or deleted with a task left
 * (the agent's own work list), in creation order. */
int srv_db_on_host(struct db *db, struct arena *a, const char *host, struct cmp_server **out,
                   int *n);
/* Servers waiting for the scheduler (task_state "scheduling"). */
int srv_db_unscheduled(struct db *db, struct arena *a, struct cmp_server **out, int *n);
/* The project's (NULL: everyone's) live instance count, vcpus and ram. */
int srv_db_usage(struct db *db, struct arena *a, const char *project_id, int64_t *instances,
                 int64_t *cores, int64_t *ram);

/* ---- metadata and tags ---- */

/* (key, value) rows sorted by key. */
int srv_db_meta(struct db *db, struct arena *a, const char *id, struct db_res **out);
/* Metadata (server_id, key, value) or, with tags, tags (server_id, tag)
 * of every live server of project (NULL: of every project), for a
 * listing's views in one query. */
int srv_db_meta_all(struct db *db, struct arena *a, const char *project_id, bool tags,
                    struct db_res **out);
/* replace: drop every key first. Fails with -EDQUOT when the result
 * would pass max keys. One transaction. */
int srv_db_meta_set(struct db *db, const char *id, const char *const *keys,
                    const char *const *vals, int n, bool replace, int max);
int srv_db_meta_delete(struct db *db, const char *id, const char *key);
/* Tag rows sorted. */
int srv_db_tags(struct db *db, struct arena *a, const char *id, struct db_res **out);
/* replace as above; -EDQUOT past max tags. */
int srv_db_tags_set(struct db *db, const char *id, const char *const *tags, int n,
                    bool replace, int max);
int srv_db_tag_delete(struct db *db, const char *id, const char *tag);

/* ---- server groups ---- */

struct cmp_group {
    const char *id, *name, *project_id, *user_id, *policy, *rules;
    int64_t created_us;
};

/* Inserts g unless project already has max groups (-EDQUOT; < 0: no
 * limit), in one transaction. */
int srv_db_group_create(struct db *db, const struct cmp_group *g, int64_t max);
int srv_db_group_get(struct db *db, struct arena *a, const char *id, struct cmp_group *g);
/* The groups of project (NULL: all), oldest first. */
int srv_db_group_list(struct db *db, struct arena *a, const char *project_id,
                      struct cmp_group **out, int *n);
/* Deletes the group; its servers leave it. */
int srv_db_group_delete(struct db *db, const char *id);
/* Rows (id, host) of the live members of group id. */
int srv_db_group_members(struct db *db, struct arena *a, const char *id, struct db_res **out);

/* ---- instance actions ---- */

/* Records an action (request_id, action name) started by user/project. */
int srv_db_action_start(struct db *db, const char *server_id, const char *request_id,
                        const char *action, const char *project_id, const char *user_id);
/* Records the event of the newest action of the server whose name is
 * action: started when result is NULL, else finished with result
 * ("Success" / "Error") and, for an error, the message. */
int srv_db_event(struct db *db, const char *server_id, const char *action, const char *event,
                 const char *host, const char *result, const char *message);
/* Rows: request_id, action, project_id, user_id, start, message, updated
 * (newest first). */
int srv_db_actions(struct db *db, struct arena *a, const char *server_id, struct db_res **out);
/* Rows of one action: event, start, finish, result, traceback, host. */
int srv_db_action_events(struct db *db, struct arena *a, const char *server_id,
                         const char *request_id, struct db_res **act, struct db_res **events);

#endif
