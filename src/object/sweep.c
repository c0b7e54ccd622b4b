/* sweep.c - removes at start what a crash left in DATA_DIR/objects:
 *
 * - upload temp files (".tmp-<id>", store.h): a PUT or FormPost that was
 *   cut by a kill never committed them, and nothing points at them;
 * - object files no listing row names: a crash between a commit and its
 *   row, or between a row's removal and its file's (expire.c, a DELETE),
 *   leaves such a file behind.
 *
 * Several `serve` processes may share one data directory. Each holds a
 * shared flock on DATA_DIR/objects/.lock for its lifetime; the sweep runs
 * before the process serves anything and first tries for the lock
 * exclusively. With it, no other process is alive, so every temp file is
 * an orphan. Without it, another process may be writing: only temp files
 * untouched for SWEEP_GRACE_S (longer than the idle timeout of an upload)
 * go, and files without a row are left alone, since a live process may be
 * between a commit and its row. Files without a row must also be
 * SWEEP_GRACE_S old, and a container with more than SWEEP_MAX_ROWS rows is
 * not checked (its file list would cost too much memory at start). */
#include "object_int.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_GRACE_S 3600
#define SWEEP_MAX_ROWS 200000

/* the lock this process holds (shared) until it exits */
static int lock_fd = -1;

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Removes from dirfd the files in names[0, n) (all older than the grace
 * period) that no row of container cid names. Returns how many went. */
static int
sweep_rowless(struct db *db, int dirfd, const char *cid, char **names, int n)
{
    struct arena *a = arena_new();
    struct db_res *r;
    int removed = 0;
    if (!a)
        return 0;
    int rc = db_exec(db, a, &r, "SELECT 1 FROM obj_container WHERE id = ?", "s", cid);
    bool live = rc == DB_OK && r->nrows;
    if (rc != DB_OK)
        goto out;
    if (live) {
        rc = db_exec(db, a, &r, "SELECT file FROM obj_object WHERE container_id = ? LIMIT ?",
                     "si", cid, (int64_t)SWEEP_MAX_ROWS + 1);
        if (rc != DB_OK || r->nrows > SWEEP_MAX_ROWS)
            goto out;
    }
    /* the rows' files sorted, to look each candidate up */
    int nf = live ? r->nrows : 0;
    const char **files = arena_alloc(a, sizeof(*files) * (size_t)(nf + 1));
    for (int i = 0; i < nf; i++)
        files[i] = db_val(r, i, 0) ? db_val(r, i, 0) : "";
    qsort(files, (size_t)nf, sizeof(*files), cmp_str);
    for (int i = 0; i < n; i++) {
        const char *key = names[i];
        if (nf && bsearch(&key, files, (size_t)nf, sizeof(*files), cmp_str))
            continue;
        if (unlinkat(dirfd, names[i], 0) == 0)
            removed++;
    }
out:
    if (rc != DB_OK)
        log_warn(NULL, "object: sweep of container %s skipped: %s", cid, db_errmsg(db));
    arena_free(a);
    return removed;
}

/* Sweeps one container directory. */
static int
sweep_container(struct db *db, int accfd, const char *cid, bool exclusive, time_t now)
{
    int fd = openat(accfd, cid, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    int removed = 0, n = 0, cap = 0;
    char **old = NULL;      /* committed files past the grace period */
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        bool stale = now - st.st_mtime > SWEEP_GRACE_S;
        if (!strncmp(e->d_name, ".tmp-", 5)) {
            if ((exclusive || stale) && unlinkat(fd, e->d_name, 0) == 0)
                removed++;
        } else if (exclusive && stale && db) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                old = xrealloc(old, sizeof(*old) * (size_t)cap);
            }
            old[n++] = xstrdup(e->d_name);
        }
    }
    if (n)
        removed += sweep_rowless(db, fd, cid, old, n);
    for (int i = 0; i < n; i++)
        free(old[i]);
    free(old);
    closedir(d);
    /* a deleted container's directory, empty now; not while another
     * process may be about to create a file in it */
    if (exclusive)
        unlinkat(accfd, cid, AT_REMOVEDIR);
    return removed;
}

int
obj__sweep(const char *root)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/.lock", root) >= (int)sizeof(path))
        return 0;
    if (lock_fd < 0)
        lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    bool exclusive = lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) == 0;
    DIR *top = opendir(root);
    struct db *db = exclusive ? db_get() : NULL;
    time_t now = time(NULL);
    int removed = 0;
    struct dirent *e;
    while (top && (e = readdir(top))) {
        if (strncmp(e->d_name, "AUTH_", 5))
            continue;
        int accfd = openat(dirfd(top), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (accfd < 0)
            continue;
        DIR *acc = fdopendir(accfd);
        if (!acc) {
            close(accfd);
            continue;
        }
        struct dirent *c;
        while ((c = readdir(acc)))
            if (is_hex32(c->d_name))
                removed += sweep_container(db, accfd, c->d_name, exclusive, now);
        closedir(acc);
    }
    if (top)
        closedir(top);
    db_put(db);
    /* from now on this process may have uploads in flight: hold the lock
     * shared, so a process starting later knows it is not alone */
    if (lock_fd >= 0)
        flock(lock_fd, LOCK_SH);
    if (removed)
        log_info(NULL, "object: removed %d file%s left by an interrupted write%s", removed,
                 removed == 1 ? "" : "s", exclusive ? "" : " (another process is running)");
    return removed;
}
