/* agent_int.h - what the agent's files share: its settings and the work
 * of one server (work.c). */
#ifndef AGENT_AGENT_INT_H
#define AGENT_AGENT_INT_H

#include "driver.h"
#include "compute/srv_db.h"

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

#endif
