/* keygen.h - key pair material for the key pair API, with OpenSSL: RSA
 * generation with the public key in OpenSSH format, and the fingerprints
 * Nova shows. No HTTP, no SQL. */
#ifndef COMPUTE_KEYGEN_H
#define COMPUTE_KEYGEN_H

/* "aa:bb:..." of an MD5 (47 characters) or SHA-1 (59) digest, plus NUL */
#define CMP_FP_MAX 64

/* Generates an RSA 2048 key. *priv gets it as a PKCS#1 PEM
 * ("-----BEGIN RSA PRIVATE KEY-----"), *pub the public half as one
 * OpenSSH line ("ssh-rsa AAAA... Generated-by-Nova"); both malloc'd, the
 * caller frees them. 0, or -1 with nothing allocated. */
int cmp_key_generate(char **priv, char **pub);

/* Generates an RSA 2048 key and a self-signed X.509 client certificate
 * for it with subject CN=cn, valid ten years (Nova's x509 key pairs).
 * *priv (PEM private key) and *cert (PEM certificate) are malloc'd, the
 * caller frees them. 0, or -1 with nothing allocated. */
int cmp_key_generate_x509(const char *cn, char **priv, char **cert);

/* Fingerprint of an OpenSSH public key line ("<type> <base64> [comment]"):
 * MD5 of the decoded key blob, lower-case hex pairs joined by colons, as
 * Nova computes it. 0, or -1 when the line is not a public key of a type
 * Nova accepts. */
int cmp_key_fingerprint_ssh(const char *pub, char out[CMP_FP_MAX]);

/* Fingerprint of a PEM X.509 certificate: SHA-1 of its DER form, in the
 * same notation. 0, or -1 when pem is no certificate. */
int cmp_key_fingerprint_x509(const char *pem, char out[CMP_FP_MAX]);

#endif
