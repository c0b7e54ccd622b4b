/* http.c - see http.h. */
#include "http.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_SERVICES 16

static const struct http_service *services[HTTP_MAX_SERVICES];
static int nservices;
static struct MHD_Daemon *daemon_h;
static size_t max_body;

/* per-connection-request state kept in MHD's con_cls */
struct req_state {
    struct http_req req;
    struct buf body;
    const struct http_route *route;
    struct req_state *next_slow;    /* queue link for the worker pool */
    bool queued;                    /* handed to a worker */
    _Atomic bool done;              /* answered by it (set on the worker thread) */
    bool streaming, began, ended;   /* ROUTE_STREAM: begin ran / end ran */
};

#define HTTP_MAX_WORKERS 64

/* Worker pool for ROUTE_SLOW requests. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct req_state *head, *tail;
    pthread_t threads[HTTP_MAX_WORKERS];
    int n;
    bool stop;
    bool spinning;              /* a worker polls head and needs no signal */
} slow = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void
http_register(const struct http_service *svc)
{
    if (nservices == HTTP_MAX_SERVICES)
        abort();
    services[nservices++] = svc;
}

const char *
http_status_title(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 300: return "Multiple Choices";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

int
req_fail(struct http_req *req, int status, const char *fmt, ...)
{
    if (req->fail_status)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    req->fail_msg = arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    req->fail_status = status;
    return -1;
}

const char *
http_param(struct http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->param_names[i], name))
            return req->param_values[i];
    return NULL;
}

struct query_find {
    const char *name;
    const char *value;
    bool found;
};

static enum MHD_Result
query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct query_find *q = cls;
    if (key && !strcmp(key, q->name)) {
        q->value = value ? value : "";
        q->found = true;
        return MHD_NO;
    }
    return MHD_YES;
}

const char *
http_query(struct http_req *req, const char *name)
{
    struct query_find q = {.name = name};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_iter, &q);
    return q.found ? q.value : NULL;
}

static void
qs_escape(struct buf *b, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~:,", c)) {
            buf_append(b, s, 1);
        } else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

static enum MHD_Result
qs_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct buf *b = cls;
    buf_append(b, b->len ? "&" : "?", 1);
    qs_escape(b, key);
    if (value) {
        buf_append(b, "=", 1);
        qs_escape(b, value);
    }
    return MHD_YES;
}

const char *
http_query_string(struct http_req *req)
{
    struct buf b;
    buf_init(&b, 8192);
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, qs_iter, &b);
    const char *r = arena_strdup(req->arena, b.data && !b.toobig ? b.data : "");
    buf_release(&b);
    return r;
}

struct query_all {
    struct http_req *req;
    const char **keys, **vals;
    int n, max;
};

static enum MHD_Result
query_all_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct query_all *q = cls;
    if (q->n == q->max) {
        q->n = -1;
        return MHD_NO;
    }
    q->keys[q->n] = key;
    q->vals[q->n++] = value ? value : "";
    return MHD_YES;
}

int
http_query_all(struct http_req *req, const char **keys, const char **vals, int max)
{
    struct query_all q = {req, keys, vals, 0, max};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_all_iter, &q);
    return q.n;
}

const char *
http_header_in(struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct each_header {
    void (*fn)(void *arg, const char *name, const char *value);
    void *arg;
};

static enum MHD_Result
each_header_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct each_header *e = cls;
    if (key)
        e->fn(e->arg, key, value ? value : "");
    return MHD_YES;
}

void
http_each_header(struct http_req *req,
                 void (*fn)(void *arg, const char *name, const char *value), void *arg)
{
    struct each_header e = {fn, arg};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, each_header_iter, &e);
}

void
http_header(struct http_req *req, const char *name, const char *value)
{
    struct http_hdr *h = arena_alloc(req->arena, sizeof(*h));
    h->name = arena_strdup(req->arena, name);
    h->value = arena_strdup(req->arena, value);
    h->next = req->headers;
    req->headers = h;
}

_Static_assert(HTTP_STREAM_END == MHD_CONTENT_READER_END_OF_STREAM &&
                   HTTP_STREAM_ERROR == MHD_CONTENT_READER_END_WITH_ERROR,
               "stream results are libmicrohttpd's");

/* Drops a file or callback body set by http_reply_file() or
 * http_reply_stream() and not handed to libmicrohttpd. */
static void
drop_file(struct http_req *req)
{
    if (req->resp_file)
        close(req->resp_fd);
    req->resp_file = false;
    if (req->resp_read && req->resp_free)
        req->resp_free(req->resp_ctx);
    if (req->resp_upgrade && req->resp_free)
        req->resp_free(req->resp_upgrade_ctx);
    req->resp_read = NULL;
    req->resp_upgrade = NULL;
    req->resp_free = NULL;
    req->resp_ctx = NULL;
    req->resp_upgrade_ctx = NULL;
}

int
http_reply_upgrade(struct http_req *req, http_upgrade_fn fn, void *ctx, void (*free_ctx)(void *))
{
    drop_file(req);
    req->status = 101;
    req->resp_upgrade = fn;
    req->resp_upgrade_ctx = ctx;
    req->resp_free = free_ctx;
    return 0;
}

/* What an upgrade response carries to libmicrohttpd's handler. */
struct upgrade {
    http_upgrade_fn fn;
    void *ctx;
};

/* The upgraded connections still open, so http_stop() can end them
 * (their owners' threads see the socket shut and close) before it stops
 * libmicrohttpd, which must not go first. */
#define HTTP_MAX_UPGRADED 1024
static struct {
    pthread_mutex_t mu;
    struct { int fd; void *handle; } open[HTTP_MAX_UPGRADED];
    int n;
} upg = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra,
           size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    (void)req_cls;
    struct upgrade *u = cls;
    pthread_mutex_lock(&upg.mu);
    if (upg.n < HTTP_MAX_UPGRADED)
        upg.open[upg.n++].fd = sock, upg.open[upg.n - 1].handle = urh;
    pthread_mutex_unlock(&upg.mu);
    u->fn(sock, extra, extra_len, u->ctx, urh);
    free(u);
}

void
http_upgrade_close(void *handle)
{
    pthread_mutex_lock(&upg.mu);
    for (int i = 0; i < upg.n; i++)
        if (upg.open[i].handle == handle) {
            upg.open[i] = upg.open[--upg.n];
            break;
        }
    pthread_mutex_unlock(&upg.mu);
    MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
}

/* Shuts every upgraded socket and waits (2 s at most) for their owners
 * to close them. */
static void
end_upgraded(void)
{
    pthread_mutex_lock(&upg.mu);
    for (int i = 0; i < upg.n; i++)
        shutdown(upg.open[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&upg.mu);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&upg.mu);
        int n = upg.n;
        pthread_mutex_unlock(&upg.mu);
        if (!n)
            break;
        usleep(10000);
    }
}

int
http_reply_file(struct http_req *req, int status, int fd, uint64_t off, uint64_t size,
                const char *ctype)
{
    http_reply_raw(req, status, ctype, NULL, 0);
    req->resp_file = true;
    req->resp_fd = fd;
    req->resp_off = off;
    req->resp_size = size;
    return 0;
}

int
http_reply_stream(struct http_req *req, int status, int64_t size, const char *ctype,
                  ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max),
                  void (*free_ctx)(void *ctx), void *ctx)
{
    http_reply_raw(req, status, ctype, NULL, 0);
    req->resp_read = read;
    req->resp_free = free_ctx;
    req->resp_ctx = ctx;
    req->resp_stream_size = size < 0 ? -1 : size;
    return 0;
}

int
http_reply_raw(struct http_req *req, int status, const char *ctype, const char *data,
               size_t len)
{
    drop_file(req);
    free(req->resp_body);
    req->resp_body = NULL;
    req->resp_len = 0;
    if (data) {
        req->resp_body = xmalloc(len + 1);
        memcpy(req->resp_body, data, len);
        req->resp_len = len;
    }
    req->status = status;
    req->resp_type = ctype;
    return 0;
}

int
http_reply_json(struct http_req *req, int status, json_t *body)
{
    drop_file(req);
    free(req->resp_body);
    req->resp_body = NULL;
    req->resp_len = 0;
    req->status = status;
    if (body) {
        req->resp_body = json_dumps(body, JSON_COMPACT);
        req->resp_len = req->resp_body ? strlen(req->resp_body) : 0;
        req->resp_type = "application/json";
        json_decref(body);
    }
    return 0;
}

int
http_reply_empty(struct http_req *req, int status)
{
    return http_reply_raw(req, status, NULL, NULL, 0);
}

struct db *
req_db(struct http_req *req)
{
    if (!req->db)
        req->db = db_get();
    return req->db;
}

/* Matches "/v3/users/{id}" against "/v3/users/abc". Segments in braces
 * capture one non-empty path segment each; a closing "{rest+}" takes all
 * that is left. */
bool
http_match(const char *pattern, const char *path, struct http_req *req)
{
    const char *p = pattern, *s = path;
    int np = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close || np == HTTP_MAX_PARAMS)
                return false;
            bool rest = close[-1] == '+' && !close[1];
            const char *end = rest ? NULL : strchr(s, '/');
            size_t vlen = end ? (size_t)(end - s) : strlen(s);
            size_t nlen = (size_t)(close - p - 1) - (rest ? 1 : 0);
            if (vlen == 0)
                return false;
            if (req) {
                req->param_names[np] = arena_strndup(req->arena, p + 1, nlen);
                req->param_values[np] = arena_strndup(req->arena, s, vlen);
            }
            np++;
            p = close + 1;
            s += vlen;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    if (req)
        req->nparams = np;
    return true;
}

/* true when pattern ends in a rest-of-path parameter "{name+}" */
static bool
rest_pattern(const char *pattern)
{
    size_t n = strlen(pattern);
    return n > 3 && pattern[n - 1] == '}' && pattern[n - 2] == '+';
}

static int
method_bit(const char *m)
{
    static const struct { const char *n; int b; } tab[] = {
        {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
        {"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (!strcmp(m, tab[i].n))
            return tab[i].b;
    return HTTP_OTHER;
}

static const char *
method_name(int bit)
{
    switch (bit) {
    case HTTP_GET: return "GET";
    case HTTP_HEAD: return "HEAD";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_PATCH: return "PATCH";
    case HTTP_DELETE: return "DELETE";
    default: return "OPTIONS";
    }
}

static const struct http_service *
find_service(const char *path, const char **subpath)
{
    const struct http_service *best = NULL;
    size_t bestlen = 0;
    for (int i = 0; i < nservices; i++) {
        size_t n = strlen(services[i]->prefix);
        if (!strncmp(path, services[i]->prefix, n) && (path[n] == '/' || !path[n]) &&
            n >= bestlen) {
            best = services[i];
            bestlen = n;
        }
    }
    if (best)
        *subpath = path + bestlen;
    return best;
}

/* Keystone's answer to a body that is not a JSON object */
#define BAD_JSON_MSG                                                              \
    "Expecting to find valid JSON in request body. The server could not comply " \
    "with the request since it is either malformed or otherwise incorrect. The " \
    "client is assumed to be in error."

/* Finds the service and route of the request. Returns the route, or NULL
 * with a 404/405 recorded. */
static const struct http_route *
route_lookup(struct http_req *req)
{
    const char *sub = "";
    req->svc = find_service(req->path, &sub);
    if (!req->svc) {
        req_fail(req, 404, "The resource could not be found.");
        return NULL;
    }
    /* "/v3/" and "/v3" are the same resource; the root is "/" */
    size_t n = strlen(sub);
    while (n > 1 && sub[n - 1] == '/')
        n--;
    req->subpath = n == 0 ? "/" : arena_strndup(req->arena, sub, n);
    /* a rest-of-path parameter sees the path as sent: "dir/" and "c//x"
     * are object names of their own in Swift */
    const char *raw = *sub ? arena_strdup(req->arena, sub) : "/";

    const struct http_route *route = NULL;
    int allowed = 0;
    for (int i = 0; i < req->svc->nroutes; i++) {
        const struct http_route *r = &req->svc->routes[i];
        if (!http_match(r->pattern, rest_pattern(r->pattern) ? raw : req->subpath, NULL))
            continue;
        allowed |= r->method;
        /* HEAD is served by the GET handler unless a HEAD route exists */
        if (r->method == req->method || (req->method == HTTP_HEAD && r->method == HTTP_GET &&
                                         !route))
            route = r;
    }
    if (!route) {
        if (!allowed) {
            req_fail(req, 404, "The resource could not be found.");
            return NULL;
        }
        char allow[128] = "";
        size_t al = 0;
        for (int b = HTTP_GET; b <= HTTP_OPTIONS; b <<= 1)
            if (allowed & b)
                al += (size_t)snprintf(allow + al, sizeof(allow) - al, "%s%s",
                                       al ? ", " : "", method_name(b));
        http_header(req, "Allow", allow);
        req_fail(req, 405, "The method is not allowed for the requested URL.");
        return NULL;
    }
    http_match(route->pattern, rest_pattern(route->pattern) ? raw : req->subpath, req);
    return route;
}

/* true for application/json and the JSON flavours services use
 * ("application/openstack-images-v2.1-json-patch", "...+json"), with or
 * without parameters ("; charset=UTF-8"). */
static bool
json_media_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    return (n >= 4 && !strncasecmp(ct + n - 4, "json", 4)) ||
           (n >= 10 && !strncasecmp(ct + n - 10, "json-patch", 10));
}

/* The token middleware: fills req->auth from X-Auth-Token as the route
 * asks. 0, or -1 with a 401 (or the validator's 5xx) recorded. */
static int
authenticate(struct http_req *req, const struct http_route *route)
{
    const char *token = http_header_in(req, "X-Auth-Token");
    if (route->flags & (ROUTE_AUTH | ROUTE_AUTH_OPT) && token && *token) {
        if (auth_validate(req, token, &req->auth) < 0)
            return req->fail_status ? -1
                                    : req_fail(req, 401, "The request you have made "
                                                         "requires authentication.");
    } else if (route->flags & ROUTE_AUTH) {
        return req_fail(req, 401, "The request you have made requires authentication.");
    }
    return 0;
}

/* Runs the middleware and the handler of a found route; leaves status/body
 * or fail_* set. */
static void
run_route(struct http_req *req, const struct http_route *route, struct buf *body)
{
    if (body->toobig) {
        req_fail(req, 413, "Request is too large.");
        return;
    }
    req->body = body->data ? body->data : "";
    req->body_len = body->len;
    if (authenticate(req, route) < 0)
        return;
    if (req->svc->before && req->svc->before(req) < 0)
        return;

    if (route->flags & ROUTE_JSON) {
        json_error_t jerr;
        const char *ct = http_header_in(req, "Content-Type");
        if (ct && *ct && !json_media_type(ct)) {
            req_fail(req, 400, "Expecting to find application/json in Content-Type header - "
                               "the server could not comply with the request since it is "
                               "either malformed or otherwise incorrect. The client is "
                               "assumed to be in error.");
            return;
        }
        req->json = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
        if (!req->json || !json_is_object(req->json)) {
            req_fail(req, 400, BAD_JSON_MSG);
            return;
        }
    }
    if (route->fn(req) < 0 && !req->fail_status)
        req_fail(req, 500, "An unexpected error prevented the server from fulfilling "
                           "your request.");
}

static void
render_failure(struct http_req *req)
{
    if (req->svc && req->svc->render_fault) {
        req->svc->render_fault(req);
        return;
    }
    json_t *e = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", req->fail_status, "title",
                          http_status_title(req->fail_status), "message",
                          req->fail_msg ? req->fail_msg : "");
    http_reply_json(req, req->fail_status, e);
}

/* A callback body as libmicrohttpd holds it. */
struct stream_body {
    ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*free)(void *ctx);
    void *ctx;
    bool head;      /* HEAD: the body is never read */
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_body *sb = cls;
    if (sb->head)
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = sb->read(sb->ctx, pos, buf, max);
    /* 0 would make libmicrohttpd ask again at once, for ever: a reader
     * that has nothing is broken, and the body is cut */
    return n == 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void
stream_free(void *cls)
{
    struct stream_body *sb = cls;
    if (sb->free)
        sb->free(sb->ctx);
    free(sb);
}

/* 64 KiB pieces: the size of one read of a file or a segment */
#define STREAM_BLOCK (64 * 1024)

static enum MHD_Result
send_response(struct MHD_Connection *conn, struct http_req *req)
{
    struct MHD_Response *resp;
    if (req->resp_upgrade) {
        /* libmicrohttpd calls the handler once the 101 is sent; a client
         * gone before that never gets there (the context is then lost
         * with the connection: libmicrohttpd has no hook for it) */
        struct upgrade *u = xmalloc(sizeof(*u));
        *u = (struct upgrade){req->resp_upgrade, req->resp_upgrade_ctx};
        resp = MHD_create_response_for_upgrade(on_upgrade, u);
        if (!resp)
            free(u);
        else
            req->resp_upgrade = NULL;   /* the response owns it now */
    } else if (req->resp_read) {
        struct stream_body *sb = xmalloc(sizeof(*sb));
        sb->read = req->resp_read;
        sb->free = req->resp_free;
        sb->ctx = req->resp_ctx;
        sb->head = req->method == HTTP_HEAD;
        req->resp_read = NULL;      /* the response owns ctx now */
        req->resp_free = NULL;
        req->resp_ctx = NULL;
        resp = MHD_create_response_from_callback(
            req->resp_stream_size < 0 ? MHD_SIZE_UNKNOWN : (uint64_t)req->resp_stream_size,
            STREAM_BLOCK, stream_read, sb, stream_free);
        if (!resp)
            stream_free(sb);
    } else if (req->resp_file) {
        /* MHD closes the fd when it destroys the response */
        resp = MHD_create_response_from_fd_at_offset64(req->resp_size, req->resp_fd,
                                                       req->resp_off);
        if (!resp)
            close(req->resp_fd);
        req->resp_file = false;
    } else {
        resp = MHD_create_response_from_buffer(
            req->resp_len, req->resp_body ? req->resp_body : (void *)"",
            req->resp_body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        req->resp_body = NULL;  /* MHD owns it now */
    }
    if (!resp)
        return MHD_NO;
    if (req->resp_type)
        MHD_add_response_header(resp, "Content-Type", req->resp_type);
    MHD_add_response_header(resp, "x-openstack-request-id", req->request_id);
    for (struct http_hdr *h = req->headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Request ids need to be unique, not secret: a per-thread xorshift seeded
 * from the kernel spares a getrandom(2) per request. */
static void
new_request_id(char *out, size_t outlen)
{
    static _Thread_local uint64_t s[2];
    if (!s[0] && !s[1])
        random_bytes(s, sizeof(s));
    unsigned char b[16];
    for (int i = 0; i < 2; i++) {
        uint64_t x = s[0], y = s[1];
        s[0] = y;
        x ^= x << 23;
        s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
        uint64_t v = s[1] + y;
        memcpy(b + 8 * i, &v, 8);
    }
    b[6] = (b[6] & 0x0f) | 0x40;    /* shaped as a uuid4, as Keystone's are */
    b[8] = (b[8] & 0x3f) | 0x80;
    char h[33];
    hex_encode(b, 16, h);
    snprintf(out, outlen, "req-%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* Runs the request to its response (on whichever thread holds it). */
static void
complete(struct req_state *st)
{
    struct http_req *req = &st->req;
    if (st->streaming) {
        if (st->began && !st->ended) {
            st->ended = true;
            if (st->route->stream->end(req, !req->fail_status) < 0 && !req->fail_status)
                req_fail(req, 500, "An unexpected error prevented the server from "
                                   "fulfilling your request.");
        }
    } else if (st->route) {
        run_route(req, st->route, &st->body);
    }
    if (req->svc && req->svc->after)
        req->svc->after(req);
    if (req->fail_status)
        render_failure(req);
    if (!req->status)
        http_reply_empty(req, 500);
    /* the database connection goes back as soon as the handler is done */
    db_put(req->db);
    req->db = NULL;
}

static enum MHD_Result
finish(struct MHD_Connection *conn, struct req_state *st)
{
    struct http_req *req = &st->req;
    log_info(req->request_id, "%s %s -> %d %.1fms%s%s", req->method_name, req->path,
             req->status, (double)(mono_us() - req->start_us) / 1000.0,
             req->fail_status >= 500 ? " error: " : "",
             req->fail_status >= 500 && req->fail_msg ? req->fail_msg : "");
    return send_response(conn, req);
}

/* One idle worker at a time polls the queue for SLOW_SPIN_NS before it
 * sleeps (called and returning with slow.lock held). Waking a sleeping
 * thread costs a futex call and a cross-CPU interrupt on each side, and
 * on this hypervisor that hand-off was a large part of a small PUT's
 * latency at c=1; a request that arrives while a worker polls is taken
 * without either. The poller re-checks the queue under the lock after
 * polling, so a request queued without a signal is never missed. */
#define SLOW_SPIN_NS 50000

static void
spin_for_work(void)
{
    slow.spinning = true;
    pthread_mutex_unlock(&slow.lock);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (__atomic_load_n(&slow.head, __ATOMIC_ACQUIRE))
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SLOW_SPIN_NS)
            break;
        __builtin_ia32_pause();
    }
    pthread_mutex_lock(&slow.lock);
    slow.spinning = false;
}

static void *
slow_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&slow.lock);
    for (;;) {
        if (!slow.head && !slow.stop && !slow.spinning)
            spin_for_work();
        while (!slow.head && !slow.stop)
            pthread_cond_wait(&slow.cond, &slow.lock);
        if (!slow.head)
            break;      /* stopping, and the queue is drained */
        struct req_state *st = slow.head;
        slow.head = st->next_slow;
        if (!slow.head)
            slow.tail = NULL;
        pthread_mutex_unlock(&slow.lock);
        complete(st);
        st->done = true;
        MHD_resume_connection(st->req.conn);
        pthread_mutex_lock(&slow.lock);
    }
    pthread_mutex_unlock(&slow.lock);
    return NULL;
}

/* First call of a streaming route: token, then the route's begin. A
 * refusal is answered at once. */
static enum MHD_Result
stream_begin(struct MHD_Connection *conn, struct req_state *st)
{
    struct http_req *req = &st->req;
    st->streaming = true;
    if (authenticate(req, st->route) == 0 &&
        (!req->svc->before || req->svc->before(req) == 0)) {
        if (st->route->stream->begin(req) == 0)
            st->began = true;
        else if (!req->fail_status)
            req_fail(req, 500, "An unexpected error prevented the server from fulfilling "
                               "your request.");
    }
    if (!req->fail_status)
        return MHD_YES;
    complete(st);
    return finish(conn, st);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
    (void)cls;
    (void)version;
    struct req_state *st = *con_cls;
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        st->req.arena = arena_new();
        if (!st->req.arena)
            abort();
        st->req.conn = conn;
        st->req.start_us = mono_us();
        st->req.method = method_bit(method);
        st->req.method_name = arena_strdup(st->req.arena, method);
        st->req.path = arena_strdup(st->req.arena, url);
        new_request_id(st->req.request_id, sizeof(st->req.request_id));
        buf_init(&st->body, max_body);
        *con_cls = st;
        /* the headers are in: route now, so a streaming route can refuse
         * before a single body byte is read */
        st->route = route_lookup(&st->req);
        if (st->route && (st->route->flags & ROUTE_STREAM))
            return stream_begin(conn, st);
        return MHD_YES;
    }
    struct http_req *req = &st->req;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!st->streaming) {
            /* past the ceiling we keep draining but stop storing: 413 at the end */
            buf_append(&st->body, upload_data, n);
            return MHD_YES;
        }
        if (req->fail_status)
            return MHD_YES;
        /* after a failure the rest is drained unread: MHD cannot answer in
         * the middle of a body (it drops the connection), so the answer goes
         * out when the body is over */
        if (st->route->stream->data(req, upload_data, n) < 0 && !req->fail_status)
            req_fail(req, 500, "An unexpected error prevented the server from "
                               "fulfilling your request.");
        return MHD_YES;
    }
    if (st->queued) {
        /* resumed by the worker that ran the handler */
        if (!st->done)
            return MHD_YES;
        return finish(conn, st);
    }
    if (st->streaming && req->status)
        return MHD_YES;     /* answered early; MHD is sending it */
    if (st->route && (st->route->flags & ROUTE_SLOW) && slow.n) {
        st->queued = true;
        MHD_suspend_connection(conn);
        pthread_mutex_lock(&slow.lock);
        if (slow.tail)
            slow.tail->next_slow = st;
        else
            slow.head = st;
        slow.tail = st;
        if (!slow.spinning)
            pthread_cond_signal(&slow.cond);
        pthread_mutex_unlock(&slow.lock);
        return MHD_YES;
    }
    complete(st);
    return finish(conn, st);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct req_state *st = *con_cls;
    if (!st)
        return;
    /* a body that will never be complete: the route drops what it has */
    if (st->streaming && st->began && !st->ended) {
        st->ended = true;
        st->route->stream->end(&st->req, false);
    }
    if (st->req.json)
        json_decref(st->req.json);
    db_put(st->req.db);
    drop_file(&st->req);
    free(st->req.resp_body);
    buf_release(&st->body);
    arena_free(st->req.arena);
    free(st);
    *con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn(NULL, "http: %s", msg);
}

int
http_start(const char *host, int port)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        log_error(NULL, "http: listen address %s is not an IPv4 address", host);
        return -1;
    }
    max_body = (size_t)cfg_int("DEFAULT", "max_request_body_size", 114688);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned loops = (unsigned)cfg_int("DEFAULT", "http_threads", cores > 0 ? cores : 2);
    int workers = (int)cfg_int("DEFAULT", "slow_workers", 16);
    slow.stop = false;
    for (int i = 0; i < workers && i < HTTP_MAX_WORKERS; i++)
        if (pthread_create(&slow.threads[slow.n], NULL, slow_worker, NULL) == 0)
            slow.n++;
    daemon_h = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, loops,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg_int("DEFAULT", "client_socket_timeout", 900),
        /* no SO_REUSEPORT: a second daemon on the same port must fail, not
         * silently share the traffic */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg_int("DEFAULT", "max_connections", 1000),
        /* bodies reach the handlers in pieces of up to about this much:
         * MHD's 32 KiB default made a 256 MiB upload ~10,000 callbacks and
         * writes. The price is up to this much memory per busy connection
         * (bench/storage: RSS 17 MiB at c=1, 27 MiB at c=32 PUTs) */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
        MHD_OPTION_END);
    if (!daemon_h) {
        log_error(NULL, "http: cannot listen on %s:%d", host, port);
        return -1;
    }
    return 0;
}

void
http_stop(void)
{
    /* stop accepting, then let the workers drain their queue: a suspended
     * connection must be resumed before MHD can close it */
    if (daemon_h)
        MHD_quiesce_daemon(daemon_h);
    end_upgraded();
    pthread_mutex_lock(&slow.lock);
    slow.stop = true;
    pthread_cond_broadcast(&slow.cond);
    pthread_mutex_unlock(&slow.lock);
    for (int i = 0; i < slow.n; i++)
        pthread_join(slow.threads[i], NULL);
    slow.n = 0;
    /* a request queued after the last worker left is answered here */
    for (struct req_state *st = slow.head; st; st = slow.head) {
        slow.head = st->next_slow;
        complete(st);
        st->done = true;
        MHD_resume_connection(st->req.conn);
    }
    slow.tail = NULL;
    if (daemon_h)
        MHD_stop_daemon(daemon_h);
    daemon_h = NULL;
}
