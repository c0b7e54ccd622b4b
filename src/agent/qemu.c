/* qemu.c - the qemu virt driver (driver.h): one QEMU process a guest,
 * started with -daemonize so it outlives the daemon, found again from its
 * directory (pid file, checked against /proc/PID/cmdline so a reused pid
 * is never touched) and controlled over its QMP socket.
 *
 * The guest's directory holds: disk (qcow2 overlay on the cached base
 * image), disk.eph0, disk.swap, disk.config (config drive), console.log
 * (serial, bounded), qmp.sock, serial.sock, vnc.sock, qemu.pid, qemu.log
 * (QEMU's own messages) and, while suspended, memory.state. */
#include "driver.h"
#include "qmp.h"
#include "run.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QMP_MS 5000                 /* any QMP answer */
#define QUIT_WAIT_MS 5000           /* after "quit", before SIGKILL */
#define SOFT_REBOOT_S 60            /* ACPI shutdown of a soft reboot */
#define POWERDOWN_RETRY_MS 3000     /* between presses of the power button */
#define CONSOLE_MAX (1 << 20)       /* console.log is cut back past this... */
#define CONSOLE_KEEP (256 << 10)    /* ...to its last bytes */
#define PROBE_MARK "onestack-kvm-probe-ok"

extern char **environ;

static bool use_kvm;

static const char *
p(const struct drv_guest *g, const char *name, char *buf)
{
    snprintf(buf, 4200, "%s/%s", g->dir, name);
    return buf;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the process ---- */

/* The pid of the guest's QEMU when it runs (its cmdline names the guest),
 * else 0. A zombie has no cmdline, so it counts as gone. */
static pid_t
guest_pid(const struct drv_guest *g)
{
    char b[4200], want[64];
    char *s = file_read(p(g, "qemu.pid", b), NULL);
    pid_t pid = s ? (pid_t)atoi(s) : 0;
    free(s);
    if (pid <= 0)
        return 0;
    snprintf(b, sizeof(b), "/proc/%d/cmdline", (int)pid);
    size_t n = 0;
    char *cmd = file_read(b, &n);
    bool ours = false;
    snprintf(want, sizeof(want), "guest-%s", g->uuid);
    for (size_t i = 0; cmd && i < n; i += strlen(cmd + i) + 1)
        if (strstr(cmd + i, want))
            ours = true;
    free(cmd);
    return ours ? pid : 0;
}

static bool
wait_gone(const struct drv_guest *g, int ms)
{
    for (int t = 0; t < ms && !virt_stopping; t += 50) {
        if (!guest_pid(g))
            return true;
        sleep_ms(50);
    }
    return !guest_pid(g);
}

/* Stops the process at once: "quit" over QMP, then SIGKILL. */
static int
kill_guest(const struct drv_guest *g)
{
    char b[4200], why[256];
    pid_t pid = guest_pid(g);
    if (!pid)
        return 0;
    qmp_run(p(g, "qmp.sock", b), "quit", NULL, 2000, NULL, why, sizeof(why));
    if (wait_gone(g, QUIT_WAIT_MS))
        return 0;
    if ((pid = guest_pid(g)))
        kill(pid, SIGKILL);
    return wait_gone(g, 5000) ? 0 : -EBUSY;
}

static int
qmp(const struct drv_guest *g, const char *cmd, json_t *args, json_t **ret, char *why,
    size_t whylen)
{
    char b[4200];
    return qmp_run(p(g, "qmp.sock", b), cmd, args, QMP_MS, ret, why, whylen);
}

/* ---- NICs ---- */

/* A NIC's QEMU ids come from its MAC ("fa:16:3e:01:02:03" -> "fa163e010203"
 * in "nic<id>" for the device, "nd<id>" for its netdev), so the agent can
 * tell which of a running guest's NICs are which port's. */
static void
nic_id(const char *mac, char out[16])
{
    size_t n = 0;
    for (const char *c = mac; *c && n < 15; c++)
        if (*c != ':')
            out[n++] = *c;
    out[n] = 0;
}

/* The ids of the guest's NIC devices now ("nic<id>"), from QOM, as the
 * keys of a JSON object (a set). */
static int
nics_present(struct qmp *q, json_t **out, char *why, size_t whylen)
{
    json_t *args = json_pack("{s:s}", "path", "/machine/peripheral"), *ret = NULL;
    int rc = qmp_cmd(q, "qom-list", args, QMP_MS, &ret, why, whylen);
    json_decref(args);
    *out = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(ret, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && !strncmp(name, "nic", 3))
            json_object_set_new(*out, name + 3, json_true());
    }
    json_decref(ret);
    return rc;
}

static int
q_sync_nics(const struct drv_guest *g, char *why, size_t whylen)
{
    char b[4200];
    struct qmp *q;
    /* a guest started before NICs had ids is left as it is */
    if (!guest_pid(g) || access(p(g, "nic-ids", b), F_OK) < 0)
        return 0;
    int rc = qmp_open(p(g, "qmp.sock", b), QMP_MS, &q);
    if (rc)
        return rc == -ENOENT || rc == -ECONNREFUSED ? 0 : rc;
    json_t *have;
    rc = nics_present(q, &have, why, whylen);
    json_t *want = json_object();
    for (int i = 0; rc == 0 && i < g->nnics; i++) {
        char id[16];
        nic_id(g->nics[i].mac, id);
        json_object_set_new(want, id, json_true());
        if (json_object_get(have, id))
            continue;
        /* plug: a netdev on the port's tap, then a virtio NIC on it (a
         * netdev left by an earlier try that failed half way is reused) */
        char nd[24], dev[24];
        snprintf(nd, sizeof(nd), "nd%s", id);
        snprintf(dev, sizeof(dev), "nic%s", id);
        json_t *a1 = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "type", "tap", "id", nd, "ifname",
                               g->nics[i].tap, "script", "no", "downscript", "no", "vhost", 0);
        int r1 = qmp_cmd(q, "netdev_add", a1, QMP_MS, NULL, why, whylen);
        json_decref(a1);
        if (r1 && !strstr(why, "uplicate"))
            rc = r1;
        json_t *a2 = json_pack("{s:s,s:s,s:s,s:s}", "driver", "virtio-net-pci", "id", dev,
                               "netdev", nd, "mac", g->nics[i].mac);
        if (rc == 0)
            rc = qmp_cmd(q, "device_add", a2, QMP_MS, NULL, why, whylen);
        json_decref(a2);
        if (rc == 0)
            log_info(NULL, "qemu: %s: NIC %s plugged on %s", g->uuid, g->nics[i].mac,
                     g->nics[i].tap);
    }
    const char *id;
    json_t *e;
    json_object_foreach(have, id, e) {
        if (rc || json_object_get(want, id))
            continue;
        /* unplug: the guest acknowledges the ACPI removal, then the
         * netdev can go */
        char nd[24], dev[24];
        snprintf(nd, sizeof(nd), "nd%s", id);
        snprintf(dev, sizeof(dev), "nic%s", id);
        json_t *a = json_pack("{s:s}", "id", dev);
        rc = qmp_cmd(q, "device_del", a, QMP_MS, NULL, why, whylen);
        json_decref(a);
        for (int t = 0; rc == 0 && t < 50; t++) {
            json_t *now;
            if (nics_present(q, &now, why, whylen) == 0 && !json_object_get(now, id)) {
                json_decref(now);
                a = json_pack("{s:s}", "id", nd);
                qmp_cmd(q, "netdev_del", a, QMP_MS, NULL, why, whylen);
                json_decref(a);
                log_info(NULL, "qemu: %s: NIC %s unplugged", g->uuid, id);
                break;
            }
            json_decref(now);
            sleep_ms(100);
        }
    }
    json_decref(have);
    json_decref(want);
    qmp_close(q);
    return rc;
}

/* ---- disks ---- */

static int
make_disks(const struct drv_guest *g, char *why, size_t whylen)
{
    char disk[4200], part[4300], size[32];
    int rc = 0;
    p(g, "disk", disk);
    if (access(disk, F_OK) < 0) {
        if (!g->base_path || access(g->base_path, R_OK) < 0) {
            snprintf(why, whylen, "base image %s is missing", g->base_path ? g->base_path : "");
            return -ENOENT;
        }
        snprintf(part, sizeof(part), "%s.part", disk);
        snprintf(size, sizeof(size), "%lldG", (long long)g->root_gb);
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-b", g->base_path,
                              "-F", g->base_format ? g->base_format : "qcow2", part,
                              g->root_gb > 0 ? size : NULL, NULL};
        rc = run_cmd(argv, why, whylen);
        if (rc == 0 && rename(part, disk) < 0)
            rc = -errno;
    }
    struct {
        const char *name;
        int64_t amount;
        const char *unit;
    } extra[] = {{"disk.eph0", g->ephemeral_gb, "G"}, {"disk.swap", g->swap_mb, "M"}};
    for (int i = 0; i < 2 && rc == 0; i++) {
        char f[4200];
        if (extra[i].amount <= 0 || access(p(g, extra[i].name, f), F_OK) == 0)
            continue;
        snprintf(part, sizeof(part), "%s.part", f);
        snprintf(size, sizeof(size), "%lld%s", (long long)extra[i].amount, extra[i].unit);
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", part, size, NULL};
        rc = run_cmd(argv, why, whylen);
        if (rc == 0 && rename(part, f) < 0)
            rc = -errno;
    }
    return rc;
}

/* ---- start ---- */

/* Starts QEMU for g (incoming: a saved memory state to resume from). */
static int
start(const struct drv_guest *g, const char *incoming, char *why, size_t whylen)
{
    char b[16][4200], name[64], mem[32], smp[32], nic[DRV_MAX_NICS][2][128];
    const char *argv[64 + 4 * DRV_MAX_NICS];
    int n = 0;
    snprintf(name, sizeof(name), "guest-%s,debug-threads=on", g->uuid);
    snprintf(mem, sizeof(mem), "%lld", (long long)(g->ram_mb > 0 ? g->ram_mb : 128));
    snprintf(smp, sizeof(smp), "%d", g->vcpus > 0 ? g->vcpus : 1);
#define A(x) (argv[n++] = (x))
    A("qemu-system-x86_64");
    A("-name"), A(name), A("-uuid"), A(g->uuid);
    A("-machine"), A(use_kvm ? "pc,accel=kvm" : "pc,accel=tcg");
    if (use_kvm)
        A("-cpu"), A("host");
    A("-m"), A(mem), A("-smp"), A(smp), A("-nodefaults"), A("-vga"), A("std");
    snprintf(b[0], sizeof(b[0]), "unix:%s/vnc.sock", g->dir);
    A("-vnc"), A(b[0]);
    snprintf(b[1], sizeof(b[1]), "file=%s/disk,if=none,id=root,format=qcow2", g->dir);
    A("-drive"), A(b[1]), A("-device"), A("virtio-blk-pci,drive=root,bootindex=0");
    if (g->ephemeral_gb > 0) {
        snprintf(b[2], sizeof(b[2]), "file=%s/disk.eph0,if=none,id=eph0,format=qcow2", g->dir);
        A("-drive"), A(b[2]), A("-device"), A("virtio-blk-pci,drive=eph0");
    }
    if (g->swap_mb > 0) {
        snprintf(b[3], sizeof(b[3]), "file=%s/disk.swap,if=none,id=swap,format=qcow2", g->dir);
        A("-drive"), A(b[3]), A("-device"), A("virtio-blk-pci,drive=swap");
    }
    if (g->config_drive) {
        snprintf(b[4], sizeof(b[4]), "file=%s,if=none,id=cfg,media=cdrom,readonly=on,"
                 "format=raw", g->config_drive);
        A("-drive"), A(b[4]), A("-device"), A("ide-cd,drive=cfg");
    }
    /* NICs on the taps the host networking made (no vhost-net here:
     * CONFIG_VHOST_NET is off on these hosts) */
    for (int i = 0; i < g->nnics && i < DRV_MAX_NICS; i++) {
        char id[16];
        nic_id(g->nics[i].mac, id);
        snprintf(nic[i][0], sizeof(nic[i][0]), "tap,id=nd%s,ifname=%s,script=no,downscript=no,"
                 "vhost=off", id, g->nics[i].tap);
        snprintf(nic[i][1], sizeof(nic[i][1]), "virtio-net-pci,id=nic%s,netdev=nd%s,mac=%s", id,
                 id, g->nics[i].mac);
        A("-netdev"), A(nic[i][0]), A("-device"), A(nic[i][1]);
    }
    /* serial: a socket for an interactive console, and the log QEMU
     * appends to (O_APPEND, so trimming it in place is safe) */
    snprintf(b[5], sizeof(b[5]), "socket,id=ser0,path=%s/serial.sock,server=on,wait=off,"
             "logfile=%s/console.log,logappend=on", g->dir, g->dir);
    A("-chardev"), A(b[5]), A("-serial"), A("chardev:ser0");
    snprintf(b[6], sizeof(b[6]), "unix:%s/qmp.sock,server=on,wait=off", g->dir);
    A("-qmp"), A(b[6]);
    A("-pidfile"), A(p(g, "qemu.pid", b[7]));
    if (incoming) {
        snprintf(b[8], sizeof(b[8]), "exec:cat '%s'", incoming);
        A("-incoming"), A(b[8]);
    }
    A("-daemonize");
    A(NULL);
#undef A
    /* QEMU's messages (and the ones of its start) go to qemu.log; the
     * daemonizing parent exits once the guest is set up, with QEMU's
     * verdict as its status */
    int logfd = open(p(g, "qemu.log", b[9]), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    /* this guest's NICs carry ids by MAC: q_sync_nics may manage them */
    int mark = open(p(g, "nic-ids", b[10]), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (mark >= 0)
        close(mark);
    struct stat st;
    off_t from = logfd >= 0 && fstat(logfd, &st) == 0 ? st.st_size : 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (logfd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, logfd, 1);
        posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    }
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (logfd >= 0)
        close(logfd);
    if (rc) {
        snprintf(why, whylen, "cannot run qemu-system-x86_64: %s", strerror(rc));
        return -rc;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && guest_pid(g))
        return 0;
    /* the reason is what QEMU printed during this start */
    char *log = file_read(b[9], NULL);
    const char *msg = log && (off_t)strlen(log) > from ? log + from : "";
    snprintf(why, whylen, "QEMU did not start: %.400s", *msg ? msg : "no message");
    for (char *c = why; *c; c++)
        if (*c == '\n')
            *c = ' ';
    free(log);
    return -EIO;
}

static int
q_spawn(const struct drv_guest *g, char *why, size_t whylen)
{
    if (guest_pid(g))
        return 0;
    int rc = make_disks(g, why, whylen);
    return rc ? rc : start(g, NULL, why, whylen);
}

/* ---- power ---- */

static int
q_power_off(const struct drv_guest *g, int timeout_s, char *why, size_t whylen)
{
    if (!guest_pid(g))
        return 0;
    /* the button again every few seconds, as Nova's shutdown_retry_interval:
     * a guest still booting has nothing listening to the first press */
    for (int left = timeout_s * 1000; left > 0; left -= POWERDOWN_RETRY_MS) {
        if (qmp(g, "system_powerdown", NULL, NULL, why, whylen) < 0)
            break;
        if (wait_gone(g, left < POWERDOWN_RETRY_MS ? left : POWERDOWN_RETRY_MS))
            return 0;
        if (virt_stopping) {
            snprintf(why, whylen, "the agent is stopping");
            return -EINTR;
        }
    }
    int rc = kill_guest(g);
    if (rc)
        snprintf(why, whylen, "QEMU of %s does not stop", g->uuid);
    return rc;
}

static int
q_reboot(const struct drv_guest *g, bool hard, char *why, size_t whylen)
{
    char b[4200];
    int rc = hard ? kill_guest(g) : q_power_off(g, SOFT_REBOOT_S, why, whylen);
    if (hard)
        unlink(p(g, "memory.state", b));    /* a hard reboot forgets a suspend */
    return rc ? rc : q_spawn(g, why, whylen);
}

static int
q_pause(const struct drv_guest *g, char *why, size_t whylen)
{
    return qmp(g, "stop", NULL, NULL, why, whylen);
}

static int
q_unpause(const struct drv_guest *g, char *why, size_t whylen)
{
    return qmp(g, "cont", NULL, NULL, why, whylen);
}

/* The migration status ("completed", "failed", "active" ...) into st. */
static int
migrate_status(const struct drv_guest *g, char *st, size_t n, char *why, size_t whylen)
{
    json_t *r = NULL;
    int rc = qmp(g, "query-migrate", NULL, &r, why, whylen);
    snprintf(st, n, "%s", json_string_value(json_object_get(r, "status")) ?: "none");
    json_decref(r);
    return rc;
}

static int
q_suspend(const struct drv_guest *g, char *why, size_t whylen)
{
    char state[4200], part[4300], st[32] = "";
    p(g, "memory.state", state);
    if (!guest_pid(g))
        return access(state, F_OK) == 0 ? 0 : -ENOENT;
    snprintf(part, sizeof(part), "%s.part", state);
    json_t *args = json_pack("{s:s}", "uri", "");
    json_object_set_new(args, "uri", json_sprintf("exec:cat > '%s'", part));
    int rc = qmp(g, "stop", NULL, NULL, why, whylen);
    if (rc == 0)
        rc = qmp(g, "migrate", args, NULL, why, whylen);
    json_decref(args);
    for (int t = 0; rc == 0 && t < 300 * 10 && !virt_stopping; t++) {
        if ((rc = migrate_status(g, st, sizeof(st), why, whylen)) < 0 ||
            (strcmp(st, "active") && strcmp(st, "setup") && strcmp(st, "device")))
            break;
        sleep_ms(100);
    }
    if (rc == 0 && strcmp(st, "completed")) {
        snprintf(why, whylen, "saving the memory of %s ended in state %s", g->uuid, st);
        rc = -EIO;
    }
    if (rc == 0 && rename(part, state) < 0)
        rc = -errno;
    if (rc) {
        unlink(part);
        qmp(g, "cont", NULL, NULL, why, whylen);
        return rc;
    }
    return kill_guest(g);
}

static int
q_resume(const struct drv_guest *g, char *why, size_t whylen)
{
    char state[4200], st[32] = "";
    p(g, "memory.state", state);
    if (guest_pid(g))
        return 0;
    if (access(state, R_OK) < 0) {
        snprintf(why, whylen, "no saved memory state for %s", g->uuid);
        return -ENOENT;
    }
    int rc = make_disks(g, why, whylen);
    if (rc == 0)
        rc = start(g, state, why, whylen);
    /* the guest runs once the state is read back in */
    for (int t = 0; rc == 0 && t < 600; t++) {
        json_t *r = NULL;
        if (qmp(g, "query-status", NULL, &r, why, whylen) == 0)
            snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(r, "status")) ?: "");
        json_decref(r);
        if (!strcmp(st, "running"))
            break;
        if (!strcmp(st, "paused") || !strcmp(st, "postmigrate")) {
            qmp(g, "cont", NULL, NULL, why, whylen);
        }
        sleep_ms(100);
    }
    if (rc == 0 && strcmp(st, "running")) {
        snprintf(why, whylen, "%s did not resume (state %s)", g->uuid, st);
        rc = -EIO;
    }
    if (rc == 0)
        unlink(state);
    return rc;
}

/* ---- disks of a stopped or paused guest ---- */

static int
q_snapshot(const struct drv_guest *g, const char *out_path, char *why, size_t whylen)
{
    char disk[4200], part[4300];
    json_t *r = NULL;
    bool resume = false;
    if (guest_pid(g) && qmp(g, "query-status", NULL, &r, why, whylen) == 0) {
        resume = json_is_true(json_object_get(r, "running"));
        /* "stop" drains and flushes the disks: the copy is consistent */
        if (resume && qmp(g, "stop", NULL, NULL, why, whylen) < 0)
            resume = false;
    }
    json_decref(r);
    snprintf(part, sizeof(part), "%s.part", out_path);
    const char *argv[] = {"qemu-img", "convert", "-U", "-O", "qcow2", p(g, "disk", disk), part,
                          NULL};
    int rc = run_cmd(argv, why, whylen);
    if (resume)
        qmp(g, "cont", NULL, NULL, why, whylen);
    if (rc == 0 && rename(part, out_path) < 0)
        rc = -errno;
    if (rc)
        unlink(part);
    return rc;
}

static int
q_resize_disk(const struct drv_guest *g, char *why, size_t whylen)
{
    char disk[4200], out[4096], size[32];
    const char *info[] = {"qemu-img", "info", "-U", "--output=json", p(g, "disk", disk), NULL};
    int rc = run_cmd_out(info, out, sizeof(out), why, whylen);
    if (rc)
        return rc;
    json_t *j = json_loads(out, 0, NULL);
    int64_t cur = json_integer_value(json_object_get(j, "virtual-size"));
    json_decref(j);
    if (g->root_gb <= 0 || (g->root_gb << 30) <= cur)
        return 0;
    snprintf(size, sizeof(size), "%lldG", (long long)g->root_gb);
    const char *argv[] = {"qemu-img", "resize", "-q", disk, size, NULL};
    return run_cmd(argv, why, whylen);
}

static int
q_destroy(const struct drv_guest *g)
{
    int rc = kill_guest(g);
    return rc ? rc : rm_tree(g->dir);
}

/* ---- state and console ---- */

/* Cuts console.log back to its last CONSOLE_KEEP bytes once it passes
 * CONSOLE_MAX. QEMU writes it with O_APPEND, so after the truncate its
 * next line lands after the kept tail; a line written during the cut may
 * be lost, which a bounded log accepts. */
static void
trim_console(const struct drv_guest *g)
{
    char b[4200];
    struct stat st;
    int fd = open(p(g, "console.log", b), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && st.st_size > CONSOLE_MAX) {
        char *keep = xmalloc(CONSOLE_KEEP);
        ssize_t n = pread(fd, keep, CONSOLE_KEEP, st.st_size - CONSOLE_KEEP);
        if (n > 0 && ftruncate(fd, 0) == 0 && pwrite(fd, keep, (size_t)n, 0) != n)
            log_warn(NULL, "qemu: cannot rewrite the console of %s", g->uuid);
        free(keep);
    }
    close(fd);
}

static int
q_state(const struct drv_guest *g, int *power, char *why, size_t whylen)
{
    char b[4200];
    trim_console(g);
    if (!guest_pid(g)) {
        *power = access(p(g, "memory.state", b), F_OK) == 0 ? DRV_SUSPENDED : DRV_SHUTDOWN;
        return 0;
    }
    json_t *r = NULL;
    int rc = qmp(g, "query-status", NULL, &r, why, whylen);
    if (rc) {
        /* gone between the two looks, or not listening yet */
        if (!guest_pid(g)) {
            *power = DRV_SHUTDOWN;
            return 0;
        }
        return rc;
    }
    const char *s = json_string_value(json_object_get(r, "status")) ?: "";
    if (!strcmp(s, "running"))
        *power = DRV_RUNNING;
    else if (!strcmp(s, "internal-error") || !strcmp(s, "guest-panicked") ||
             !strcmp(s, "io-error")) {
        *power = DRV_CRASHED;
        snprintf(why, whylen, "The guest stopped with a hypervisor error (QEMU status %s).",
                 s);
    } else if (!strcmp(s, "shutdown"))
        *power = DRV_SHUTDOWN;
    else
        *power = DRV_PAUSED;    /* paused, inmigrate, postmigrate, debug ... */
    json_decref(r);
    return 0;
}

static int
q_console(const struct drv_guest *g, int lines, char **out, size_t *len)
{
    char b[4200];
    trim_console(g);
    *out = file_read(p(g, "console.log", b), len);
    if (!*out)
        return -ENOENT;
    tail_lines(*out, len, lines);
    return 0;
}

static int
q_vnc_socket(const struct drv_guest *g, char *out, size_t outlen)
{
    char b[4200];
    if (access(p(g, "vnc.sock", b), F_OK) < 0)
        return -ENOENT;
    snprintf(out, outlen, "%s", b);
    return 0;
}

/* ---- the accelerator ---- */

/* A boot sector that prints PROBE_MARK on COM1 and exits through QEMU's
 * isa-debug-exit port: SeaBIOS and the CPU model must really run for the
 * mark to appear. */
static int
write_probe(const char *path)
{
    unsigned char s[512] = {
        0xBA, 0xF8, 0x03,       /* mov dx, 0x3f8 */
        0xBE, 0x15, 0x7C,       /* mov si, 0x7c15 (the text below) */
        0xAC,                   /* lodsb */
        0x84, 0xC0,             /* test al, al */
        0x74, 0x03,             /* jz +3 */
        0xEE,                   /* out dx, al */
        0xEB, 0xF8,             /* jmp lodsb */
        0xBA, 0xF4, 0x00,       /* mov dx, 0xf4 */
        0xEE,                   /* out dx, al (exit) */
        0xF4,                   /* hlt */
        0xEB, 0xFD,             /* jmp hlt */
    };
    memcpy(s + 0x15, PROBE_MARK "\n", sizeof(PROBE_MARK));
    s[510] = 0x55;
    s[511] = 0xAA;
    return file_write_atomic(path, s, sizeof(s), 0600);
}

/* true when a guest boots under KVM with the guests' CPU model. */
static bool
kvm_boots(char *why, size_t whylen)
{
    if (access("/dev/kvm", R_OK | W_OK) < 0) {
        snprintf(why, whylen, "/dev/kvm is not usable");
        return false;
    }
    char dir[] = "/tmp/onestack-kvm-probe-XXXXXX", img[64], out[64], drive[128], ser[96];
    if (!mkdtemp(dir))
        return false;
    snprintf(img, sizeof(img), "%s/probe.img", dir);
    snprintf(out, sizeof(out), "%s/serial.out", dir);
    snprintf(drive, sizeof(drive), "file=%s,format=raw,if=ide", img);
    snprintf(ser, sizeof(ser), "file:%s", out);
    bool ok = false;
    if (write_probe(img) == 0) {
        const char *argv[] = {"timeout", "10", "qemu-system-x86_64", "-machine",
                              "pc,accel=kvm", "-cpu", "host", "-m", "32", "-nodefaults",
                              "-display", "none", "-no-reboot", "-drive", drive, "-serial", ser,
                              "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL};
        run_cmd(argv, why, whylen);     /* isa-debug-exit makes any status */
        char *got = file_read(out, NULL);
        ok = got && strstr(got, PROBE_MARK);
        free(got);
    }
    rm_tree(dir);
    return ok;
}

static int
q_init(const char *virt_type)
{
    char why[512] = "";
    if (!strcmp(virt_type, "qemu")) {
        use_kvm = false;
    } else if (!strcmp(virt_type, "kvm")) {
        use_kvm = true;
    } else if (!strcmp(virt_type, "auto")) {
        use_kvm = kvm_boots(why, sizeof(why));
        if (!use_kvm)
            log_warn(NULL, "qemu: KVM cannot boot a test guest here (%s): guests run under "
                     "TCG, much slower", *why ? why : "no output from the probe");
    } else {
        log_error(NULL, "qemu: unknown [compute] virt_type '%s' (auto, kvm or qemu)",
                  virt_type);
        return -EINVAL;
    }
    log_info(NULL, "qemu: accelerator %s", use_kvm ? "KVM" : "TCG");
    return 0;
}

static bool
q_kvm(void)
{
    return use_kvm;
}

const struct virt_driver virt_qemu = {
    .name = "qemu", .hypervisor_type = "QEMU", .kvm = q_kvm, .init = q_init,
    .spawn = q_spawn, .power_off = q_power_off, .reboot = q_reboot, .pause = q_pause,
    .unpause = q_unpause, .suspend = q_suspend, .resume = q_resume, .snapshot = q_snapshot,
    .resize_disk = q_resize_disk, .destroy = q_destroy, .state = q_state,
    .console = q_console, .vnc_socket = q_vnc_socket, .sync_nics = q_sync_nics,
};
