/* main.c - the onestack command line:
 *   onestack init  --data DIR [--listen HOST:PORT] [--admin-password PW]
 *   onestack serve --data DIR
 *   onestack admin fernet-rotate --data DIR
 * init makes a data directory (config, database, keys, bootstrap data,
 * clouds.yaml, openrc); serve runs the API until SIGTERM/SIGINT. */
#include "core/config.h"
#include "core/db.h"
#include "core/http.h"
#include "core/log.h"
#include "core/util.h"
#include "agent/agent.h"
#include "agent/net.h"
#include "core/arena.h"
#include "compute/compute.h"
#include "identity/identity.h"
#include "image/image.h"
#include "network/network.h"
#include "object/object.h"
#include "placement/placement.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DATA "/var/lib/onestack"
#define DEFAULT_LISTEN "127.0.0.1:8000"

struct opts {
    const char *data;
    const char *listen;
    const char *admin_pw;
};

static int
usage(void)
{
    fputs("usage: onestack init  --data DIR [--listen HOST:PORT] [--admin-password PW]\n"
          "       onestack serve --data DIR\n"
          "       onestack admin fernet-rotate --data DIR\n"
          "       onestack admin net-apply PLAN.json\n",
          stderr);
    return 2;
}

static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"admin-password", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    o->data = DEFAULT_DATA;
    while ((c = getopt_long(argc, argv, "d:l:p:", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'p': o->admin_pw = optarg; break;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* DIR/name in one of a few rotating buffers, so a handful of paths can be
 * alive at once in these short single-threaded commands. */
static const char *
path_in(const char *dir, const char *name)
{
    static char ring[8][4096];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
    return p;
}

/* Reads DIR/onestack.conf; the database URL defaults into the data dir. */
static int
load_config(const char *data)
{
    if (cfg_load(path_in(data, "onestack.conf")) < 0)
        return -1;
    if (!cfg_get("database", "url", NULL))
        cfg_set("database", "url", path_in(data, "onestack.db"));
    if (!strcmp(cfg_get("DEFAULT", "debug", "false"), "true"))
        log_set_level(LOG_DEBUG);
    return 0;
}

static const char *
public_url(void)
{
    static char url[512];
    const char *pub = cfg_get("DEFAULT", "public_url", NULL);
    if (pub && *pub)
        return pub;
    snprintf(url, sizeof(url), "http://%s", cfg_get("DEFAULT", "listen", DEFAULT_LISTEN));
    return url;
}

/* Opens the database pool and brings the schema up to date. */
static struct db *
open_db(void)
{
    if (db_pool_open(cfg_get("database", "url", NULL)) < 0)
        return NULL;
    struct db *db = db_get();
    if (!db)
        return NULL;
    if (db_migrate(db, idn_migrations, idn_nmigrations) != DB_OK ||
        db_migrate(db, obj_migrations, obj_nmigrations) != DB_OK ||
        db_migrate(db, img_migrations, img_nmigrations) != DB_OK ||
        db_migrate(db, plc_migrations, plc_nmigrations) != DB_OK ||
        db_migrate(db, cmp_migrations, cmp_nmigrations) != DB_OK ||
        db_migrate(db, net_migrations, net_nmigrations) != DB_OK) {
        log_error(NULL, "database: migration failed: %s", db_errmsg(db));
        db_put(db);
        return NULL;
    }
    return db;
}

static int
write_client_files(const char *data, const char *pw)
{
    char buf[4096];
    const char *auth = public_url();
    int n = snprintf(buf, sizeof(buf),
                     "clouds:\n"
                     "  onestack:\n"
                     "    auth:\n"
                     "      auth_url: %s/identity/v3\n"
                     "      username: admin\n"
                     "      password: \"%s\"\n"
                     "      project_name: admin\n"
                     "      user_domain_name: Default\n"
                     "      project_domain_name: Default\n"
                     "    region_name: RegionOne\n"
                     "    identity_api_version: 3\n"
                     "    interface: public\n"
                     /* 2.37 is the oldest microversion that takes
                      * "--nic none": without it the CLI refuses to boot a
                      * server on a cloud with no networks */
                     "    compute_api_version: \"2.37\"\n",
                     auth, pw);
    if (file_write_atomic(path_in(data, "clouds.yaml"), buf, (size_t)n, 0600) < 0)
        return -1;
    n = snprintf(buf, sizeof(buf),
                 "export OS_AUTH_URL=%s/identity/v3\n"
                 "export OS_USERNAME=admin\n"
                 "export OS_PASSWORD='%s'\n"
                 "export OS_PROJECT_NAME=admin\n"
                 "export OS_USER_DOMAIN_NAME=Default\n"
                 "export OS_PROJECT_DOMAIN_NAME=Default\n"
                 "export OS_REGION_NAME=RegionOne\n"
                 "export OS_IDENTITY_API_VERSION=3\n"
                 "export OS_COMPUTE_API_VERSION=2.37\n",
                 auth, pw);
    return file_write_atomic(path_in(data, "openrc"), buf, (size_t)n, 0600);
}

static int
cmd_init(struct opts *o)
{
    if (mkdir_p(o->data, 0700) < 0) {
        fprintf(stderr, "onestack: cannot create %s: %s\n", o->data, strerror(errno));
        return 1;
    }
    static const char *dirs[] = {"fernet-keys", "images", "objects", "instances", "volumes",
                                 "run"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        mkdir_p(path_in(o->data, dirs[i]), 0700);
    struct stat st;
    const char *conf = path_in(o->data, "onestack.conf");
    if (stat(conf, &st) < 0 || o->listen) {
        char buf[1024];
        int n = snprintf(buf, sizeof(buf),
                         "# onestack configuration (INI). Environment variables\n"
                         "# ONESTACK_<SECTION>_<KEY> override any value here.\n"
                         "[DEFAULT]\nlisten = %s\n\n[database]\nurl = sqlite://%s\n\n"
                         "[token]\nexpiration = 3600\n\n[identity]\n"
                         "password_hash_rounds = 12\n\n[security_compliance]\n"
                         "lockout_failure_attempts = 0\nlockout_duration = 1800\n"
                         "unique_last_password_count = 0\nminimum_password_age = 0\n",
                         o->listen ? o->listen : DEFAULT_LISTEN,
                         path_in(o->data, "onestack.db"));
        if (file_write_atomic(conf, buf, (size_t)n, 0600) < 0) {
            fprintf(stderr, "onestack: cannot write %s\n", conf);
            return 1;
        }
    }
    if (load_config(o->data) < 0)
        return 1;
    struct db *db = open_db();
    if (!db)
        return 1;
    if (fernet_load(path_in(o->data, "fernet-keys")) < 0)
        return 1;

    /* the admin password: given, kept from an earlier init, or new */
    char gen[40];
    const char *pw = o->admin_pw;
    bool have_files = stat(path_in(o->data, "clouds.yaml"), &st) == 0;
    if (!pw && !have_files) {
        unsigned char raw[18];
        random_bytes(raw, sizeof(raw));
        b64url_encode(raw, sizeof(raw), gen);
        pw = gen;
    }
    int rc = idn_bootstrap(db, pw, public_url(), "RegionOne");
    if (rc == DB_OK)
        rc = cmp_bootstrap(db);
    db_put(db);
    if (rc != DB_OK) {
        fprintf(stderr, "onestack: bootstrap failed\n");
        return 1;
    }
    if (pw && write_client_files(o->data, pw) < 0) {
        fprintf(stderr, "onestack: cannot write clouds.yaml/openrc in %s\n", o->data);
        return 1;
    }
    printf("onestack: data directory %s is ready (clouds.yaml, openrc)\n", o->data);
    return 0;
}

static int
cmd_serve(struct opts *o)
{
    if (load_config(o->data) < 0)
        return 1;
    /* handle the stop signals in this thread only; every thread started
     * from here on inherits the blocked mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct db *db = open_db();
    if (!db)
        return 1;
    int rc = idn_bootstrap(db, NULL, public_url(), "RegionOne");
    db_put(db);
    if (rc != DB_OK || idn_service_init(o->data) < 0 || obj_service_init(o->data) < 0 ||
        img_service_init(o->data) < 0 || plc_service_init() < 0 ||
        cmp_service_init(o->data) < 0 || cmp_service_start() < 0 || net_service_init() < 0)
        return 1;
    /* the in-process host agent of the all-in-one ([compute] agent = false
     * for a control plane without one) */
    bool agent = strcmp(cfg_get("compute", "agent", "true"), "false") != 0;
    if (agent && agent_start(o->data) < 0)
        return 1;

    const char *listen = cfg_get("DEFAULT", "listen", DEFAULT_LISTEN);
    char host[256];
    int port;
    const char *colon = strrchr(listen, ':');
    if (!colon || colon - listen >= (long)sizeof(host) || (port = atoi(colon + 1)) <= 0) {
        log_error(NULL, "bad listen address '%s' (want HOST:PORT)", listen);
        return 1;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    if (http_start(host, port) < 0)
        return 1;
    log_info(NULL, "onestack serving on %s (public %s, database %s)", listen, public_url(),
             db_is_pg() ? "postgresql" : "sqlite");
    log_start_async();
    int sig;
    sigwait(&set, &sig);
    log_info(NULL, "signal %d: stopping", sig);
    http_stop();
    if (agent)
        agent_stop();
    cmp_service_stop();
    pw_stop();
    obj_expirer_stop();     /* it uses the database: stop it before the pool */
    db_pool_close();
    log_info(NULL, "stopped");
    log_stop_async();
    return 0;
}

/* `admin net-apply`: makes this host's networking match a network plan
 * document (docs/network-host.md), as the agent does with the plan the
 * control plane sends; for operators checking a plan by hand, and for
 * the tests of the host networking. */
static int
cmd_net_apply(const char *file)
{
    json_error_t err;
    json_t *doc = json_load_file(file, 0, &err);
    if (!doc) {
        fprintf(stderr, "onestack: %s: %s\n", file, err.text);
        return 1;
    }
    char why[512];
    struct arena *a = arena_new();
    struct np_plan plan;
    const char *run = NET_RUN_DIR;
    int rc = np_parse(doc, a, &plan, why, sizeof(why));
    if (rc == 0 && (rc = mkdir_p(run, 0755)) < 0)
        snprintf(why, sizeof(why), "cannot make %s", run);
    if (rc == 0)
        rc = net_apply(&plan, run, why, sizeof(why));
    if (rc < 0)
        fprintf(stderr, "onestack: net-apply: %s\n", why);
    arena_free(a);
    json_decref(doc);
    return rc < 0 ? 1 : 0;
}

static int
cmd_admin(int argc, char **argv)
{
    struct opts o;
    if (argc >= 3 && !strcmp(argv[1], "net-apply")) {
        log_set_level(LOG_WARN);
        return cmd_net_apply(argv[argc - 1]);
    }
    if (argc < 2 || strcmp(argv[1], "fernet-rotate") || parse(argc - 1, argv + 1, &o) < 0)
        return usage();
    if (load_config(o.data) < 0)
        return 1;
    const char *dir = path_in(o.data, "fernet-keys");
    if (fernet_rotate(dir, (int)cfg_int("fernet_tokens", "max_active_keys", 3)) < 0) {
        fprintf(stderr, "onestack: rotation of %s failed\n", dir);
        return 1;
    }
    printf("onestack: rotated fernet keys in %s\n", dir);
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    /* Requests allocate and free a few MiB at most (a 10,000-object
     * listing): keep freed memory in the heap for the next request rather
     * than handing it back and faulting it in again, which this
     * hypervisor makes expensive (a third of a listing's time was page
     * faults). RSS stays at its high-water mark, bounded by the largest
     * request. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "admin"))
        return cmd_admin(argc - 1, argv + 1);
    if (parse(argc - 1, argv + 1, &o) < 0)
        return usage();
    if (!strcmp(argv[1], "init"))
        return cmd_init(&o);
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(&o);
    return usage();
}
