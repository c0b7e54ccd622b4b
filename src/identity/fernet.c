/* fernet.c - Fernet tokens (AES-128-CBC + HMAC-SHA256) and the key
 * repository, compatible with keystone-manage's layout: files named 0..N
 * holding a url-safe base64 32-byte key (signing key first 16 bytes,
 * encryption key last 16). The highest number is the primary (encrypts);
 * every key decrypts; 0 is the staged key that becomes primary at the next
 * rotation. Keys are read at start and after rotation in this process. */
#include "identity.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FERNET_MAX_KEYS 16

struct fkey {
    int num;
    unsigned char sign[16], enc[16];
};

static struct {
    pthread_rwlock_t lock;
    struct fkey keys[FERNET_MAX_KEYS];  /* sorted: primary (highest) first */
    int n;
    char dir[4096];
    _Atomic int64_t mtime_ns;           /* of dir when the keys were read */
    _Atomic int64_t checked_us;         /* last time dir was stat'ed */
} ring = {.lock = PTHREAD_RWLOCK_INITIALIZER};

static int64_t
dir_mtime(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* `onestack admin fernet-rotate` runs in another process: notice a changed
 * repository (its mtime moves on every rename/unlink) within a second. */
void
fernet_refresh(void)
{
    int64_t now = mono_us();
    if (now - ring.checked_us < 1000000 || !ring.dir[0])
        return;
    ring.checked_us = now;
    if (dir_mtime(ring.dir) != ring.mtime_ns) {
        log_info(NULL, "fernet: key repository changed, reloading");
        fernet_load(ring.dir);
        /* cached validations were made with the old key set */
        idn_bump();
    }
}

static int
key_read(const char *path, struct fkey *k)
{
    size_t len;
    char *s = file_read(path, &len);
    if (!s)
        return -1;
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    unsigned char raw[64];
    long n = len <= 80 ? b64url_decode(s, len, raw) : -1;
    free(s);
    if (n != 32)
        return -1;
    memcpy(k->sign, raw, 16);
    memcpy(k->enc, raw + 16, 16);
    return 0;
}

static int
key_write(const char *dir, int num)
{
    unsigned char raw[32];
    char b64[64], path[4200];
    random_bytes(raw, sizeof(raw));
    size_t n = b64url_encode(raw, sizeof(raw), b64);
    /* keystone writes the padded form; keep it for tool compatibility */
    b64[n++] = '=';
    b64[n] = '\0';
    snprintf(path, sizeof(path), "%s/%d", dir, num);
    return file_write_atomic(path, b64, n, 0600);
}

static int
cmp_desc(const void *a, const void *b)
{
    return ((const struct fkey *)b)->num - ((const struct fkey *)a)->num;
}

/* Numbers of the key files in dir, sorted descending; returns the count. */
static int
list_keys(const char *dir, int *nums, int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*e->d_name && !*end && v >= 0 && v < 1000000)
            nums[n++] = (int)v;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (nums[j] > nums[i]) {
                int t = nums[i];
                nums[i] = nums[j];
                nums[j] = t;
            }
    return n;
}

int
fernet_load(const char *dir)
{
    if (mkdir_p(dir, 0700) < 0) {
        log_error(NULL, "fernet: cannot create %s", dir);
        return -1;
    }
    /* the mtime of the state about to be read, taken before reading it: a
     * rotation that lands while the keys are read (another process) then
     * leaves a newer mtime, and fernet_refresh() reads again */
    int64_t mtime = dir_mtime(dir);
    int nums[64];
    int n = list_keys(dir, nums, 64);
    if (n == 0) {
        /* a fresh repository: staged key 0 and primary key 1 */
        if (key_write(dir, 0) < 0 || key_write(dir, 1) < 0) {
            log_error(NULL, "fernet: cannot write keys in %s", dir);
            return -1;
        }
        mtime = dir_mtime(dir);
        n = list_keys(dir, nums, 64);
    }
    struct fkey keys[FERNET_MAX_KEYS];
    int nk = 0;
    for (int i = 0; i < n && nk < FERNET_MAX_KEYS; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%d", dir, nums[i]);
        keys[nk].num = nums[i];
        if (key_read(path, &keys[nk]) < 0) {
            log_error(NULL, "fernet: key %s is malformed", path);
            return -1;
        }
        nk++;
    }
    if (nk == 0)
        return -1;
    qsort(keys, (size_t)nk, sizeof(keys[0]), cmp_desc);
    pthread_rwlock_wrlock(&ring.lock);
    memcpy(ring.keys, keys, sizeof(keys[0]) * (size_t)nk);
    ring.n = nk;
    if (dir != ring.dir)    /* refresh passes ring.dir itself */
        snprintf(ring.dir, sizeof(ring.dir), "%s", dir);
    ring.mtime_ns = mtime;
    pthread_rwlock_unlock(&ring.lock);
    return 0;
}

int
fernet_rotate(const char *dir, int max_active)
{
    int nums[64];
    int n = list_keys(dir, nums, 64);
    if (n <= 0)
        return fernet_load(dir);
    char from[4200], to[4200];
    /* staged 0 becomes the new primary, then a new staged key appears */
    snprintf(from, sizeof(from), "%s/0", dir);
    snprintf(to, sizeof(to), "%s/%d", dir, nums[0] + 1);
    if (rename(from, to) < 0 || key_write(dir, 0) < 0)
        return -1;
    n = list_keys(dir, nums, 64);
    /* keep the staged key plus max_active-1 others, dropping the oldest
     * secondaries (lowest numbers above 0) */
    int excess = n - (max_active < 2 ? 2 : max_active);
    for (int i = n - 2; excess > 0 && i >= 1; i--, excess--) {
        snprintf(from, sizeof(from), "%s/%d", dir, nums[i]);
        unlink(from);
    }
    return fernet_load(dir);
}

static int
hmac256(const unsigned char *key, const unsigned char *data, size_t len,
        unsigned char out[32])
{
    unsigned int olen = 32;
    return HMAC(EVP_sha256(), key, 16, data, len, out, &olen) ? 0 : -1;
}

char *
fernet_encrypt(const unsigned char *payload, size_t len)
{
    struct fkey k;
    fernet_refresh();
    pthread_rwlock_rdlock(&ring.lock);
    k = ring.keys[0];
    pthread_rwlock_unlock(&ring.lock);

    size_t cap = 1 + 8 + 16 + len + 16 + 32;
    unsigned char *msg = xmalloc(cap);
    uint64_t ts = (uint64_t)now_s();
    msg[0] = 0x80;
    for (int i = 0; i < 8; i++)
        msg[1 + i] = (unsigned char)(ts >> (56 - 8 * i));
    random_bytes(msg + 9, 16);

    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, k.enc, msg + 9) ||
        !EVP_EncryptUpdate(c, msg + 25, &l1, payload, (int)len) ||
        !EVP_EncryptFinal_ex(c, msg + 25 + l1, &l2)) {
        EVP_CIPHER_CTX_free(c);
        free(msg);
        return NULL;
    }
    EVP_CIPHER_CTX_free(c);
    size_t body = 25 + (size_t)(l1 + l2);
    if (hmac256(k.sign, msg, body, msg + body) < 0) {
        free(msg);
        return NULL;
    }
    body += 32;
    char *tok = xmalloc(body * 4 / 3 + 4);
    /* keystone strips the '=' padding from its tokens; so do we */
    b64url_encode(msg, body, tok);
    free(msg);
    return tok;
}

long
fernet_decrypt(const char *token, unsigned char *out, size_t outcap, int64_t *issued_s)
{
    size_t tlen = strlen(token);
    if (tlen < 80 || tlen > 1024)
        return -1;
    unsigned char raw[800];
    long n = b64url_decode(token, tlen, raw);
    if (n < 1 + 8 + 16 + 16 + 32 || raw[0] != 0x80 || (n - 57) % 16)
        return -1;
    size_t body = (size_t)n - 32;
    unsigned char mac[32];
    struct fkey keys[FERNET_MAX_KEYS];
    int nk;
    fernet_refresh();
    pthread_rwlock_rdlock(&ring.lock);
    nk = ring.n;
    memcpy(keys, ring.keys, sizeof(keys[0]) * (size_t)nk);
    pthread_rwlock_unlock(&ring.lock);

    for (int i = 0; i < nk; i++) {
        if (hmac256(keys[i].sign, raw, body, mac) < 0 ||
            CRYPTO_memcmp(mac, raw + body, 32) != 0)
            continue;
        size_t clen = body - 25;
        if (clen + 16 > outcap)
            return -1;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int l1 = 0, l2 = 0;
        int ok = c && EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), NULL, keys[i].enc, raw + 9) &&
                 EVP_DecryptUpdate(c, out, &l1, raw + 25, (int)clen) &&
                 EVP_DecryptFinal_ex(c, out + l1, &l2);
        EVP_CIPHER_CTX_free(c);
        if (!ok)
            return -1;
        uint64_t ts = 0;
        for (int b = 0; b < 8; b++)
            ts = ts << 8 | raw[1 + b];
        if (issued_s)
            *issued_s = (int64_t)ts;
        return l1 + l2;
    }
    return -1;
}
