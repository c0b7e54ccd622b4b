/* compute_test.c - unit tests for src/compute/keygen.c: OpenSSH
 * fingerprints against ssh-keygen's, refusal of malformed keys, and a
 * generated key whose OpenSSH line fingerprints like any other. */
#include "runner.h"

#include "compute/keygen.h"

#include <stdlib.h>
#include <string.h>

/* ssh-keygen -l -E md5 of this key: c1:f0:03:89:ac:c5:ed:82:cc:df:fa:2b:01:0b:11:86 */
static const char rsa_pub[] =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCTQKNJHTpF4RiN66hljw/eNQr6WsPesalb+6Hgi2Gg"
    "sqU6cWwjHBUgHvWZ8Ptv/6pCHpYt1mjLKqnb949Fly3GRuN+jZBTGtIP5nDkj0em1pajfTDZqE0MIH6A"
    "eJdCtZP3FnqcbLpx3YLecOvqagil2nQJwKIacsOkb9PROxd9lQ== t@x";

static void
test_fingerprint_ssh(void)
{
    char fp[CMP_FP_MAX];
    CHECK(cmp_key_fingerprint_ssh(rsa_pub, fp) == 0);
    CHECK_STR(fp, "c1:f0:03:89:ac:c5:ed:82:cc:df:fa:2b:01:0b:11:86");
    /* no comment is fine, leading blanks too */
    char *nc = strdup(rsa_pub);
    *strrchr(nc, ' ') = '\0';
    CHECK(cmp_key_fingerprint_ssh(nc, fp) == 0);
    free(nc);
}

static void
test_fingerprint_refuses(void)
{
    char fp[CMP_FP_MAX];
    CHECK(cmp_key_fingerprint_ssh("", fp) < 0);
    CHECK(cmp_key_fingerprint_ssh("ssh-rsa", fp) < 0);
    CHECK(cmp_key_fingerprint_ssh("ssh-rsa !!!!", fp) < 0);
    CHECK(cmp_key_fingerprint_ssh("pgp-key AAAAB3NzaC1yc2EAAAADAQAB", fp) < 0);
    /* the blob says ssh-rsa, the line ssh-dss */
    CHECK(cmp_key_fingerprint_ssh("ssh-dss AAAAB3NzaC1yc2EAAAADAQABAAAAgQCT", fp) < 0);
    CHECK(cmp_key_fingerprint_x509("not a certificate", fp) < 0);
}

static void
test_generate(void)
{
    char *priv = NULL, *pub = NULL, fp[CMP_FP_MAX];
    CHECK(cmp_key_generate(&priv, &pub) == 0);
    CHECK(priv && !strncmp(priv, "-----BEGIN RSA PRIVATE KEY-----", 31));
    CHECK(pub && !strncmp(pub, "ssh-rsa AAAAB3NzaC1yc2E", 23));
    CHECK(pub && strstr(pub, " Generated-by-Nova"));
    CHECK(pub && cmp_key_fingerprint_ssh(pub, fp) == 0 && strlen(fp) == 47);
    free(priv);
    free(pub);
}

T_MAIN("compute", T(test_fingerprint_ssh), T(test_fingerprint_refuses), T(test_generate))
