/* vncproxy.c - nova-novncproxy's work, on onestack's own listener at
 * /vnc: the noVNC pages (Debian's novnc package, [vnc] novnc_dir) and
 * /vnc/websockify?token=..., which redeems a console token
 * (api_consoles.c), switches the connection to a websocket (RFC 6455) and
 * relays binary frames to and from the guest's VNC server at the address
 * its host agent reported. No token needed for the pages, as
 * novncproxy's; the token is the websocket's only credential.
 *
 * Same listener rather than a port of its own: one address to open in a
 * firewall, one TLS setup, and the URL a client is given always works
 * from where it reached the API. Each relay is a thread of its own
 * (blocking poll over two sockets), bounded by [vnc] max_connections, so
 * a console never holds an HTTP event loop. */
#include "compute_int.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_FRAME (1 << 20)      /* a client's RFB messages are tiny */

static atomic_int nrelays;

/* ---- the pages ---- */

static const char *
ctype_of(const char *path)
{
    static const struct { const char *ext, *type; } t[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "application/javascript"},
        {".css", "text/css"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"}, {".json", "application/json"}, {".woff", "font/woff"},
        {".woff2", "font/woff2"}, {".ttf", "font/ttf"}, {".ogg", "audio/ogg"},
        {".mp3", "audio/mpeg"}, {".txt", "text/plain"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(dot, t[i].ext))
            return t[i].type;
    return "application/octet-stream";
}

static int
page(struct http_req *req)
{
    const char *rel = http_param(req, "file");
    const char *root = cfg_get("vnc", "novnc_dir", "/usr/share/novnc");
    /* no way out of the root: no "..", no hidden files, and the real
     * path must stay below the real root */
    if (!rel || strstr(rel, "..") || strstr(rel, "/.") || rel[0] == '.')
        return req_fail(req, 404, "Not Found");
    char full[PATH_MAX], real[PATH_MAX], realroot[PATH_MAX];
    snprintf(full, sizeof(full), "%s/%s", root, rel);
    if (!realpath(root, realroot) || !realpath(full, real) ||
        strncmp(real, realroot, strlen(realroot)) || real[strlen(realroot)] != '/')
        return req_fail(req, 404, "Not Found");
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return req_fail(req, 404, "Not Found");
    }
    return http_reply_file(req, 200, fd, 0, (uint64_t)st.st_size, ctype_of(real));
}

/* ---- the relay ---- */

struct relay {
    int ws, vnc;                /* the client's socket, the VNC server's */
    void *handle;               /* the upgraded connection */
    char *pending;              /* what the client sent with its request */
    size_t npending;
    char id[64];                /* the server, for logs */
};

static int
write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One server frame (never masked) of opcode op carrying n bytes. */
static int
ws_send(int fd, int op, const void *p, size_t n)
{
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    return write_all(fd, h, hl) < 0 || (n && write_all(fd, p, n) < 0) ? -1 : 0;
}

/* Takes the whole frames at the start of buf (*len bytes): data to the
 * VNC server, pings answered, a close answered and reported. Returns 0
 * (keep going; what remains is an incomplete frame, moved to the start),
 * 1 (closed) or -1 (a protocol error: the caller closes). */
static int
ws_frames(struct relay *r, unsigned char *buf, size_t *len)
{
    size_t off = 0;
    for (;;) {
        size_t n = *len - off;
        unsigned char *f = buf + off;
        if (n < 2)
            break;
        int op = f[0] & 0x0f;
        bool masked = f[1] & 0x80;
        uint64_t pl = f[1] & 0x7f;
        size_t hl = 2;
        if (pl == 126) {
            if (n < 4)
                break;
            pl = ((uint64_t)f[2] << 8) | f[3];
            hl = 4;
        } else if (pl == 127) {
            if (n < 10)
                break;
            pl = 0;
            for (int i = 0; i < 8; i++)
                pl = (pl << 8) | f[2 + i];
            hl = 10;
        }
        /* RFC 6455 5.1: a client masks every frame */
        if (!masked || pl > WS_MAX_FRAME || (f[0] & 0x70))
            return -1;
        if (n < hl + 4 + pl)
            break;
        unsigned char *mask = f + hl, *data = f + hl + 4;
        for (uint64_t i = 0; i < pl; i++)
            data[i] ^= mask[i % 4];
        off += hl + 4 + (size_t)pl;
        switch (op) {
        case 0x0: case 0x1: case 0x2:   /* continuation, text, binary: RFB bytes */
            if (pl && write_all(r->vnc, data, (size_t)pl) < 0)
                return 1;
            break;
        case 0x8:                       /* close: answered with the same code */
            ws_send(r->ws, 0x8, data, pl >= 2 ? 2 : 0);
            return 1;
        case 0x9:                       /* ping */
            if (ws_send(r->ws, 0xA, data, (size_t)pl) < 0)
                return 1;
            break;
        case 0xA:                       /* pong */
            break;
        default:
            return -1;
        }
    }
    memmove(buf, buf + off, *len - off);
    *len -= off;
    return 0;
}

static void *
relay_main(void *arg)
{
    struct relay *r = arg;
    size_t cap = WS_MAX_FRAME + 16, len = 0;
    unsigned char *in = malloc(cap);
    char out[65536];
    int rc = in ? 0 : -1;
    if (rc == 0 && r->npending) {
        len = r->npending < cap ? r->npending : cap;
        memcpy(in, r->pending, len);
        rc = ws_frames(r, in, &len);
    }
    while (rc == 0) {
        struct pollfd pf[2] = {{.fd = r->ws, .events = POLLIN}, {.fd = r->vnc, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents) {
            ssize_t n = read(r->vnc, out, sizeof(out));
            if (n <= 0) {
                /* the guest's VNC server went away (deleted, stopped) */
                ws_send(r->ws, 0x8, "\x03\xe9", 2);     /* 1001: going away */
                break;
            }
            if (ws_send(r->ws, 0x2, out, (size_t)n) < 0)
                break;
        }
        if (pf[0].revents) {
            ssize_t n = recv(r->ws, in + len, cap - len, 0);
            if (n <= 0)
                break;
            len += (size_t)n;
            rc = ws_frames(r, in, &len);
            if (rc < 0)
                ws_send(r->ws, 0x8, "\x03\xea", 2);     /* 1002: protocol error */
            else if (rc == 0 && len == cap)
                break;
        }
    }
    log_info(NULL, "vncproxy: console of %s closed", r->id);
    free(in);
    close(r->vnc);
    http_upgrade_close(r->handle);
    free(r->pending);
    free(r);
    atomic_fetch_sub(&nrelays, 1);
    return NULL;
}

static void
relay_free(void *ctx)
{
    struct relay *r = ctx;
    close(r->vnc);
    free(r);
    atomic_fetch_sub(&nrelays, 1);
}

/* libmicrohttpd hands over the socket: the relay gets its own thread. */
static void
upgraded(int fd, const char *extra, size_t n, void *ctx, void *handle)
{
    struct relay *r = ctx;
    r->ws = fd;
    r->handle = handle;
    /* the relay thread blocks in poll(2) and send(2): no O_NONBLOCK */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (n && (r->pending = malloc(n))) {
        memcpy(r->pending, extra, n);
        r->npending = n;
    }
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &at, relay_main, r) != 0) {
        close(r->vnc);
        http_upgrade_close(handle);
        free(r->pending);
        free(r);
        atomic_fetch_sub(&nrelays, 1);
    }
    pthread_attr_destroy(&at);
}

/* A refusal the way novncproxy's looks to a websocket client: no body,
 * and the connection closed. */
static int
refuse(struct http_req *req, int status, const char *why)
{
    log_info(req->request_id, "vncproxy: refused: %s", why);
    http_header(req, "Connection", "close");
    return http_reply_raw(req, status, "text/plain", "", 0);
}

static int
websockify(struct http_req *req)
{
    const char *token = http_query(req, "token");
    const char *up = http_header_in(req, "Upgrade");
    const char *key = http_header_in(req, "Sec-WebSocket-Key");
    const char *ver = http_header_in(req, "Sec-WebSocket-Version");
    if (!up || strcasecmp(up, "websocket") || !key || !ver || strcmp(ver, "13"))
        return refuse(req, 400, "not a websocket request");
    struct db *db = req_db(req);
    const char *id, *host, *path;
    int rc = db && token ? cmp__console_token_lookup(db, req->arena, token, &id, &host, &path)
                         : -ENOENT;
    if (rc)
        return refuse(req, rc == -ENOENT ? 403 : 503, "unknown or expired token");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return refuse(req, 503, "VNC address too long");
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int vnc = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (vnc < 0 || connect(vnc, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (vnc >= 0)
            close(vnc);
        return refuse(req, 503, "the guest's VNC server does not answer");
    }
    if (atomic_fetch_add(&nrelays, 1) >= cfg_int("vnc", "max_connections", 64)) {
        atomic_fetch_sub(&nrelays, 1);
        close(vnc);
        return refuse(req, 503, "too many consoles open");
    }
    /* Sec-WebSocket-Accept: base64(SHA-1(key + GUID)) */
    unsigned char d[SHA_DIGEST_LENGTH];
    const char *k = arena_printf(req->arena, "%s" WS_GUID, key);
    SHA1((const unsigned char *)k, strlen(k), d);
    char acc[32];
    size_t n = b64url_encode(d, sizeof(d), acc);
    for (size_t i = 0; i < n; i++)       /* standard alphabet, padded */
        acc[i] = acc[i] == '-' ? '+' : acc[i] == '_' ? '/' : acc[i];
    while (n % 4)
        acc[n++] = '=';
    acc[n] = '\0';
    http_header(req, "Upgrade", "websocket");
    http_header(req, "Connection", "Upgrade");
    http_header(req, "Sec-WebSocket-Accept", arena_strdup(req->arena, acc));
    const char *proto = http_header_in(req, "Sec-WebSocket-Protocol");
    if (proto && strstr(proto, "binary"))
        http_header(req, "Sec-WebSocket-Protocol", "binary");
    struct relay *r = xcalloc(1, sizeof(*r));
    r->vnc = vnc;
    snprintf(r->id, sizeof(r->id), "%s", id);
    log_info(req->request_id, "vncproxy: console of %s on %s opened", id, host);
    return http_reply_upgrade(req, upgraded, r, relay_free);
}

static void
render_fault(struct http_req *req)
{
    http_header(req, "Connection", "close");
    http_reply_raw(req, req->fail_status, "text/plain", "", 0);
}

/* the last route that matches wins: the websocket before the pages */
static const struct http_route routes[] = {
    {HTTP_GET, "/{file+}", page, 0, NULL},
    {HTTP_GET, "/websockify", websockify, 0, NULL},
};

static const struct http_service service = {
    .prefix = "/vnc", .name = "vncproxy", .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]), .render_fault = render_fault,
};

void
cmp__vncproxy_register(void)
{
    http_register(&service);
}
