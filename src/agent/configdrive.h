/* configdrive.h - the config drive: an ISO 9660 volume labelled
 * "config-2" (Rock Ridge and Joliet names), the layout cloud-init and
 * the test guest read (openstack/latest/meta_data.json ...). */
#ifndef AGENT_CONFIGDRIVE_H
#define AGENT_CONFIGDRIVE_H

#include <stddef.h>

/* One file of the drive: its path inside (relative, "/" separated) and
 * its bytes (len of them). The caller owns everything. */
struct cd_file {
    const char *path;
    const char *data;
    size_t len;
};

/* Builds the drive of the n files at iso_path with genisoimage: written
 * under a temp name beside it and renamed, so iso_path is complete or
 * untouched. 0 or -errno, with the reason in why. */
int cd_build(const char *iso_path, const struct cd_file *files, int n, char *why,
             size_t whylen);

#endif
