/* qmp.c - the QMP client (see qmp.h). QMP speaks one JSON object per
 * line; a command's answer is the first object with "return" or "error"
 * after it was sent (no id is needed with one command in flight). */
#include "qmp.h"
#include "core/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct qmp {
    int fd;
    char buf[65536];
    size_t len;
};

/* The next message (a line), parsed, within the deadline (mono µs). */
static int
next_msg(struct qmp *q, int64_t deadline, json_t **msg)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl) {
            *nl = '\0';
            *msg = json_loads(q->buf, 0, NULL);
            size_t used = (size_t)(nl - q->buf) + 1;
            memmove(q->buf, q->buf + used, q->len - used);
            q->len -= used;
            if (*msg)
                return 0;
            continue;
        }
        if (q->len == sizeof(q->buf))
            return -EMSGSIZE;
        int64_t left = (deadline - mono_us()) / 1000;
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = q->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r <= 0)
            continue;
        ssize_t n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
        if (n == 0)
            return -ECONNRESET;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return -errno;
        if (n > 0)
            q->len += (size_t)n;
    }
}

int
qmp_cmd(struct qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret, char *why,
        size_t whylen)
{
    json_t *m = json_pack("{s:s}", "execute", cmd);
    if (args)
        json_object_set(m, "arguments", args);
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    size_t len = strlen(text), off = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        ssize_t n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0)
            off += (size_t)n;
    }
    free(text);
    if (rc == 0 && send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1)
        rc = -errno;
    int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
    while (rc == 0) {
        json_t *msg = NULL;
        if ((rc = next_msg(q, deadline, &msg)) < 0)
            break;
        json_t *r = json_object_get(msg, "return"), *e = json_object_get(msg, "error");
        if (r || e) {
            if (e) {
                snprintf(why, whylen, "QMP %s: %s", cmd,
                         json_string_value(json_object_get(e, "desc")) ?: "error");
                rc = -EIO;
            } else if (ret) {
                *ret = json_incref(r);
            }
            json_decref(msg);
            break;
        }
        json_decref(msg);  /* an event */
    }
    if (rc < 0 && rc != -EIO)
        snprintf(why, whylen, "QMP %s: %s", cmd, strerror(-rc));
    return rc;
}

int
qmp_open(const char *path, int timeout_ms, struct qmp **out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    struct qmp *q = xcalloc(1, sizeof(*q));
    q->fd = fd;
    json_t *greet = NULL;
    char why[128];
    int rc = next_msg(q, mono_us() + (int64_t)timeout_ms * 1000, &greet);
    json_decref(greet);
    if (rc == 0)
        rc = qmp_cmd(q, "qmp_capabilities", NULL, timeout_ms, NULL, why, sizeof(why));
    if (rc < 0) {
        qmp_close(q);
        return rc;
    }
    *out = q;
    return 0;
}

void
qmp_close(struct qmp *q)
{
    if (!q)
        return;
    close(q->fd);
    free(q);
}

int
qmp_run(const char *path, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
        char *why, size_t whylen)
{
    struct qmp *q;
    int rc = qmp_open(path, timeout_ms, &q);
    if (rc < 0) {
        snprintf(why, whylen, "QMP %s: cannot connect: %s", cmd, strerror(-rc));
        return rc;
    }
    rc = qmp_cmd(q, cmd, args, timeout_ms, ret, why, whylen);
    qmp_close(q);
    return rc;
}
