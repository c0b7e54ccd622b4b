/* ipnet.h - IPv4 and IPv6 addresses as 128-bit numbers, for subnets,
 * pools and IPAM (ipnet.c). An IPv4 address is its 32-bit value. */
#ifndef NETWORK_IPNET_H
#define NETWORK_IPNET_H

#include <stdbool.h>
#include <stddef.h>

typedef unsigned __int128 ip128;

/* Parses an address of version v (0: either) into *out; its version, or
 * 0 when s is not one. */
int ip_parse(const char *s, int v, ip128 *out);
/* Writes the address (version v) into out (46 bytes), canonical form. */
void ip_format(ip128 a, int v, char *out);
/* Parses "addr/len": its version (0 when bad) with the address, the
 * prefix length, and whether host bits are set (*host_bits). */
int cidr_parse(const char *s, ip128 *addr, int *len, bool *host_bits);
/* The first and last address of a prefix of version v. */
ip128 net_first(ip128 a, int len, int v);
ip128 net_last(ip128 a, int len, int v);
/* EUI-64 SLAAC address of a MAC ("fa:16:3e:..") in a /64 prefix. */
ip128 ip_eui64(ip128 prefix, const char *mac);

#endif
