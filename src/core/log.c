/* log.c - see log.h. Lines are formatted whole before they are written,
 * so they never interleave across threads. */
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF (1u << 20)
#define LOG_KICK (256u << 10)

static enum log_level min_level = LOG_INFO;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t kick;        /* wakes the flusher early */
    pthread_cond_t flushed;     /* a write of the batch has ended */
    char *buf;
    size_t len;
    bool on, stop;
    bool flushing;              /* a batch is being written (out[] in use) */
    pthread_t thread;
} async = {.lock = PTHREAD_MUTEX_INITIALIZER, .kick = PTHREAD_COND_INITIALIZER,
           .flushed = PTHREAD_COND_INITIALIZER};

static void
write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w <= 0)
            return;     /* nowhere to complain to */
        p += w;
        n -= (size_t)w;
    }
}

/* Writes out what is waiting; called with the lock held, releases it
 * around the write so loggers are not blocked by a slow stderr. One batch
 * at a time: a second flusher (a WARNING line, a full buffer) waits for
 * the first, so lines keep their order and out[] is never shared. */
static void
flush_locked(void)
{
    static char out[LOG_BUF];
    while (async.flushing)
        pthread_cond_wait(&async.flushed, &async.lock);
    size_t n = async.len;
    if (!n)
        return;
    memcpy(out, async.buf, n);
    async.len = 0;
    async.flushing = true;
    pthread_mutex_unlock(&async.lock);
    write_all(out, n);
    pthread_mutex_lock(&async.lock);
    async.flushing = false;
    pthread_cond_broadcast(&async.flushed);
}

static void *
flusher(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&async.lock);
    while (!async.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&async.kick, &async.lock, &ts);
        flush_locked();
    }
    pthread_mutex_unlock(&async.lock);
    return NULL;
}

void
log_start_async(void)
{
    pthread_mutex_lock(&async.lock);
    if (!async.buf)
        async.buf = xmalloc(LOG_BUF);
    async.stop = false;
    async.on = pthread_create(&async.thread, NULL, flusher, NULL) == 0;
    pthread_mutex_unlock(&async.lock);
}

void
log_stop_async(void)
{
    pthread_mutex_lock(&async.lock);
    if (!async.on) {
        pthread_mutex_unlock(&async.lock);
        return;
    }
    async.stop = true;
    async.on = false;
    pthread_cond_signal(&async.kick);
    pthread_mutex_unlock(&async.lock);
    pthread_join(async.thread, NULL);
    pthread_mutex_lock(&async.lock);
    flush_locked();
    pthread_mutex_unlock(&async.lock);
}

void
log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

void
log_msg(enum log_level lvl, const char *rid, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    if (lvl < min_level)
        return;
    char ts[40], line[2300];
    time_iso(now_us(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "%s %s [%s] ", ts, names[lvl], rid ? rid : "-");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';

    pthread_mutex_lock(&async.lock);
    if (async.on && lvl < LOG_WARN) {
        /* the flusher fell behind: pay for it here (a loop: others may
         * fill the buffer again while this thread writes it out) */
        while (async.len + (size_t)n > LOG_BUF)
            flush_locked();
        memcpy(async.buf + async.len, line, (size_t)n);
        async.len += (size_t)n;
        if (async.len >= LOG_KICK)
            pthread_cond_signal(&async.kick);
        pthread_mutex_unlock(&async.lock);
        return;
    }
    /* keep order: what is waiting (or being written) goes out before this
     * line, which is written under the lock so nothing overtakes it */
    flush_locked();
    write_all(line, (size_t)n);
    pthread_mutex_unlock(&async.lock);
}
