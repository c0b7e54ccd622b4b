/* metadata.c - the documents a guest reads about itself, as Nova writes
 * them (openstack/latest/meta_data.json, network_data.json, user_data,
 * vendor data): the same bytes on the config drive and from the metadata
 * service, so a guest sees one truth whichever it reads. */
#include "agent_int.h"
#include "compute/hostapi.h"
#include "core/arena.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* user_data is kept base64 (as the API took it); the guest gets bytes. */
static char *
b64_decode(struct arena *a, const char *s, size_t *n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(s);
    char *out = arena_alloc(a, len / 4 * 3 + 4);
    unsigned v = 0;
    int bits = 0;
    *n = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        const char *p = strchr(tbl, s[i]);
        if (!p)
            continue;
        v = (v << 6) | (unsigned)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (char)((v >> bits) & 0xff);
        }
    }
    return out;
}

static char *
dump(struct arena *a, json_t *j, size_t *len)
{
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *s = arena_strdup(a, t ? t : "{}");
    free(t);
    *len = strlen(s);
    return s;
}

/* network_data.json (Nova's format) for the server's ports. */
static json_t *
network_data(const struct np_port *ports, int nports)
{
    json_t *links = json_array(), *nets = json_array(), *dns = json_array();
    int k = 0;
    for (int i = 0; i < nports; i++) {
        const struct np_port *p = &ports[i];
        char tap[16];
        net_tap_name(p->id, tap);
        json_array_append_new(links, json_pack("{s:s,s:s,s:s,s:s}", "id", tap, "vif_id", p->id,
                                               "type", "bridge", "ethernet_mac_address",
                                               p->mac));
        for (int j = 0; j < p->nips; j++) {
            const struct np_ip *ip = &p->ips[j];
            char id[32], mask[INET6_ADDRSTRLEN];
            snprintf(id, sizeof(id), "network%d", k++);
            if (ip->version == 4)
                net_mask4(ip->prefix, mask);
            else
                snprintf(mask, sizeof(mask), "%d", ip->prefix);
            json_array_append_new(
                nets, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[]}", "id", id, "type",
                                ip->version == 4 ? "ipv4_dhcp" : "ipv6_slaac", "link", tap,
                                "ip_address", ip->addr, "netmask", mask, "network_id",
                                p->network_id, "routes"));
        }
    }
    return json_pack("{s:o,s:o,s:o}", "links", links, "networks", nets, "services", dns);
}

int
agent_md_files(const struct cmp_server *s, const struct np_port *ports, int nports,
               struct arena *a, struct cd_file *f)
{
    json_t *meta = hostapi_meta(s->id);
    json_t *md = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:[],s:{}}", "uuid", s->id, "name",
                           s->name, "hostname", s->hostname, "availability_zone",
                           s->az ? s->az : "nova", "launch_index", (json_int_t)s->launch_index,
                           "project_id", s->project_id, "meta", meta ? meta : json_object(),
                           "devices", "public_keys");
    if (s->key_name && s->key_data) {
        json_object_set_new(json_object_get(md, "public_keys"), s->key_name,
                            json_string(s->key_data));
        json_object_set_new(md, "keys", json_pack("[{s:s,s:s,s:s}]", "name", s->key_name,
                                                  "type", "ssh", "data", s->key_data));
    }
    int n = 0;
    size_t len;
    f[n].path = "openstack/latest/meta_data.json";
    f[n].data = dump(a, md, &len);
    f[n++].len = len;
    f[n].path = "openstack/latest/network_data.json";
    f[n].data = dump(a, network_data(ports, nports), &len);
    f[n++].len = len;
    f[n++] = (struct cd_file){"openstack/latest/vendor_data.json", "{}", 2};
    f[n++] = (struct cd_file){"openstack/latest/vendor_data2.json", "{}", 2};
    if (s->user_data) {
        char *ud = b64_decode(a, s->user_data, &len);
        f[n++] = (struct cd_file){"openstack/latest/user_data", ud, len};
    }
    return n;
}
