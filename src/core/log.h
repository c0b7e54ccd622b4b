/* log.h - one line per event on stderr: time, level, request id, message.
 * Under systemd the lines land in the journal; no library needed. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is printed (default LOG_INFO). */
void log_set_level(enum log_level lvl);
/* From now on lines are collected in memory and written by a background
 * thread every 50 ms (or sooner when 256 KiB are waiting), so a busy API
 * does not pay one write(2) per request. WARNING and ERROR lines, and
 * everything after log_stop_async(), are still written at once. */
void log_start_async(void);
/* Writes what is waiting and returns to synchronous writes. */
void log_stop_async(void);
/* Prints one line; rid may be NULL ("-" is printed). Thread-safe. */
void log_msg(enum log_level lvl, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(rid, ...) log_msg(LOG_INFO, rid, __VA_ARGS__)
#define log_warn(rid, ...) log_msg(LOG_WARN, rid, __VA_ARGS__)
#define log_error(rid, ...) log_msg(LOG_ERROR, rid, __VA_ARGS__)
#define log_debug(rid, ...) log_msg(LOG_DEBUG, rid, __VA_ARGS__)

#endif
