/* expire.c - the reaper of expired objects (X-Delete-At/After), the job
 * Swift's object-expirer does. Reads already answer 404 once the time has
 * passed (api_object.c); this thread removes the rows and the files a few
 * seconds later, in small batches so no transaction is long.
 *
 * Stopping: the core has no per-service shutdown hook, so the thread is
 * stopped from an atexit() handler (obj_expirer_stop, also callable
 * directly): it finishes the batch it is in, never one half-applied, and
 * is joined before the process goes on to exit. */
#include "object.h"
#include "obj_db.h"
#include "store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWEEP_INTERVAL_S 2
#define SWEEP_BATCH 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, running;
static pthread_t thread;

int
obj_expire_sweep(void)
{
    struct db *db = db_get();
    struct arena *a = arena_new();
    struct obj_expired *e;
    int n = 0, done = 0;
    if (!db || !a) {
        db_put(db);
        arena_free(a);
        return -1;
    }
    int64_t now_s = now_us() / 1000000;
    if (obj_db_expired(db, a, now_s, SWEEP_BATCH, &e, &n) == 0) {
        for (int i = 0; i < n; i++) {
            /* the row goes first: once it is gone nothing can hand out the
             * file, and a crash between the two leaves only an orphan file */
            if (obj_db_expired_delete(db, &e[i], now_s) == 0) {
                obj_store_remove(e[i].account, e[i].container_id, e[i].file);
                done++;
            }
        }
    } else {
        log_msg(LOG_WARN, NULL, "object: expiry sweep: %s", db_errmsg(db));
    }
    db_put(db);
    arena_free(a);
    return done;
}

static void *
expirer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        pthread_mutex_unlock(&lock);
        /* a full batch means more are waiting: go on at once */
        int done;
        do
            done = obj_expire_sweep();
        while (done == SWEEP_BATCH && !__atomic_load_n(&stopping, __ATOMIC_RELAXED));
        pthread_mutex_lock(&lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SWEEP_INTERVAL_S;
        while (!stopping && pthread_cond_timedwait(&wake, &lock, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void
obj_expirer_stop(void)
{
    pthread_mutex_lock(&lock);
    bool was = running;
    __atomic_store_n(&stopping, true, __ATOMIC_RELAXED);
    running = false;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    if (was)
        pthread_join(thread, NULL);
}

int
obj_expirer_start(void)
{
    pthread_mutex_lock(&lock);
    if (running) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    stopping = false;
    int rc = pthread_create(&thread, NULL, expirer, NULL);
    running = rc == 0;
    pthread_mutex_unlock(&lock);
    if (rc) {
        log_msg(LOG_ERROR, NULL, "object: cannot start the expirer: %s", strerror(rc));
        return -1;
    }
    static bool registered;
    if (!registered && atexit(obj_expirer_stop) == 0)
        registered = true;
    return 0;
}
