/*
 * bcrypt_floor.c - the CPU ceiling for password token issue on this machine: how many bcrypt
 * verifies a second libcrypt's crypt_r() (libxcrypt, native C) does with T threads at the
 * given cost. A server that verifies one password per token cannot issue tokens faster.
 *
 *   bcrypt_floor THREADS VERIFIES_PER_THREAD [COST]    (COST defaults to 12)
 *
 * Prints one JSON object: wall and CPU seconds, verifies per second, CPU ms per verify.
 * Benchmark helper only; written for onestack's bench/identity.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *password = "bench-user-pw";
static char stored[CRYPT_OUTPUT_SIZE];    /* the "$2b$NN$..." hash every thread checks */
static long per_thread;
static int failures;

static double
now(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One worker: per_thread verifies, each a full crypt_r() with the stored hash as setting. */
static void *
worker(void *arg)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    long i;

    (void)arg;
    if (cd == NULL)
        return (void *)1;
    for (i = 0; i < per_thread; i++) {
        const char *h = crypt_r(password, stored, cd);

        if (h == NULL || strcmp(h, stored) != 0)
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    free(cd);
    return NULL;
}

int
main(int argc, char **argv)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd;
    pthread_t *tids;
    double w0, c0, wall, cpu;
    int nthreads, cost, i;
    const char *h;

    if (argc < 3) {
        fprintf(stderr, "usage: bcrypt_floor THREADS VERIFIES_PER_THREAD [COST]\n");
        return 2;
    }
    nthreads = atoi(argv[1]);
    per_thread = atol(argv[2]);
    cost = argc > 3 ? atoi(argv[3]) : 12;
    if (nthreads < 1 || per_thread < 1 || cost < 4 || cost > 31) {
        fprintf(stderr, "bcrypt_floor: bad arguments\n");
        return 2;
    }
    cd = calloc(1, sizeof(*cd));
    tids = calloc((size_t)nthreads, sizeof(*tids));
    if (cd == NULL || tids == NULL)
        return 1;
    if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof(setting)) == NULL) {
        perror("crypt_gensalt_rn");
        return 1;
    }
    h = crypt_r(password, setting, cd);
    if (h == NULL || h[0] == '*') {
        fprintf(stderr, "bcrypt_floor: crypt_r cannot hash '%s'\n", setting);
        return 1;
    }
    snprintf(stored, sizeof(stored), "%s", h);

    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (i = 0; i < nthreads; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    for (i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    wall = now(CLOCK_MONOTONIC) - w0;
    cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;

    printf("{\"impl\": \"libcrypt crypt_r\", \"cost\": %d, \"threads\": %d, \"verifies\": %ld, "
           "\"failures\": %d, \"wall_s\": %.3f, \"cpu_s\": %.3f, \"per_s\": %.2f, "
           "\"cpu_ms_each\": %.1f}\n",
           cost, nthreads, per_thread * nthreads, failures, wall, cpu,
           (double)(per_thread * nthreads) / wall, cpu * 1000.0 / (double)(per_thread * nthreads));
    free(tids);
    free(cd);
    return failures != 0;
}
