/* ipnet.c - see ipnet.h. */
#include "ipnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ip_parse(const char *s, int v, ip128 *out)
{
    unsigned char b[16];
    if ((v == 0 || v == 4) && inet_pton(AF_INET, s, b) == 1) {
        *out = ((ip128)b[0] << 24) | ((ip128)b[1] << 16) | ((ip128)b[2] << 8) | b[3];
        return 4;
    }
    if ((v == 0 || v == 6) && strchr(s, ':') && inet_pton(AF_INET6, s, b) == 1) {
        ip128 a = 0;
        for (int i = 0; i < 16; i++)
            a = (a << 8) | b[i];
        *out = a;
        return 6;
    }
    return 0;
}

void
ip_format(ip128 a, int v, char *out)
{
    unsigned char b[16];
    if (v == 4) {
        for (int i = 3; i >= 0; i--, a >>= 8)
            b[i] = (unsigned char)a;
        inet_ntop(AF_INET, b, out, 46);
        return;
    }
    for (int i = 15; i >= 0; i--, a >>= 8)
        b[i] = (unsigned char)a;
    inet_ntop(AF_INET6, b, out, 46);
}

static ip128
host_mask(int len, int v)
{
    int bits = (v == 4 ? 32 : 128) - len;
    return bits >= 128 ? ~(ip128)0 : bits <= 0 ? 0 : (((ip128)1 << bits) - 1);
}

int
cidr_parse(const char *s, ip128 *addr, int *len, bool *host_bits)
{
    const char *sl = strchr(s, '/');
    char a[64];
    if (!sl || (size_t)(sl - s) >= sizeof(a))
        return 0;
    memcpy(a, s, (size_t)(sl - s));
    a[sl - s] = '\0';
    int v = ip_parse(a, 0, addr);
    char *end;
    long l = strtol(sl + 1, &end, 10);
    if (!v || *end || end == sl + 1 || l < 0 || l > (v == 4 ? 32 : 128))
        return 0;
    *len = (int)l;
    *host_bits = (*addr & host_mask(*len, v)) != 0;
    return v;
}

ip128
net_first(ip128 a, int len, int v)
{
    return a & ~host_mask(len, v) & (v == 4 ? (ip128)0xffffffffu : ~(ip128)0);
}

ip128
net_last(ip128 a, int len, int v)
{
    return net_first(a, len, v) | host_mask(len, v);
}

ip128
ip_eui64(ip128 prefix, const char *mac)
{
    unsigned m[6] = {0};
    sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
    ip128 iid = ((ip128)(m[0] ^ 2) << 56) | ((ip128)m[1] << 48) | ((ip128)m[2] << 40) |
                ((ip128)0xff << 32) | ((ip128)0xfe << 24) | ((ip128)m[3] << 16) |
                ((ip128)m[4] << 8) | m[5];
    return (prefix & ~(((ip128)1 << 64) - 1)) | iid;
}
