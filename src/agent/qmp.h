/* qmp.h - a small blocking client of QEMU's machine protocol (QMP) over
 * a unix socket: one connection, one command at a time, every wait
 * bounded. Events that arrive meanwhile are skipped. */
#ifndef AGENT_QMP_H
#define AGENT_QMP_H

#include <jansson.h>

struct qmp;

/* Connects to the QMP socket at path, reads the greeting and leaves the
 * capabilities negotiation mode, all within timeout_ms. *out is the
 * caller's (qmp_close). 0 or -errno (-ENOENT / -ECONNREFUSED: no QEMU
 * listens, -ETIMEDOUT). */
int qmp_open(const char *path, int timeout_ms, struct qmp **out);
/* Runs cmd with args (borrowed; NULL for none) and waits up to
 * timeout_ms for its answer. *ret (may be NULL) gets the "return" value
 * (a new reference). 0, -EIO when QEMU answered with an error (its
 * description in why), or -errno. */
int qmp_cmd(struct qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
            char *why, size_t whylen);
void qmp_close(struct qmp *q);
/* qmp_open + qmp_cmd + qmp_close. */
int qmp_run(const char *path, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
            char *why, size_t whylen);

#endif
