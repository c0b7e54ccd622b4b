/* driver.h - what the host agent asks of a virt driver: one guest's
 * life on this host (start, power, snapshot, console, removal), with no
 * knowledge of the database, the API or Placement.
 *
 * Two drivers implement it: "qemu" (qemu.c: one QEMU process a guest,
 * controlled over QMP, KVM or TCG) and "fake" (fake.c: state in memory and
 * a file a guest, for fast API tests of state machines and scheduling).
 *
 * Every call is idempotent and safe to repeat after a crash at any point:
 * spawn of a guest that already runs returns 0, destroy of a guest that is
 * gone returns 0. Calls for one guest are never made concurrently (the
 * agent serialises them), calls for different guests may be. They block
 * (a power-off waits for the guest) and run on agent threads, never on an
 * HTTP event loop. Return 0 or -errno; on failure *why (when given) gets a
 * short human sentence for the instance fault. */
#ifndef AGENT_DRIVER_H
#define AGENT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nova's power_state codes (nova/compute/power_state.py). */
enum drv_power {
    DRV_NOSTATE = 0,
    DRV_RUNNING = 1,
    DRV_PAUSED = 3,
    DRV_SHUTDOWN = 4,
    DRV_CRASHED = 6,
    DRV_SUSPENDED = 7,
};

/* A NIC: the host tap it is plugged into (made by the host networking,
 * net.h) and its MAC (the Neutron port's). */
struct drv_nic {
    const char *tap;
    const char *mac;
};
#define DRV_MAX_NICS 8

/* One guest as the driver sees it. Every string is the caller's. */
struct drv_guest {
    const char *uuid;           /* the server id; names the QEMU process (-uuid) */
    const char *dir;            /* its own directory (DATA/instances/<uuid>), exists */
    int vcpus;
    int64_t ram_mb;
    int64_t root_gb;            /* 0: the image's own virtual size */
    int64_t ephemeral_gb;       /* 0: none */
    int64_t swap_mb;            /* 0: none */
    const char *base_path;      /* cached base image file, never written */
    const char *base_format;    /* "qcow2" or "raw" */
    const char *config_drive;   /* ISO 9660 config-2 image, or NULL */
    const struct drv_nic *nics; /* in PCI order; at most DRV_MAX_NICS */
    int nnics;
};

/* A snapshot in progress reports nothing; the result is a file. */
struct virt_driver {
    const char *name;               /* "qemu", "fake" */
    /* Nova's hypervisor_type ("QEMU") and whether KVM accelerates guests,
     * decided once at init. */
    const char *hypervisor_type;
    bool (*kvm)(void);
    /* Once at agent start: probes the accelerator (setting "auto" | "kvm"
     * | "qemu"), logs its choice. 0 or -errno. */
    int (*init)(const char *virt_type);
    /* Makes the disks that are missing (root overlay on base_path grown to
     * root_gb, ephemeral, swap) and starts the guest; a guest that already
     * runs (or is paused) is left as it is. */
    int (*spawn)(const struct drv_guest *g, char *why, size_t whylen);
    /* Stops the guest: an ACPI power button first, then after timeout_s
     * seconds (0: at once) a hard stop. Disks stay. Gone already: 0. */
    int (*power_off)(const struct drv_guest *g, int timeout_s, char *why, size_t whylen);
    /* SOFT: power_off with a timeout, then spawn; HARD: kill and spawn. */
    int (*reboot)(const struct drv_guest *g, bool hard, char *why, size_t whylen);
    int (*pause)(const struct drv_guest *g, char *why, size_t whylen);
    int (*unpause)(const struct drv_guest *g, char *why, size_t whylen);
    /* Saves the guest's memory to its directory and stops the process;
     * resume starts it again from that state. */
    int (*suspend)(const struct drv_guest *g, char *why, size_t whylen);
    int (*resume)(const struct drv_guest *g, char *why, size_t whylen);
    /* Writes a standalone qcow2 of the root disk (no backing file) to
     * out_path; a running guest is paused for the copy and resumed. */
    int (*snapshot)(const struct drv_guest *g, const char *out_path, char *why,
                    size_t whylen);
    /* Grows the stopped guest's root disk to g->root_gb (never shrinks);
     * the next spawn uses g's vcpus and ram. */
    int (*resize_disk)(const struct drv_guest *g, char *why, size_t whylen);
    /* Kills the guest if it runs and deletes every file of its directory
     * and the directory itself. */
    int (*destroy)(const struct drv_guest *g);
    /* The guest's power state now (one of enum drv_power); DRV_SHUTDOWN
     * when no process runs. An internal error (KVM emulation failure)
     * reports DRV_CRASHED with the reason in why. */
    int (*state)(const struct drv_guest *g, int *power, char *why, size_t whylen);
    /* The last `lines` lines (<= 0: all that is kept) of the serial
     * console, malloc'd into *out (NUL-terminated, the caller frees). The
     * log on disk is bounded (the oldest output is dropped). */
    int (*console)(const struct drv_guest *g, int lines, char **out, size_t *len);
    /* Path of the guest's VNC unix socket into out, or -ENOENT. */
    int (*vnc_socket)(const struct drv_guest *g, char *out, size_t outlen);
    /* Makes a running guest's NICs be g->nics: plugs those it lacks (a
     * virtio NIC on its tap) and unplugs those it should no longer have.
     * Not running: 0. NULL: the driver has no hot-plug. */
    int (*sync_nics)(const struct drv_guest *g, char *why, size_t whylen);
};

/* Set by the agent when it stops: a driver's long waits (a guest's
 * shutdown, saving its memory) give up with -EINTR, so the daemon stops
 * at once; the task stays recorded and is done again after the restart. */
extern volatile bool virt_stopping;

extern const struct virt_driver virt_qemu;
extern const struct virt_driver virt_fake;

#endif
