/* hostapi.h - the internal API between the control plane and the host
 * agents (DESIGN.md §1): a watch on the servers' revision, the agent's
 * work list, its reports, and host registration. The agent never touches
 * the database itself: it calls only these functions, which take their
 * own connections, so the same calls can later cross HTTP for an agent
 * on another host.
 *
 * The scheduler (sched.c) runs in the control plane behind the same
 * watch. */
#ifndef COMPUTE_HOSTAPI_H
#define COMPUTE_HOSTAPI_H

#include "srv_db.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

struct arena;
struct db;

/* Wakes every watcher (scheduler, agents): call after a change was
 * committed. */
void hostapi_kick(void);
/* Blocks until a kick newer than *seen or timeout_ms; *seen is updated.
 * true when woken by a kick. */
bool hostapi_wait(uint64_t *seen, int timeout_ms);

/* Asks for server id to go: one that no host holds is deleted at once
 * (with its allocations), else its task becomes "deleting" for the host's
 * agent. db is the caller's. 0, -ENOENT or a DB_* code. */
int hostapi_delete(struct db *db, const char *id);

/* What a host offers, reported by its agent at start. */
struct hostapi_host {
    const char *name;               /* the host name (Nova's host and node) */
    const char *hypervisor_type;    /* "QEMU" */
    const char *cpu_arch;           /* "x86_64" (uname's machine) */
    int64_t vcpus, memory_mb, disk_gb;
};
/* Registers (or refreshes) the host: its compute node resource provider
 * and inventory in Placement, and its service record. 0 or -1 (logged). */
int hostapi_register(const struct hostapi_host *h);
/* The agent's heartbeat (os-services' updated_at). */
void hostapi_heartbeat(const char *host);

/* The servers an agent on host must look after, into its arena. 0 or -1. */
int hostapi_servers(struct arena *a, const char *host, struct cmp_server **out, int *n);
/* Server id's metadata as a JSON object (new reference), NULL when it
 * cannot be read. */
json_t *hostapi_meta(const char *id);
/* Reports the end of a task (or a power-state change when expect_task is
 * NULL): c is applied only while the server's task is still expect_task.
 * When action is given, the event `event` of that instance action is
 * finished with result "Success" or, when why is set, "Error". 0, -ESTALE
 * (the server moved on; nothing changed) or -1. */
int hostapi_report(const char *id, const char *expect_task, const struct srv_change *c,
                   const char *action, const char *event, const char *host, const char *why);
/* The agent destroyed server id: it is marked deleted and its
 * allocations released. 0 or -1. */
int hostapi_deleted(const char *id, const char *host);
/* A build on host failed with why: the server is rescheduled (other
 * hosts first) or, past the attempts, goes to ERROR with a fault. */
int hostapi_build_failed(const char *id, const char *host, const char *why);
/* Replaces the server's allocations with those of its flavor (or of the
 * flavor in the JSON text flavor_json when non-NULL) on the host's
 * provider. 0, -ENOSPC or -1. */
int hostapi_reclaim(const char *id, const char *host, const char *flavor_json);
/* The Placement resources a server of s's flavor needs (VCPU,
 * MEMORY_MB, DISK_GB; zero amounts left out) into res[3]: their count. */
struct plc_resource;
int hostapi_flavor_resources(const struct cmp_server *s, struct plc_resource *res);
/* Releases every allocation of server id. */
void hostapi_release(const char *id);

/* The host agent's console reader (registered by the in-process agent):
 * the last `lines` lines (0: all kept) of server id's serial console,
 * malloc'd into *out. 0, -ENOENT (no console yet) or -errno. */
typedef int (*hostapi_console_fn)(const char *server_id, int lines, char **out, size_t *len);
void hostapi_set_console(hostapi_console_fn fn);

/* The host networking's plan for a host (agent/net.h,
 * docs/network-host.md), made by the network service, which registers
 * the maker at start: a JSON document (new reference), or NULL when it
 * cannot be made now. hostapi_net_plan() is NULL, too, when no network
 * service runs (the agent then leaves the host's networking alone). */
typedef json_t *(*hostapi_plan_fn)(const char *host);
void hostapi_set_net_plan(hostapi_plan_fn fn);
json_t *hostapi_net_plan(const char *host);
/* Whether a network service registered a plan maker. */
bool hostapi_has_network(void);

/* The host agent's VNC address reader (registered by the in-process
 * agent): the unix socket path of server id's VNC server into out. 0,
 * -ENOENT (no guest here) or -errno. */
typedef int (*hostapi_vnc_fn)(const char *server_id, char *out, size_t outlen);
void hostapi_set_vnc(hostapi_vnc_fn fn);
int hostapi_vnc(const char *server_id, char *out, size_t outlen);

/* The scheduler thread (sched.c): started by cmp_service_start(). */
int sched_start(void);
void sched_stop(void);

#endif
