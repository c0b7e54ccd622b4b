/* core_test.c - unit tests for src/core: arena, util (base64url, time,
 * ids), router matching, JSON validators, config overrides, policy. */
#include "runner.h"

#include "core/arena.h"
#include "core/blob.h"
#include "core/config.h"
#include "core/db.h"
#include "core/http.h"
#include "core/jv.h"
#include "core/log.h"
#include "core/policy.h"
#include "core/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static int cleaned;

static void
count_cleanup(void *arg)
{
    cleaned += *(int *)arg;
}

static void
arena_allocs_and_cleans(void)
{
    struct arena *a = arena_new();
    static int one = 1, ten = 10;
    char *s = arena_strdup(a, "hello");
    CHECK_STR(s, "hello");
    char *big = arena_alloc(a, 100000);     /* larger than a chunk */
    big[99999] = 'x';
    char *f = arena_printf(a, "%d-%s", 42, "x");
    CHECK_STR(f, "42-x");
    CHECK(arena_strdup(a, NULL) == NULL);
    for (int i = 0; i < 1000; i++)
        CHECK(((unsigned long)arena_alloc(a, 3) % _Alignof(max_align_t)) == 0);
    cleaned = 0;
    arena_on_release(a, count_cleanup, &one);
    arena_on_release(a, count_cleanup, &ten);
    arena_free(a);
    CHECK(cleaned == 11);
}

static void
b64url_roundtrip(void)
{
    unsigned char in[40], out[64];
    char enc[80];
    for (size_t n = 0; n < sizeof(in); n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(i * 37 + n);
        size_t l = b64url_encode(in, n, enc);
        CHECK(strchr(enc, '=') == NULL && strchr(enc, '+') == NULL);
        CHECK(b64url_decode(enc, l, out) == (long)n);
        CHECK(memcmp(in, out, n) == 0);
    }
    CHECK(b64url_decode("a", 1, out) == -1);
    CHECK(b64url_decode("ab*d", 4, out) == -1);
    CHECK(b64url_decode("aGk=", 4, out) == 2 && out[0] == 'h' && out[1] == 'i');
}

static void
time_iso_roundtrip(void)
{
    char ts[40];
    time_iso(1700000000123456LL, ts, sizeof(ts));
    CHECK_STR(ts, "2023-11-14T22:13:20.123456Z");
    int64_t t;
    CHECK(time_parse_iso(ts, &t) == 0 && t == 1700000000123456LL);
    CHECK(time_parse_iso("2023-11-14T22:13:20Z", &t) == 0 && t == 1700000000000000LL);
    CHECK(time_parse_iso("2023-11-14T23:13:20+01:00", &t) == 0 && t == 1700000000000000LL);
    CHECK(time_parse_iso("2023-11-14", &t) == 0);
    CHECK(time_parse_iso("yesterday", &t) == -1);
    CHECK(time_parse_iso("2023-13-14T00:00:00", &t) == -1);
    CHECK(time_parse_iso("2023-11-14T00:00:00junk", &t) == -1);
}

static void
ids_are_uuid4_hex(void)
{
    char a[33], b[33];
    uuid_hex(a);
    uuid_hex(b);
    CHECK(is_hex32(a) && is_hex32(b) && strcmp(a, b) != 0);
    CHECK(a[12] == '4');
    CHECK(!is_hex32("ABCDEF0123456789abcdef0123456789"));
    CHECK(!is_hex32("abc"));
}

static void
router_matches_patterns(void)
{
    struct http_req req = {0};
    req.arena = arena_new();
    CHECK(http_match("/v3/users/{user_id}/password", "/v3/users/abc/password", &req));
    CHECK_STR(http_param(&req, "user_id"), "abc");
    CHECK(!http_match("/v3/users/{user_id}", "/v3/users/", NULL));
    CHECK(!http_match("/v3/users/{user_id}", "/v3/users/a/b", NULL));
    CHECK(!http_match("/v3/users", "/v3/users/x", NULL));
    CHECK(http_match("/", "/", NULL));
    CHECK(http_match("/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
                     "/v3/projects/p/users/u/roles/r", &req));
    CHECK_STR(http_param(&req, "project_id"), "p");
    CHECK_STR(http_param(&req, "role_id"), "r");
    CHECK(http_param(&req, "nope") == NULL);
    arena_free(req.arena);
}

/* "{name+}" takes the rest of the path, slashes included, and only as the
 * last piece of a pattern */
static void
router_rest_param(void)
{
    struct http_req req = {0};
    req.arena = arena_new();
    const char *pat = "/v1/{account}/{container}/{object+}";
    CHECK(http_match(pat, "/v1/AUTH_a/c/o", &req));
    CHECK_STR(http_param(&req, "account"), "AUTH_a");
    CHECK_STR(http_param(&req, "container"), "c");
    CHECK_STR(http_param(&req, "object"), "o");
    CHECK(http_param(&req, "object+") == NULL);
    CHECK(http_match(pat, "/v1/AUTH_a/c/dir/sub/file.txt", &req));
    CHECK_STR(http_param(&req, "object"), "dir/sub/file.txt");
    CHECK(http_match(pat, "/v1/AUTH_a/c//lead/slash/", &req));
    CHECK_STR(http_param(&req, "object"), "/lead/slash/");
    CHECK(!http_match(pat, "/v1/AUTH_a/c/", NULL));
    CHECK(!http_match(pat, "/v1/AUTH_a/c", NULL));
    CHECK(!http_match(pat, "/v1/AUTH_a", NULL));
    /* a "+" anywhere but at the end is a plain one-segment parameter */
    CHECK(http_match("/x/{a+}/y", "/x/b/y", &req));
    CHECK(!http_match("/x/{a+}/y", "/x/b/c/y", NULL));
    arena_free(req.arena);
}

static void
jv_validates_types(void)
{
    struct http_req req = {0};
    req.arena = arena_new();
    json_t *o = json_pack("{s:s,s:i,s:b,s:n}", "name", "x", "num", 5, "flag", 1, "null");
    const char *s = NULL;
    int b = -1;
    CHECK(jv_str(&req, o, "name", JV_REQUIRED, 10, &s) == 0 && !strcmp(s, "x"));
    CHECK(jv_bool(&req, o, "flag", 0, &b) == 0 && b == 1);
    CHECK(jv_str(&req, o, "absent", 0, 0, &s) == 0 && !strcmp(s, "x"));
    CHECK(jv_str(&req, o, "num", 0, 0, &s) == -1 && req.fail_status == 400);
    CHECK(strstr(req.fail_msg, "'num'") && strstr(req.fail_msg, "'string'"));
    req.fail_status = 0;
    CHECK(jv_str(&req, o, "missing", JV_REQUIRED, 0, &s) == -1);
    CHECK_STR(req.fail_msg, "'missing' is a required property");
    req.fail_status = 0;
    CHECK(jv_str(&req, o, "name", 0, 0, &s) == 0);
    CHECK(jv_str(&req, o, "null", JV_NULLABLE, 0, &s) == 0 && s == NULL);
    CHECK(jv_str(&req, o, "name", 0, 0, &s) == 0 && jv_str(&req, o, "name", 0, 0, &s) == 0);
    req.fail_status = 0;
    CHECK(jv_str(&req, json_pack("{s:s}", "n", "toolong"), "n", 0, 3, &s) == -1);
    json_decref(o);
    arena_free(req.arena);
}

static void
config_env_overrides_file(void)
{
    cfg_set("token", "expiration", "100");
    CHECK(cfg_int("token", "expiration", 1) == 100);
    setenv("ONESTACK_TOKEN_EXPIRATION", "7", 1);
    CHECK(cfg_int("token", "expiration", 1) == 7);
    unsetenv("ONESTACK_TOKEN_EXPIRATION");
    setenv("ONESTACK_SECURITY_COMPLIANCE_LOCKOUT_DURATION", "5", 1);
    CHECK(cfg_int("security_compliance", "lockout_duration", 1800) == 5);
    CHECK(cfg_int("nope", "nothing", 3) == 3);
    CHECK(cfg_bool("nope", "nothing", true));
}

static const struct policy_rule rules[] = {
    {"t:any", P_ANY},
    {"t:admin", P_ADMIN},
    {"t:owner", P_ADMIN | P_OWNER},
    {"t:dom", P_DOM_READER},
    {"t:proj", P_PROJECT_MEMBER},
};

static void
policy_rules(void)
{
    policy_register(rules, sizeof(rules) / sizeof(rules[0]));
    struct http_req req = {0};
    req.arena = arena_new();
    req.auth.valid = true;
    req.auth.user_id = "u1";
    req.auth.project_id = "p1";
    req.auth.role_names[0] = "member";
    req.auth.role_names[1] = "reader";
    req.auth.nroles = 2;
    struct policy_target own = {.user_id = "u1", .project_id = "p1"};
    struct policy_target other = {.user_id = "u2", .project_id = "p2"};
    CHECK(policy_check(&req, "t:any", NULL));
    CHECK(!policy_check(&req, "t:admin", NULL));
    CHECK(policy_check(&req, "t:owner", &own));
    CHECK(!policy_check(&req, "t:owner", &other));
    CHECK(policy_check(&req, "t:proj", &own));
    CHECK(!policy_check(&req, "t:proj", &other));
    CHECK(!policy_check(&req, "t:dom", &own));
    CHECK(!policy_check(&req, "t:unknown", NULL));     /* fail closed */
    CHECK(policy_enforce(&req, "t:admin", NULL) == -1 && req.fail_status == 403);
    req.auth.role_names[2] = "admin";
    req.auth.nroles = 3;
    CHECK(policy_check(&req, "t:admin", NULL) && policy_check(&req, "t:unknown", NULL));
    req.auth.valid = false;
    CHECK(!policy_check(&req, "t:any", NULL));
    arena_free(req.arena);
}

/* Runs on SQLite, and on PostgreSQL too when ONESTACK_TEST_PG_URL is set. */
static void
db_layer(void)
{
    static const struct db_migration m[] = {
        {1, "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, b INTEGER, note TEXT)"},
        {2, "CREATE INDEX t_n ON t (n)"},
    };
    char path[64] = "/tmp/onestack-db-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    const char *pg = getenv("ONESTACK_TEST_PG_URL");
    CHECK(db_pool_open(pg ? pg : path) == 0);
    struct db *db = db_get();
    struct arena *a = arena_new();
    struct db_res *r;
    CHECK(db != NULL);
    if (pg)
        db_exec_script(db, "DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS schema_migrations");
    CHECK(db_migrate(db, m, 2) == DB_OK);
    CHECK(db_migrate(db, m, 2) == DB_OK);      /* applied once only */
    CHECK(db_exec(db, a, &r, "SELECT count(*) FROM schema_migrations", NULL) == DB_OK);
    CHECK(db_int(r, 0, 0) == 2);
    CHECK(db_exec(db, NULL, NULL, "INSERT INTO t VALUES (?, ?, ?, ?)", "sibs", "a",
                  (int64_t)1 << 40, 1, "it's") == DB_OK);
    CHECK(db_exec(db, NULL, NULL, "INSERT INTO t VALUES (?, ?, ?, ?)", "sibs", "a",
                  (int64_t)2, 0, NULL) == DB_CONFLICT);
    CHECK(db_exec(db, a, &r, "SELECT id, n, b, note FROM t WHERE n > ? AND b = ?", "ib",
                  (int64_t)5, 1) == DB_OK);
    CHECK(r->nrows == 1 && db_int(r, 0, 1) == (int64_t)1 << 40 && db_bool(r, 0, 2));
    CHECK_STR(db_val(r, 0, 3), "it's");
    CHECK(db_val(r, 1, 0) == NULL && db_val(r, 0, 9) == NULL);
    /* a rolled back write leaves nothing behind */
    CHECK(db_begin(db) == DB_OK);
    CHECK(db_exec(db, NULL, NULL, "INSERT INTO t (id) VALUES ('b')", NULL) == DB_OK);
    db_rollback(db);
    CHECK(db_exec(db, a, &r, "SELECT count(*) FROM t", NULL) == DB_OK && db_int(r, 0, 0) == 1);
    /* '?' inside a literal is not a placeholder */
    CHECK(db_exec(db, a, &r, "SELECT '?', ?", "s", "x") == DB_OK);
    CHECK_STR(db_val(r, 0, 0), "?");
    CHECK(db_exec(db, a, &r, "SELECT nope FROM t", NULL) == DB_ERR);

    /* the list-query builder: filters, NULL = no filter, bounded */
    struct db_query q = {0};
    db_query_sql(&q, "SELECT id FROM t WHERE 1 = 1");
    db_query_eq(&q, "id", "a");
    db_query_eq(&q, "note", NULL);
    db_query_sql(&q, " AND n > ");
    db_query_arg(&q, "5");
    CHECK(!q.full && q.nargs == 2);
    CHECK(db_query_exec(db, a, &r, &q) == DB_OK && r->nrows == 1);
    struct db_query big = {0};
    db_query_sql(&big, "SELECT 1 WHERE 1 = 1");
    for (int i = 0; i < DB_QUERY_MAX_ARGS + 1; i++)
        db_query_eq(&big, "1", "1");
    CHECK(big.full && db_query_exec(db, a, &r, &big) == DB_ERR);
    struct db_query longq = {0};
    for (int i = 0; i < 400; i++)
        db_query_sql(&longq, "0123456789");
    CHECK(longq.full && longq.len < sizeof(longq.sql));
    db_put(db);
    db_pool_close();
    arena_free(a);
    unlink(path);
}

/* Entries of dir other than . and .. */
static int
dir_entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void
blob_durable_writes(void)
{
    char dir[64] = "/tmp/onestack-blob-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct blob *b;
    CHECK(blob_open(dir, BLOB_MD5 | BLOB_SHA512, &b) == 0);
    CHECK(blob_write(b, "a", 1) == 0 && blob_write(b, "bc", 2) == 0);
    CHECK(blob_size(b) == 3);
    size_t n;
    CHECK(memcmp(blob_head(b, &n), "abc", 3) == 0 && n == 3);
    char md5[33], sha[129];
    blob_md5_hex(b, md5);
    blob_sha512_hex(b, sha);
    CHECK_STR(md5, "900150983cd24fb0d6963f7d28e17f72");
    CHECK(!strncmp(sha, "ddaf35a193617abacc417349ae204131", 32));
    CHECK(blob_commit(b, "final") == 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/final", dir);
    int fd;
    uint64_t size;
    CHECK(blob_open_read(path, &fd, &size) == 0 && size == 3);
    close(fd);
    unlink(path);
    /* an aborted blob leaves nothing, not even its temp file */
    CHECK(blob_open(dir, BLOB_MD5, &b) == 0);
    CHECK(blob_write(b, "xyz", 3) == 0);
    blob_abort(b);
    CHECK(dir_entries(dir) == 0);
    /* a name too long to build fails and leaves nothing */
    char longname[5000];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK(blob_open(dir, 0, &b) == 0);
    CHECK(blob_commit(b, longname) == -ENAMETOOLONG);
    CHECK(dir_entries(dir) == 0);
    CHECK(blob_open("/nonexistent/dir", 0, &b) == -ENOENT);
    rmdir(dir);
}

/* Past a few MiB the digests are computed on threads of their own that
 * read the bytes back: they must still match a one-shot hash of the whole. */
static void
blob_async_digests(void)
{
    char dir[] = "/tmp/blobasync-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    size_t total = (10u << 20) + 12345, piece = 65536 + 7;
    unsigned char *all = malloc(total);
    for (size_t i = 0; i < total; i++)
        all[i] = (unsigned char)(i * 2654435761u >> 13);
    struct blob *b;
    CHECK(blob_open(dir, BLOB_MD5 | BLOB_SHA512, &b) == 0);
    for (size_t off = 0; off < total; off += piece)
        CHECK(blob_write(b, all + off, total - off < piece ? total - off : piece) == 0);
    unsigned char d[64];
    unsigned int n;
    char want_md5[33], want_sha[129], md5[33], sha[129];
    EVP_Digest(all, total, d, &n, EVP_md5(), NULL);
    hex_encode(d, n, want_md5);
    EVP_Digest(all, total, d, &n, EVP_sha512(), NULL);
    hex_encode(d, n, want_sha);
    blob_md5_hex(b, md5);
    blob_sha512_hex(b, sha);
    CHECK_STR(md5, want_md5);
    CHECK_STR(sha, want_sha);
    CHECK(blob_size(b) == total);
    CHECK(blob_commit(b, "big") == 0);
    /* aborted mid-way with the hashers running: nothing left behind */
    CHECK(blob_open(dir, BLOB_MD5, &b) == 0);
    CHECK(blob_write(b, all, total) == 0);
    blob_abort(b);
    char path[64];
    snprintf(path, sizeof(path), "%s/big", dir);
    unlink(path);
    CHECK(dir_entries(dir) == 0);
    rmdir(dir);
    free(all);
}

/* The asynchronous log under concurrent writers, with WARNING lines that
 * flush synchronously and a buffer that fills up: every line arrives
 * whole, once, and each thread's lines in the order it wrote them. */
static void *
log_worker(void *p)
{
    int t = (int)(intptr_t)p;
    for (int i = 0; i < 20000; i++) {
        if (i % 997 == 0)
            log_warn(NULL, "lt%d-%06d %s", t, i, "warning line");
        else
            log_info(NULL, "lt%d-%06d %0400d", t, i, 0);
    }
    return NULL;
}

static void
log_async_keeps_lines_whole(void)
{
    char path[] = "/tmp/logtest-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    log_start_async();
    pthread_t th[6];
    for (intptr_t i = 0; i < 6; i++)
        pthread_create(&th[i], NULL, log_worker, (void *)i);
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    log_stop_async();
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    int next[6] = {0}, bad = 0;
    char line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        const char *m = strstr(line, "] lt");
        int t, i;
        if (!m)
            continue;
        if (sscanf(m, "] lt%d-%d", &t, &i) != 2 || t < 0 || t > 5 || i != next[t] ||
            line[strlen(line) - 1] != '\n')
            bad++;
        else
            next[t]++;
    }
    if (f)
        fclose(f);
    close(fd);
    unlink(path);
    CHECK(bad == 0);
    for (int t = 0; t < 6; t++)
        CHECK(next[t] == 20000);
}

/* Batched directory fsyncs: many threads on a few directories all get
 * their answer (one fsync may serve several of them), and a directory that
 * cannot be opened gets its own error, not a neighbour's success. */
struct fsd_arg {
    const char *dir;
    int bad;
};

static void *
fsd_worker(void *p)
{
    struct fsd_arg *a = p;
    for (int i = 0; i < 200; i++)
        if (fsync_dir(a->dir) != (strstr(a->dir, "missing") ? -ENOENT : 0))
            a->bad++;
    return NULL;
}

static void
fsync_dir_batched(void)
{
    char d1[] = "/tmp/fsd1-XXXXXX", d2[] = "/tmp/fsd2-XXXXXX";
    CHECK(mkdtemp(d1) && mkdtemp(d2));
    const char *dirs[] = {d1, d2, "/tmp/fsd-missing-dir"};
    pthread_t th[9];
    struct fsd_arg args[9];
    for (int i = 0; i < 9; i++) {
        args[i] = (struct fsd_arg){dirs[i % 3], 0};
        CHECK(pthread_create(&th[i], NULL, fsd_worker, &args[i]) == 0);
    }
    for (int i = 0; i < 9; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].bad == 0);
    }
    rmdir(d1);
    rmdir(d2);
}

T_MAIN("core", T(blob_durable_writes), T(blob_async_digests), T(fsync_dir_batched), T(log_async_keeps_lines_whole), T(db_layer), T(arena_allocs_and_cleans), T(b64url_roundtrip), T(time_iso_roundtrip),
       T(ids_are_uuid4_hex), T(router_matches_patterns), T(router_rest_param),
       T(jv_validates_types),
       T(config_env_overrides_file), T(policy_rules))
