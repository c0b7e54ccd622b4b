/* config.c - see config.h. The table is tiny (tens of keys) and written
 * once at start, so a mutex-guarded list is all it needs. */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <ini.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
    struct entry *next;
    char *section, *key, *value;
};

static struct entry *entries;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
cfg_set(const char *section, const char *key, const char *value)
{
    pthread_mutex_lock(&lock);
    for (struct entry *e = entries; e; e = e->next) {
        if (!strcasecmp(e->section, section) && !strcasecmp(e->key, key)) {
            /* values are handed out by pointer, so the old one is kept */
            e->value = xstrdup(value);
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    struct entry *e = xcalloc(1, sizeof(*e));
    e->section = xstrdup(section);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&lock);
}

static int
on_pair(void *user, const char *section, const char *name, const char *value)
{
    (void)user;
    cfg_set(section, name, value ? value : "");
    return 1;
}

int
cfg_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int r = ini_parse_file(f, on_pair, NULL);
    fclose(f);
    if (r != 0) {
        fprintf(stderr, "onestack: %s: syntax error on line %d\n", path, r);
        return -1;
    }
    return 0;
}

const char *
cfg_get(const char *section, const char *key, const char *def)
{
    char env[256];
    int n = snprintf(env, sizeof(env), "ONESTACK_%s_%s", section, key);
    if (n > 0 && n < (int)sizeof(env)) {
        for (char *p = env; *p; p++)
            *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
        const char *v = getenv(env);
        if (v)
            return v;
    }
    const char *r = def;
    pthread_mutex_lock(&lock);
    for (struct entry *e = entries; e; e = e->next)
        if (!strcasecmp(e->section, section) && !strcasecmp(e->key, key)) {
            r = e->value;
            break;
        }
    pthread_mutex_unlock(&lock);
    return r;
}

int64_t
cfg_int(const char *section, const char *key, int64_t def)
{
    const char *v = cfg_get(section, key, NULL);
    if (!v || !*v)
        return def;
    char *end;
    long long x = strtoll(v, &end, 10);
    return *end ? def : (int64_t)x;
}

bool
cfg_bool(const char *section, const char *key, bool def)
{
    const char *v = cfg_get(section, key, NULL);
    if (!v || !*v)
        return def;
    return !strcasecmp(v, "true") || !strcasecmp(v, "1") || !strcasecmp(v, "yes") ||
           !strcasecmp(v, "on");
}
