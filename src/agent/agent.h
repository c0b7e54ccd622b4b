/* agent.h - the host agent: reconciles the servers placed on this host
 * with what its virt driver runs (DESIGN.md §1, §5). In the all-in-one
 * `onestack serve` starts it in-process; it talks to the control plane
 * only through compute/hostapi.h. */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

/* Starts the agent for this host: picks the driver ([compute] virt_driver
 * = qemu | fake, virt_type = auto | kvm | qemu), registers the host with
 * its capacity, removes what a crash left of deleted servers, and starts
 * the watch loop and its workers. data_dir holds instances/. Call after
 * the compute service is initialised. 0 or -1 (logged). */
int agent_start(const char *data_dir);
/* Stops the threads (the guests keep running: a restarted agent adopts
 * them). */
void agent_stop(void);

#endif
