/* password.c - password hashing off the request threads, and Keystone's
 * security compliance rules for new passwords.
 *
 * bcrypt at cost 12 costs ~0.23 s of CPU on purpose. Hashing runs on a
 * fixed pool of nproc worker threads at nice +10: logins queue for the
 * pool instead of piling up runnable threads, and a token validation that
 * needs the CPU meanwhile wins it (CFS gives nice 0 ~9x the weight of
 * nice 10), so validation latency holds while logins saturate the cores. */
#include "identity.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <crypt.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PW_MAX_WORKERS 64

struct pw_job {
    struct pw_job *next;
    const char *pw;
    const char *hash;           /* verify: the stored hash; hash: NULL */
    char out[128];              /* hash: the new hash */
    int result;                 /* verify: 1 match; hash: 0 ok, -1 error */
    bool done;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    struct pw_job *head, *tail;
    pthread_t threads[PW_MAX_WORKERS];
    int nthreads;
    bool stop;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static void
run_job(struct pw_job *j, struct crypt_data *cd)
{
    if (j->hash) {
        memset(cd, 0, sizeof(*cd));
        const char *h = crypt_r(j->pw, j->hash, cd);
        /* crypt_r returns a "*0"-style failure token, never NULL, on bad
         * settings; compare whole strings so that cannot match */
        j->result = h && h[0] != '*' && !strcmp(h, j->hash);
        return;
    }
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    int rounds = (int)cfg_int("identity", "password_hash_rounds", 12);
    const char *prefix = cfg_get("identity", "password_hash_algorithm", "bcrypt");
    const char *p = !strcmp(prefix, "yescrypt") ? "$y$" : "$2b$";
    if (!crypt_gensalt_rn(p, (unsigned long)(p[1] == '2' ? rounds : 0), NULL, 0, salt,
                          sizeof(salt))) {
        j->result = -1;
        return;
    }
    memset(cd, 0, sizeof(*cd));
    const char *h = crypt_r(j->pw, salt, cd);
    if (!h || h[0] == '*' || strlen(h) >= sizeof(j->out)) {
        j->result = -1;
        return;
    }
    snprintf(j->out, sizeof(j->out), "%s", h);
    j->result = 0;
}

static void *
worker(void *arg)
{
    (void)arg;
    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    struct crypt_data *cd = xmalloc(sizeof(*cd));
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.head && !pool.stop)
            pthread_cond_wait(&pool.work, &pool.lock);
        if (pool.stop)
            break;
        struct pw_job *j = pool.head;
        pool.head = j->next;
        if (!pool.head)
            pool.tail = NULL;
        pthread_mutex_unlock(&pool.lock);
        run_job(j, cd);
        pthread_mutex_lock(&pool.lock);
        j->done = true;
        pthread_cond_broadcast(&pool.done);
    }
    pthread_mutex_unlock(&pool.lock);
    free(cd);
    return NULL;
}

void
pw_start(void)
{
    long n = cfg_int("identity", "password_hash_workers", sysconf(_SC_NPROCESSORS_ONLN));
    if (n < 1)
        n = 1;
    if (n > PW_MAX_WORKERS)
        n = PW_MAX_WORKERS;
    for (int i = 0; i < n; i++)
        if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, NULL) == 0)
            pool.nthreads++;
}

void
pw_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stop = true;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.nthreads = 0;
}

/* Runs j on the pool (or inline when no pool runs, e.g. `onestack init`). */
static void
submit(struct pw_job *j)
{
    if (!pool.nthreads) {
        struct crypt_data *cd = xmalloc(sizeof(*cd));
        run_job(j, cd);
        free(cd);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pthread_cond_signal(&pool.work);
    while (!j->done)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

int
pw_hash_req(struct http_req *req, const char *pw, char out[128])
{
    if (pw_hash(pw, out) < 0)
        return req_fail(req, 500, "password hashing failed");
    return 0;
}

int
pw_hash(const char *pw, char out[128])
{
    struct pw_job j = {.pw = pw};
    submit(&j);
    if (j.result == 0)
        memcpy(out, j.out, sizeof(j.out));
    return j.result;
}

bool
pw_verify(const char *pw, const char *hash)
{
    if (!pw || !hash || !*hash)
        return false;
    struct pw_job j = {.pw = pw, .hash = hash};
    submit(&j);
    return j.result == 1;
}

const char *
pw_current(struct http_req *req, struct db *db, const char *user_id, int64_t *expires_at)
{
    struct db_res *r;
    if (db_exec(db, req->arena, &r,
                "SELECT hash, expires_at FROM password WHERE user_id = ? "
                "ORDER BY created_at DESC LIMIT 1", "s", user_id) != DB_OK || r->nrows == 0)
        return NULL;
    if (expires_at)
        *expires_at = db_int(r, 0, 1);
    return db_val(r, 0, 0);
}

int
pw_check_new(struct http_req *req, struct db *db, const char *user_id, const char *pw,
             bool self_service)
{
    const char *rx = cfg_get("security_compliance", "password_regex", "");
    if (rx && *rx) {
        regex_t re;
        if (regcomp(&re, rx, REG_EXTENDED | REG_NOSUB) != 0) {
            log_error(req->request_id, "security_compliance.password_regex does not compile "
                      "as a POSIX extended regex; not enforced");
        } else {
            int m = regexec(&re, pw, 0, NULL, 0);
            regfree(&re);
            if (m != 0)
                return req_fail(req, 400, "Password validation error: The password does "
                                "not meet the requirements: %s.",
                                cfg_get("security_compliance", "password_regex_description",
                                        "it does not match the password rules"));
        }
    }
    if (!user_id)
        return 0;

    int64_t min_age = cfg_int("security_compliance", "minimum_password_age", 0);
    struct db_res *r;
    if (self_service && min_age > 0 &&
        db_exec(db, req->arena, &r,
                "SELECT created_at, self_service FROM password WHERE user_id = ? "
                "ORDER BY created_at DESC LIMIT 1", "s", user_id) == DB_OK && r->nrows &&
        db_bool(r, 0, 1)) {
        /* as Keystone: an admin reset does not start the minimum age */
        int64_t ready = db_int(r, 0, 0) + min_age * 86400 * 1000000;
        if (ready > now_us()) {
            int64_t left = (ready - now_us()) / (86400LL * 1000000) + 1;
            return req_fail(req, 400, "You cannot change your password at this time due "
                            "to the minimum password age. Once you change your password, "
                            "it must be used for %lld day(s) before it can be changed. "
                            "Please try again in %lld day(s) or contact your administrator "
                            "to reset your password.", (long long)min_age, (long long)left);
        }
    }
    int64_t unique = cfg_int("security_compliance", "unique_last_password_count", 0);
    if (unique > 0 &&
        db_exec(db, req->arena, &r,
                "SELECT hash FROM password WHERE user_id = ? ORDER BY created_at DESC "
                "LIMIT ?", "si", user_id, unique) == DB_OK) {
        for (int i = 0; i < r->nrows; i++)
            if (pw_verify(pw, db_val(r, i, 0)))
                return req_fail(req, 400, "The new password cannot be identical to a "
                                "previous password. The total number which includes the new "
                                "password must be unique is %lld.", (long long)unique);
    }
    return 0;
}

int
pw_set(struct http_req *req, struct db *db, const char *user_id, const char *hash,
       bool self_service)
{
    char id[33];
    uuid_hex(id);
    int64_t now = now_us();
    int64_t days = cfg_int("security_compliance", "password_expires_days", 0);
    char exp[24];
    if (days > 0)
        snprintf(exp, sizeof(exp), "%lld", (long long)(now + days * 86400 * 1000000));
    int rc = db_exec(db, NULL, NULL,
                     "INSERT INTO password (id, user_id, hash, created_at, expires_at, "
                     "self_service) VALUES (?, ?, ?, ?, ?, ?)",
                     "sssisb", id, user_id, hash, now, days > 0 ? exp : NULL, self_service);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "password");
    /* keep only the history the compliance rules look at */
    int64_t keep = cfg_int("security_compliance", "unique_last_password_count", 0);
    if (keep < 1)
        keep = 1;
    rc = db_exec(db, NULL, NULL,
                 "DELETE FROM password WHERE user_id = ? AND id NOT IN (SELECT id FROM "
                 "password WHERE user_id = ? ORDER BY created_at DESC LIMIT ?)",
                 "ssi", user_id, user_id, keep);
    if (rc != DB_OK)
        return idn_db_fail(req, rc, "password");
    /* a new password clears a lockout */
    db_exec(db, NULL, NULL,
            "UPDATE users SET failed_auth_count = 0, failed_auth_at = NULL WHERE id = ?", "s",
            user_id);
    return 0;
}

bool
idn_user_option(const struct idn_user *u, const char *opt)
{
    json_t *o = idn_json_text(u->options);
    bool v = json_is_true(json_object_get(o, opt));
    json_decref(o);
    return v;
}

int
pw_authenticate(struct http_req *req, struct db *db, struct idn_user *u, const char *pw)
{
    int64_t attempts = cfg_int("security_compliance", "lockout_failure_attempts", 0);
    int64_t duration = cfg_int("security_compliance", "lockout_duration", 1800) * 1000000;
    bool lockable = attempts > 0 && !idn_user_option(u, "ignore_lockout_failure_attempts");
    if (lockable && u->failed_auth_count >= attempts) {
        /* a duration of 0 locks until an administrator lifts it */
        if (duration <= 0 || u->failed_auth_at + duration > now_us()) {
            log_info(req->request_id, "auth: the account of user %s is locked", u->id);
            return req_fail(req, 401, IDN_GENERIC_401);
        }
        /* the lock ran out: start counting afresh */
        u->failed_auth_count = 0;
        db_exec(db, NULL, NULL, "UPDATE users SET failed_auth_count = 0 WHERE id = ?", "s",
                u->id);
    }
    if (!pw_verify(pw, pw_current(req, db, u->id, NULL))) {
        if (lockable)
            db_exec(db, NULL, NULL,
                    "UPDATE users SET failed_auth_count = failed_auth_count + 1, "
                    "failed_auth_at = ? WHERE id = ?", "is", now_us(), u->id);
        log_info(req->request_id, "auth: wrong password for user %s", u->id);
        return req_fail(req, 401, IDN_GENERIC_401);
    }
    if (u->failed_auth_count) {     /* a good password ends a run of failures */
        db_exec(db, NULL, NULL,
                "UPDATE users SET failed_auth_count = 0, failed_auth_at = NULL WHERE id = ?",
                "s", u->id);
        u->failed_auth_count = 0;
    }
    if (!u->enabled) {
        log_info(req->request_id, "auth: user %s is disabled", u->id);
        return req_fail(req, 401, IDN_GENERIC_401);
    }
    return 0;
}
