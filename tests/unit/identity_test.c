/* identity_test.c - unit tests for identity logic that needs no server:
 * Fernet (interoperability with Python's cryptography, rotation), token
 * payloads, and password hashes made by Keystone's bcrypt. */
#include "runner.h"

#include "core/config.h"
#include "core/util.h"
#include "identity/token.h"

#include <stdio.h>
#include <stdlib.h>

static char dir[64];

static void
setup_repo(void)
{
    snprintf(dir, sizeof(dir), "/tmp/onestack-unit-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void
fernet_reads_python_tokens(void)
{
    /* key 32 x 'A', token made by python3-cryptography's Fernet with the
     * '=' padding stripped, as Keystone does */
    char kdir[128], path[160];
    snprintf(kdir, sizeof(kdir), "%s/py", dir);
    mkdir_p(kdir, 0700);
    snprintf(path, sizeof(path), "%s/0", kdir);
    const char *key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    CHECK(file_write_atomic(path, key, strlen(key), 0600) == 0);
    CHECK(fernet_load(kdir) == 0);
    unsigned char out[64];
    int64_t ts;
    long n = fernet_decrypt("gAAAAABrAm7_dVWmSK99PSTka2ONKpazakukK5QN8mdmJyGT3h2EmmVhR-9vwu-ndY0"
                            "W7p678OiOi23KppNSpqO2QP_hTITeJA",
                            out, sizeof(out), &ts);
    CHECK(n == 14 && memcmp(out, "hello onestack", 14) == 0);
    CHECK(ts > 1700000000);
    /* one character of the ciphertext changed: the HMAC must fail */
    CHECK(fernet_decrypt("gAAAAABrAm7_dVWmSK99PSTkb2ONKpazakukK5QN8mdmJyGT3h2EmmVhR-9vwu-ndY0"
                         "W7p678OiOi23KppNSpqO2QP_hTITeJA",
                         out, sizeof(out), NULL) == -1);
    CHECK(fernet_decrypt("garbage", out, sizeof(out), NULL) == -1);
}

static void
fernet_rotation_keeps_recent_keys(void)
{
    char kdir[128];
    snprintf(kdir, sizeof(kdir), "%s/rot", dir);
    CHECK(fernet_load(kdir) == 0);     /* creates 0 and 1 */
    char *t1 = fernet_encrypt((const unsigned char *)"one", 3);
    unsigned char out[64];
    CHECK(t1 && fernet_decrypt(t1, out, sizeof(out), NULL) == 3);
    CHECK(fernet_rotate(kdir, 3) == 0);
    /* made with the old primary, still readable after one rotation */
    CHECK(fernet_decrypt(t1, out, sizeof(out), NULL) == 3);
    char *t2 = fernet_encrypt((const unsigned char *)"two", 3);
    CHECK(fernet_rotate(kdir, 3) == 0);
    /* three keys are kept (staged, primary, one secondary): t1's key is
     * gone, t2's is the secondary */
    CHECK(fernet_decrypt(t1, out, sizeof(out), NULL) == -1);
    CHECK(fernet_decrypt(t2, out, sizeof(out), NULL) == 3);
    CHECK(fernet_rotate(kdir, 3) == 0);
    CHECK(fernet_decrypt(t2, out, sizeof(out), NULL) == -1);
    free(t1);
    free(t2);
}

static void
token_payload_roundtrip(void)
{
    char kdir[128];
    snprintf(kdir, sizeof(kdir), "%s/tok", dir);
    CHECK(fernet_load(kdir) == 0);
    struct tok t;
    memset(&t, 0, sizeof(t));
    t.methods = TOK_PASSWORD | TOK_TOKEN;
    t.scope = IDN_SCOPE_PROJECT;
    t.ctx.user_id = "0123456789abcdef0123456789abcdef";
    t.scope_id = "not-a-uuid-project";
    t.ctx.issued_us = 1700000000123456LL;
    t.ctx.expires_us = 1700003600123456LL;
    t.ctx.audit_id = "ltXY054kAZ3AV1qVVFp3cQ";
    t.parent_audit = "obJe_vd6seInm_Fz4dShiA";
    char *s = tok_encode(&t);
    CHECK(s && strlen(s) < 300);
    struct arena *a = arena_new();
    struct tok d;
    CHECK(tok_decode(s, a, &d) == 0);
    CHECK(d.methods == (TOK_PASSWORD | TOK_TOKEN) && d.scope == IDN_SCOPE_PROJECT);
    CHECK_STR(d.ctx.user_id, t.ctx.user_id);
    CHECK_STR(d.scope_id, t.scope_id);
    CHECK(d.ctx.issued_us == t.ctx.issued_us && d.ctx.expires_us == t.ctx.expires_us);
    CHECK_STR(d.ctx.audit_id, t.ctx.audit_id);
    CHECK_STR(d.parent_audit, t.parent_audit);
    CHECK(d.ctx.app_cred_id == NULL);
    CHECK(tok_decode("gAAAAAB", a, &d) == -1);
    free(s);
    arena_free(a);
}

static void
passwords_verify_keystone_hashes(void)
{
    /* made by python3-bcrypt, as Keystone stores them */
    const char *h = "$2b$04$024Dl70ntqjid0FPosLHiOFIOAvy/jLq5MyAVHQCkEnO8sjkSBE72";
    CHECK(pw_verify("keystone-pw", h));
    CHECK(!pw_verify("keystone-pW", h));
    CHECK(!pw_verify("keystone-pw", "*0"));
    CHECK(!pw_verify("keystone-pw", ""));
    cfg_set("identity", "password_hash_rounds", "4");
    char out[128];
    CHECK(pw_hash("s3cret", out) == 0 && !strncmp(out, "$2b$04$", 7));
    CHECK(pw_verify("s3cret", out) && !pw_verify("s3cre", out));
}

static void
cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

T_MAIN("identity", T(setup_repo), T(fernet_reads_python_tokens),
       T(fernet_rotation_keeps_recent_keys), T(token_payload_roundtrip),
       T(passwords_verify_keystone_hashes), T(cleanup))
