/* run.h - running the host tools the agent drives (qemu-img,
 * genisoimage) and QEMU itself. */
#ifndef AGENT_RUN_H
#define AGENT_RUN_H

#include <stddef.h>

/* Runs argv[0] (found on PATH) with argv (NULL-terminated), stdin from
 * /dev/null, stdout discarded, and waits for it. stderr (its last bytes)
 * goes into why. 0 when it exited with status 0, else -EIO (or -errno
 * when it could not start). */
int run_cmd(const char *const argv[], char *why, size_t whylen);
/* The same, with stdout captured (up to outlen - 1 bytes, NUL-ended). */
int run_cmd_out(const char *const argv[], char *out, size_t outlen, char *why, size_t whylen);
/* Keeps the last `lines` lines (<= 0: all) of the NUL-terminated text
 * buf of *len bytes, moving them to its start; *len is updated. */
void tail_lines(char *buf, size_t *len, int lines);
/* Removes path and everything below it; a missing path is fine. 0 or
 * -errno. */
int rm_tree(const char *path);

#endif
