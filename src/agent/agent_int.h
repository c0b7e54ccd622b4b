/* agent_int.h - what the agent's files share: its settings and the work
 * of one server (work.c). */
#ifndef AGENT_AGENT_INT_H
#define AGENT_AGENT_INT_H

#include "configdrive.h"
#include "driver.h"
#include "net.h"
#include "compute/srv_db.h"

#include <stdbool.h>

struct arena;

struct agent {
    char data_dir[4096];
    char host[256];
    const struct virt_driver *drv;
};
extern struct agent ag;

/* Does the task of server s (its task_state) and reports the outcome;
 * a is the job's arena. */
void agent_work(const struct cmp_server *s, struct arena *a);
/* Compares s's recorded power state with the driver's and reports (or
 * enforces) the difference, as Nova's power-state sync. */
void agent_sync(const struct cmp_server *s, struct arena *a);

/* metadata.c: the files a guest reads about itself (meta_data.json,
 * network_data.json for its ports, vendor data, user_data) into f (room
 * for AGENT_MD_FILES), strings in a; returns their count. */
#define AGENT_MD_FILES 5
int agent_md_files(const struct cmp_server *s, const struct np_port *ports, int nports,
                   struct arena *a, struct cd_file *f);

/* agent_net.c: the host networking of this host, from the control
 * plane's network plan (net.h). agent_net_start() applies it now and
 * then whenever the plan changes (and every 30 s, to repair drift), and
 * serves the metadata service on each DHCP namespace. Without a network
 * service it does nothing. */
int agent_net_start(void);
void agent_net_stop(void);
/* The ports of server_id in this host's plan, copied into a (the NICs
 * of its guest, in order), after applying the current plan when sync (so
 * their taps exist before the guest starts). 0, or -1 with why. */
int agent_net_ports(const char *server_id, bool sync, struct arena *a, struct np_port **out,
                    int *n, char *why, size_t whylen);
/* Whether host networking runs and has applied a plan since the agent
 * started (before that an empty plan says nothing about a guest's NICs). */
bool agent_net_applied(void);

#endif
