/* run.c - child processes and file trees for the agent (see run.h). */
#define _XOPEN_SOURCE 700
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Reads what fd gives until EOF into b (keeping the last bytes when it
 * does not fit). */
static void
drain(int fd, char *b, size_t n)
{
    size_t len = 0;
    char tmp[4096];
    ssize_t r;
    if (n)
        b[0] = '\0';
    while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!n)
            continue;
        size_t k = (size_t)r;
        if (k >= n - 1) {
            memcpy(b, tmp + k - (n - 1), n - 1);
            len = n - 1;
        } else {
            if (len + k > n - 1) {
                size_t drop = len + k - (n - 1);
                memmove(b, b + drop, len - drop);
                len -= drop;
            }
            memcpy(b + len, tmp, k);
            len += k;
        }
        b[len] = '\0';
    }
}

int
run_cmd_out(const char *const argv[], char *out, size_t outlen, char *why, size_t whylen)
{
    int ep[2], op[2] = {-1, -1};
    if (pipe2(ep, O_CLOEXEC) < 0)
        return -errno;
    if (out && pipe2(op, O_CLOEXEC) < 0) {
        close(ep[0]);
        close(ep[1]);
        return -errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out)
        posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(ep[1]);
    if (out)
        close(op[1]);
    if (rc) {
        close(ep[0]);
        if (out)
            close(op[0]);
        snprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(rc));
        return -rc;
    }
    /* stdout first: a tool writes little to stderr, so it cannot block */
    if (out) {
        drain(op[0], out, outlen);
        close(op[0]);
    }
    char err[512];
    drain(ep[0], err, sizeof(err));
    close(ep[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    snprintf(why, whylen, "%s failed: %s", argv[0], *err ? err : "no message");
    return -EIO;
}

int
run_cmd(const char *const argv[], char *why, size_t whylen)
{
    return run_cmd_out(argv, NULL, 0, why, whylen);
}

void
tail_lines(char *buf, size_t *len, int lines)
{
    if (lines <= 0)
        return;
    size_t i = *len;
    int seen = 0;
    if (i && buf[i - 1] == '\n')
        i--;
    while (i > 0 && seen < lines)
        if (buf[--i] == '\n')
            seen++;
    if (seen == lines)
        i++;
    memmove(buf, buf + i, *len - i + 1);
    *len -= i;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

int
rm_tree(const char *path)
{
    if (access(path, F_OK) < 0)
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
