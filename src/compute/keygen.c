/* keygen.c - RSA key generation and key fingerprints for key pairs; see
 * keygen.h. Written against OpenSSL 3's EVP and BIO interfaces. */
#include "keygen.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* digest bytes as "aa:bb:..." */
static void
colon_hex(const unsigned char *d, unsigned n, char out[CMP_FP_MAX])
{
    size_t o = 0;
    for (unsigned i = 0; i < n && o + 3 < CMP_FP_MAX; i++)
        o += (size_t)snprintf(out + o, CMP_FP_MAX - o, "%s%02x", i ? ":" : "", d[i]);
}

/* Appends an SSH "mpint" (BN_bn2mpi writes exactly that: a 4-byte length
 * and the big-endian bytes with a 0 in front when the top bit is set). */
static size_t
put_mpint(unsigned char *p, const BIGNUM *bn)
{
    return (size_t)BN_bn2mpi(bn, p);
}

int
cmp_key_generate(char **priv, char **pub)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    BIGNUM *n = NULL, *e = NULL;
    BIO *bio = NULL;
    unsigned char *blob = NULL;
    char *b64 = NULL, *pem = NULL, *line = NULL;
    int rc = -1;
    *priv = *pub = NULL;
    if (!key || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        goto fail;
    /* the public key blob: string "ssh-rsa", mpint e, mpint n */
    size_t cap = 4 + 7 + 2 * (4 + 1) + (size_t)BN_num_bytes(n) + (size_t)BN_num_bytes(e);
    blob = malloc(cap);
    if (!blob)
        goto fail;
    size_t len = 0;
    memcpy(blob, "\0\0\0\7ssh-rsa", 11);
    len = 11;
    len += put_mpint(blob + len, e);
    len += put_mpint(blob + len, n);
    b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (!b64)
        goto fail;
    EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
    size_t ll = strlen(b64) + 40;
    if (!(line = malloc(ll)))
        goto fail;
    snprintf(line, ll, "ssh-rsa %s Generated-by-Nova", b64);

    /* the private key in the traditional PKCS#1 PEM Nova hands out */
    char *data;
    if (!(bio = BIO_new(BIO_s_mem())) ||
        !PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL))
        goto fail;
    long pl = BIO_get_mem_data(bio, &data);
    if (pl <= 0 || !(pem = malloc((size_t)pl + 1)))
        goto fail;
    memcpy(pem, data, (size_t)pl);
    pem[pl] = '\0';
    *priv = pem;
    *pub = line;
    pem = line = NULL;
    rc = 0;
fail:
    BIO_free(bio);
    free(pem);
    free(line);
    free(b64);
    free(blob);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(key);
    return rc;
}

/* The key types Nova (paramiko) loads */
static const char *const ssh_types[] = {
    "ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", NULL,
};

int
cmp_key_fingerprint_ssh(const char *pub, char out[CMP_FP_MAX])
{
    while (*pub == ' ' || *pub == '\t')
        pub++;
    size_t tl = strcspn(pub, " \t");
    int known = 0;
    for (int i = 0; ssh_types[i]; i++)
        known |= strlen(ssh_types[i]) == tl && !strncmp(ssh_types[i], pub, tl);
    if (!known || !pub[tl])
        return -1;
    const char *b = pub + tl;
    while (*b == ' ' || *b == '\t')
        b++;
    size_t bl = strcspn(b, " \t\r\n");
    if (bl < 8 || bl % 4 || bl > 65536)
        return -1;
    unsigned char *raw = malloc(bl / 4 * 3 + 1);
    if (!raw)
        return -1;
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b, (int)bl);
    int rc = -1;
    if (n > 0) {
        /* EVP_DecodeBlock counts the padding as zero bytes */
        n -= (b[bl - 1] == '=') + (b[bl - 2] == '=');
        uint32_t sl = n >= 4 ? (uint32_t)raw[0] << 24 | raw[1] << 16 | raw[2] << 8 | raw[3] : 0;
        /* the blob must name the same type as the line */
        if (n >= 4 && sl == tl && (size_t)n >= 4 + tl && !memcmp(raw + 4, pub, tl)) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned mdlen = 0;
            if (EVP_Digest(raw, (size_t)n, md, &mdlen, EVP_md5(), NULL)) {
                colon_hex(md, mdlen, out);
                rc = 0;
            }
        }
    }
    free(raw);
    return rc;
}

int
cmp_key_fingerprint_x509(const char *pem, char out[CMP_FP_MAX])
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = -1;
    if (cert && X509_digest(cert, EVP_sha1(), md, &mdlen)) {
        colon_hex(md, mdlen, out);
        rc = 0;
    }
    X509_free(cert);
    BIO_free(bio);
    return rc;
}

int
cmp_key_generate_x509(const char *cn, char **priv, char **cert)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIO *kb = NULL, *cb = NULL;
    int rc = -1;
    *priv = *cert = NULL;
    if (!key || !x)
        goto out;
    /* a self-signed client certificate, as Nova's generate_winrm_x509_cert:
     * subject CN = the user, ten years, for client authentication */
    unsigned char serial[8];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (!sn)
        goto out;
    X509_set_serialNumber(x, sn);
    ASN1_INTEGER_free(sn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "clientAuth");
    if (ext) {
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(x, key, EVP_sha256()))
        goto out;
    char *data;
    long n;
    if (!(kb = BIO_new(BIO_s_mem())) || !(cb = BIO_new(BIO_s_mem())) ||
        !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cb, x))
        goto out;
    n = BIO_get_mem_data(kb, &data);
    *priv = strndup(data, (size_t)n);
    n = BIO_get_mem_data(cb, &data);
    *cert = strndup(data, (size_t)n);
    rc = *priv && *cert ? 0 : -1;
    if (rc) {
        free(*priv);
        free(*cert);
        *priv = *cert = NULL;
    }
out:
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
