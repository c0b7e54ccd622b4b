/* obj_db.h - all SQL of the object service: containers, the object
 * listing rows and account metadata. A row of obj_object is what makes an
 * object visible; it is written only after its bytes are durable
 * (store.h), in one transaction that also checks the container is still
 * there. Functions return 0, -ENOENT / -ENOTEMPTY for the cases the API
 * answers with 404 / 409, or a negative DB_* code. */
#ifndef OBJECT_OBJ_DB_H
#define OBJECT_OBJ_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"

struct arena;

struct obj_container {
    const char *id, *name;
    int64_t created_us, put_us;
    const char *meta;           /* JSON object text: lower-case key -> value */
    const char *read_acl;       /* X-Container-Read as stored; NULL or "" none */
    const char *write_acl;      /* X-Container-Write */
    const char *versions;       /* archive container of versioned writes, as the
                                 * client gave it (URL-encoded); NULL or "" none */
    const char *versions_mode;  /* "stack" (X-Versions-Location) or "history" */
};

/* Owner-only settings a container PUT/POST changes: the ACLs and the
 * versioning location. NULL keeps, "" clears (versions "" clears the mode
 * too). */
struct obj_acls {
    const char *read, *write;
    const char *versions, *versions_mode;
};

struct obj_row {
    const char *name, *file, *etag, *content_type, *meta;
    /* an inline file's bytes, base64url (store.h); NULL for a real file.
     * Read by obj_db_object_get only; a PUT of an inline file must carry
     * it, and it is stored in the same transaction as the row. */
    const char *data;
    int64_t size, modified_us;
    int64_t delete_at;          /* X-Delete-At, unix seconds; 0 = never */
};

/* An expired object for the sweep. */
struct obj_expired {
    const char *account, *container_id, *name, *file;
};

/* One page of a listing, in byte order of the names (reverse when asked).
 * Bounds are optional (NULL): names > gt, >= ge, < lt; prefix keeps only
 * names starting with it. */
struct obj_range {
    const char *gt, *ge, *lt;
    const char *prefix;
    bool reverse;
    int limit;
};

/* Row of an account listing: one container with its totals. */
struct obj_list_item {
    const char *name;
    int64_t count, bytes, when_us;      /* containers: objects and bytes */
    const char *etag, *content_type;    /* objects only */
};

/* Container account/name, into *out (strings in a). 0 or -ENOENT. */
int obj_db_container_get(struct db *db, struct arena *a, const char *account,
                         const char *name, struct obj_container *out);
/* Creates the container or updates it: meta_set (JSON object, value ""
 * removes a key; may be NULL) is merged into its metadata and acl (may be
 * NULL) applied. *created tells which happened. */
int obj_db_container_put(struct db *db, struct arena *a, const char *account,
                         const char *name, const char *meta_set, const struct obj_acls *acl,
                         bool *created);
/* Merges meta_set into an existing container's metadata and applies acl
 * (may be NULL). 0 or -ENOENT. */
int obj_db_container_post(struct db *db, struct arena *a, const char *account,
                          const char *name, const char *meta_set, const struct obj_acls *acl);
/* Deletes an empty container; its id goes to *id_out (in a) so the caller
 * can remove its directory. 0, -ENOENT or -ENOTEMPTY. */
int obj_db_container_delete(struct db *db, struct arena *a, const char *account,
                            const char *name, const char **id_out);
/* Object count and bytes of one container. */
int obj_db_container_stats(struct db *db, struct arena *a, const char *container_id,
                           int64_t *count, int64_t *bytes);

/* Bytes stored in the account (every container), for its quota. */
int obj_db_account_bytes(struct db *db, struct arena *a, const char *account, int64_t *bytes);

/* Account totals; *created_us is when the account was first written to
 * (now when it never was), *meta its metadata JSON. */
int obj_db_account_stats(struct db *db, struct arena *a, const char *account,
                         int64_t *containers, int64_t *objects, int64_t *bytes,
                         int64_t *created_us, const char **meta);
/* The account's metadata JSON into *meta (NULL when it has none). */
int obj_db_account_meta(struct db *db, struct arena *a, const char *account,
                        const char **meta);
/* Merges meta_set into the account's metadata (creating its row). */
int obj_db_account_post(struct db *db, struct arena *a, const char *account,
                        const char *meta_set);

/* The object row of container_id/name. 0 or -ENOENT. */
int obj_db_object_get(struct db *db, struct arena *a, const char *container_id,
                      const char *name, struct obj_row *out);
/* Makes row visible in account/container (created or replacing an older
 * version) if the container with that id still exists. The replaced
 * version's file goes to *old_file (in a, NULL when none) for the caller
 * to remove after this returns. With if_none (If-None-Match: *) a live
 * version already there makes it -EEXIST and nothing changes. 0, -ENOENT
 * or -EEXIST. */
int obj_db_object_put(struct db *db, struct arena *a, const char *container_id,
                      const struct obj_row *row, bool if_none, const char **old_file);
/* Removes the row; its file goes to *old_file. 0 or -ENOENT. (Every
 * call that removes or replaces a row removes its inline bytes with it:
 * an old_file handed back is never inline.) */
int obj_db_object_delete(struct db *db, struct arena *a, const char *container_id,
                         const char *name, const char **old_file);
/* Replaces the object's metadata and expiry (delete_at 0 = none), and its
 * content type when non-NULL. 0 or -ENOENT. */
int obj_db_object_post(struct db *db, struct arena *a, const char *container_id,
                       const char *name, const char *meta, const char *content_type,
                       int64_t delete_at);

/* One step of obj_db_object_batch(). */
enum obj_db_op_kind { OBJ_DB_PUT = 1, OBJ_DB_DELETE };

struct obj_db_op {
    enum obj_db_op_kind kind;
    const char *container_id;
    const struct obj_row *row;  /* PUT: the new row; DELETE: only row->name counts */
    /* When set, the name's live version (a row that has not expired) must
     * still be the one in file expect_file (NULL: there must be none), or
     * the batch is -EAGAIN: it was read before the batch, and a concurrent
     * write since then must not be overwritten blindly. */
    bool check;
    const char *expect_file;
    bool if_none;               /* PUT: -EEXIST when a live version is there */
    bool must_exist;            /* DELETE: -ENOENT when no row is there */
    const char *old_file;       /* out: file of the row replaced or deleted
                                 * (NULL if none), to remove after the commit */
};

/* Applies ops in order in one transaction, all or nothing: object versions
 * moving between a container and its versions container are never seen
 * half-moved. Every op's container must exist (-ENOENT otherwise, with
 * *bad the index of the op; also for must_exist). 0, -ENOENT, -EEXIST,
 * -EAGAIN (a check failed) or a DB code; on failure every old_file is
 * NULL. */
int obj_db_object_batch(struct db *db, struct arena *a, struct obj_db_op *ops, int n,
                        int *bad);

/* Up to limit objects whose delete_at is <= now_s, oldest expiry first,
 * into *out (in a), *n their count. */
int obj_db_expired(struct db *db, struct arena *a, int64_t now_s, int limit,
                   struct obj_expired **out, int *n);
/* Deletes the row of e if it still names e->file and is still expired
 * (an overwrite since the scan is a new object). 0 when deleted (the
 * caller removes the file), -ENOENT when not, or a DB code. */
int obj_db_expired_delete(struct db *db, const struct obj_expired *e, int64_t now_s);

/* One page of containers of account (containers = true) or objects of
 * container_id. *items gets up to r->limit entries (in a), *n their count. */
int obj_db_list(struct db *db, struct arena *a, bool containers, const char *owner,
                const struct obj_range *r, struct obj_list_item **items, int *n);

/* Merges the JSON object text set into the JSON object text old (either
 * may be NULL); "" values delete. Returns the new text in a. */
const char *obj_meta_merge(struct arena *a, const char *old, const char *set);
/* A metadata JSON text (may be NULL or not an object) as a new JSON
 * object, and back: the compact text with sorted keys in a, the form
 * every metadata column holds (obj_meta_text takes o). */
json_t *obj_meta_load(const char *meta);
const char *obj_meta_text(struct arena *a, json_t *o);

#endif
