/* fake.c - the fake virt driver: every guest is a small state file in its
 * directory (DIR/fake.state holds its power state as a number), so API
 * tests run the whole state machine, scheduling and restart recovery in
 * milliseconds. Two hooks let tests steer it: a base image whose bytes
 * start with "onestack-fake-fail" fails every spawn, and writing 4 into
 * fake.state plays a guest that powered itself off (or a killed QEMU).
 * [compute] fake_delay_ms slows every call down, to watch transitions. */
#include "driver.h"
#include "run.h"
#include "core/config.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int delay_ms;

static void
pause_a_bit(void)
{
    if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static const char *
path(const struct drv_guest *g, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", g->dir, name);
    return buf;
}

/* The recorded power state; DRV_SHUTDOWN when the guest was never made. */
static int
get(const struct drv_guest *g)
{
    char p[4200];
    char *s = file_read(path(g, "fake.state", p, sizeof(p)), NULL);
    int v = s ? atoi(s) : DRV_SHUTDOWN;
    free(s);
    return v;
}

static int
put(const struct drv_guest *g, int power)
{
    char p[4200], v[16];
    int n = snprintf(v, sizeof(v), "%d\n", power);
    pause_a_bit();
    return file_write_atomic(path(g, "fake.state", p, sizeof(p)), v, (size_t)n, 0600);
}

static bool
fake_kvm(void)
{
    return false;
}

static int
fake_init(const char *virt_type)
{
    delay_ms = atoi(cfg_get("compute", "fake_delay_ms", "0"));
    return 0;
}

static int
fake_spawn(const struct drv_guest *g, char *why, size_t whylen)
{
    char p[4200], head[32] = "";
    int fd = g->base_path ? open(g->base_path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        snprintf(why, whylen, "base image %s is missing", g->base_path ? g->base_path : "");
        return -ENOENT;
    }
    ssize_t n = read(fd, head, sizeof(head) - 1);
    close(fd);
    if (n > 0 && !strncmp(head, "onestack-fake-fail", 18)) {
        snprintf(why, whylen, "the fake driver was told to fail this image");
        return -EIO;
    }
    int cur = get(g);
    if (cur == DRV_RUNNING || cur == DRV_PAUSED)
        return 0;
    char line[256];
    int len = snprintf(line, sizeof(line), "fake guest %s: %d vCPU, %lld MiB\n"
                       "onestack-guest-ready %s\n", g->uuid, g->vcpus, (long long)g->ram_mb,
                       g->uuid);
    int cfd = open(path(g, "console.log", p, sizeof(p)), O_WRONLY | O_CREAT | O_APPEND |
                   O_CLOEXEC, 0600);
    if (cfd >= 0) {
        if (write(cfd, line, (size_t)len) != len)
            snprintf(why, whylen, "short console write");
        close(cfd);
    }
    return put(g, DRV_RUNNING);
}

static int
fake_power_off(const struct drv_guest *g, int timeout_s, char *why, size_t whylen)
{
    return put(g, DRV_SHUTDOWN);
}

static int
fake_reboot(const struct drv_guest *g, bool hard, char *why, size_t whylen)
{
    int rc = put(g, DRV_SHUTDOWN);
    return rc ? rc : fake_spawn(g, why, whylen);
}

/* pause / unpause / suspend / resume: a move between two states */
static int
move(const struct drv_guest *g, int from, int to, const char *what, char *why, size_t whylen)
{
    int cur = get(g);
    if (cur == to)
        return 0;
    if (cur != from) {
        snprintf(why, whylen, "cannot %s a guest in power state %d", what, cur);
        return -EINVAL;
    }
    return put(g, to);
}

static int
fake_pause(const struct drv_guest *g, char *why, size_t whylen)
{
    return move(g, DRV_RUNNING, DRV_PAUSED, "pause", why, whylen);
}

static int
fake_unpause(const struct drv_guest *g, char *why, size_t whylen)
{
    return move(g, DRV_PAUSED, DRV_RUNNING, "unpause", why, whylen);
}

static int
fake_suspend(const struct drv_guest *g, char *why, size_t whylen)
{
    return move(g, DRV_RUNNING, DRV_SUSPENDED, "suspend", why, whylen);
}

static int
fake_resume(const struct drv_guest *g, char *why, size_t whylen)
{
    return move(g, DRV_SUSPENDED, DRV_RUNNING, "resume", why, whylen);
}

/* A "snapshot" is a copy of the base image: a valid image to boot from. */
static int
fake_snapshot(const struct drv_guest *g, const char *out_path, char *why, size_t whylen)
{
    size_t n = 0;
    char *data = g->base_path ? file_read(g->base_path, &n) : NULL;
    if (!data) {
        snprintf(why, whylen, "base image %s is unreadable", g->base_path ? g->base_path : "");
        return -EIO;
    }
    pause_a_bit();
    int rc = file_write_atomic(out_path, data, n, 0600);
    free(data);
    return rc;
}

static int
fake_resize_disk(const struct drv_guest *g, char *why, size_t whylen)
{
    char p[4200];
    return access(path(g, "fake.state", p, sizeof(p)), F_OK) == 0 ? 0 : -ENOENT;
}

static int
fake_destroy(const struct drv_guest *g)
{
    DIR *d = opendir(g->dir);
    struct dirent *e;
    char p[4400];
    pause_a_bit();
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(path(g, e->d_name, p, sizeof(p)));
    if (d)
        closedir(d);
    return rmdir(g->dir) == 0 || errno == ENOENT ? 0 : -errno;
}

static int
fake_state(const struct drv_guest *g, int *power, char *why, size_t whylen)
{
    *power = get(g);
    return 0;
}

static int
fake_console(const struct drv_guest *g, int lines, char **out, size_t *len)
{
    char p[4200];
    *out = file_read(path(g, "console.log", p, sizeof(p)), len);
    if (!*out)
        return -ENOENT;
    tail_lines(*out, len, lines);
    return 0;
}

/* Where a VNC server would listen: nothing does (the proxy's connection
 * to it fails), but the console API has an address to hand out. */
static int
fake_vnc_socket(const struct drv_guest *g, char *out, size_t outlen)
{
    if (access(g->dir, F_OK) < 0)
        return -ENOENT;
    snprintf(out, outlen, "%s/vnc.sock", g->dir);
    return 0;
}

const struct virt_driver virt_fake = {
    .name = "fake", .hypervisor_type = "fake", .kvm = fake_kvm, .init = fake_init,
    .spawn = fake_spawn, .power_off = fake_power_off, .reboot = fake_reboot,
    .pause = fake_pause, .unpause = fake_unpause, .suspend = fake_suspend,
    .resume = fake_resume, .snapshot = fake_snapshot, .resize_disk = fake_resize_disk,
    .destroy = fake_destroy, .state = fake_state, .console = fake_console,
    .vnc_socket = fake_vnc_socket,
};
