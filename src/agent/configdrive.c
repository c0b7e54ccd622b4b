/* configdrive.c - builds config drives with genisoimage (as Nova does):
 * the files go into a temp tree beside the target, genisoimage writes a
 * temp image, and a rename puts it in place. */
#include "configdrive.h"
#include "run.h"
#include "core/util.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
cd_build(const char *iso_path, const struct cd_file *files, int n, char *why, size_t whylen)
{
    char tree[4200], tmp[4200], dir[4400];
    snprintf(tree, sizeof(tree), "%s.tree", iso_path);
    snprintf(tmp, sizeof(tmp), "%s.part", iso_path);
    rm_tree(tree);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char p[4400];
        snprintf(p, sizeof(p), "%s/%s", tree, files[i].path);
        snprintf(dir, sizeof(dir), "%s", p);
        if ((rc = mkdir_p(dirname(dir), 0700)) < 0)
            snprintf(why, whylen, "cannot create %s: %s", dir, strerror(-rc));
        else if ((rc = file_write_atomic(p, files[i].data, files[i].len, 0600)) < 0)
            snprintf(why, whylen, "cannot write %s: %s", p, strerror(-rc));
    }
    if (rc == 0) {
        const char *argv[] = {"genisoimage", "-quiet", "-o", tmp, "-V", "config-2", "-r",
                              "-J", "-input-charset", "utf-8", "-l", tree, NULL};
        rc = run_cmd(argv, why, whylen);
    }
    if (rc == 0 && rename(tmp, iso_path) < 0) {
        rc = -errno;
        snprintf(why, whylen, "cannot rename %s: %s", tmp, strerror(errno));
    }
    if (rc)
        unlink(tmp);
    rm_tree(tree);
    return rc;
}
