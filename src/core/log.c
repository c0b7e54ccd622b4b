/* log.c - see log.h. One fprintf per line keeps lines whole across threads
 * (stdio locks the stream for the call). */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level min_level = LOG_INFO;

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
    char ts[40], msg[2048];
    time_iso(now_us(), ts, sizeof(ts));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s [%s] %s\n", ts, names[lvl], rid ? rid : "-", msg);
}
