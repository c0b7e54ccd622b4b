/* http.h - the HTTP server wrapper, router and request context.
 *
 * libmicrohttpd does the wire protocol (keep-alive, chunked bodies,
 * 100-continue, HEAD). This layer turns each request into a struct
 * http_req, routes it through the service tables (routes are data), runs the
 * token middleware, reads a bounded JSON body and hands the request to a
 * handler. Handlers never see MHD types or SQL text.
 *
 * Threads: a few event-loop threads (one per core, epoll) serve all
 * connections and run ordinary handlers, which must stay short (a few SQL
 * statements). Routes flagged ROUTE_SLOW (password hashing) run on a worker
 * pool while their connection is suspended, so a login never stalls the
 * requests that share its event loop. */
#ifndef CORE_HTTP_H
#define CORE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"

struct arena;
struct db;

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
};

/* route flags */
#define ROUTE_AUTH 0x1      /* a valid X-Auth-Token is required */
#define ROUTE_JSON 0x2      /* the body must be a JSON object */
#define ROUTE_AUTH_OPT 0x4  /* validate X-Auth-Token when present */
#define ROUTE_SLOW 0x8      /* may block for long (bcrypt): runs on a worker */
#define ROUTE_STREAM 0x10   /* the body streams through route->stream */

#define HTTP_MAX_PARAMS 6

struct http_req;
typedef int (*http_handler)(struct http_req *req);

/* A streaming body (object PUT, image upload): never held in memory.
 * begin runs once the headers are in and the token is checked, before any
 * body byte is read: it validates, opens its sink (req->stream_ctx) and may
 * refuse, and then the answer goes out at once (no 100 Continue, the body
 * is never read). data gets each piece of the body as it arrives; after a
 * failure there the rest of the body is read and dropped, and the failure
 * is the answer (libmicrohttpd cannot answer mid-body). end(req, true)
 * runs when the whole body is in and must set the reply (with ROUTE_SLOW it
 * runs on a worker, so it may fsync); end(req, false) means the body will
 * never be complete (client gone, or begin/data failed after begin): free
 * the sink and keep nothing. end runs exactly once after a successful
 * begin. */
struct http_stream_ops {
    int (*begin)(struct http_req *req);
    int (*data)(struct http_req *req, const char *p, size_t n);
    int (*end)(struct http_req *req, bool complete);
};

struct http_route {
    int method;             /* one enum http_method bit */
    const char *pattern;    /* "/v3/users/{user_id}/password" */
    http_handler fn;        /* NULL for ROUTE_STREAM routes */
    unsigned flags;
    const struct http_stream_ops *stream;
};

struct http_service {
    const char *prefix;     /* "/identity" */
    const char *name;       /* for logs */
    const struct http_route *routes;
    int nroutes;
    /* Turns req->fail_* into the service's own fault body. */
    void (*render_fault)(struct http_req *req);
    /* Optional: runs after every request of the service, before the
     * response is sent (headers every answer carries, cache bumps). */
    void (*after)(struct http_req *req);
    /* Optional: runs after the token check and before the handler, or a
     * streaming route's begin (the microversion negotiation); a -1 (with a
     * failure recorded) stops the request there. */
    int (*before)(struct http_req *req);
};

struct http_hdr {
    struct http_hdr *next;
    const char *name, *value;
};

/* An upgraded connection (http_reply_upgrade): fd is the client's
 * socket, extra the bytes the client sent after the request (already
 * read by the server), ctx the handler's. The function runs on an event
 * loop: it must hand the work to its own thread and return. Whoever ends
 * the connection calls http_upgrade_close(handle) once (it closes fd). */
typedef void (*http_upgrade_fn)(int fd, const char *extra, size_t extra_len, void *ctx,
                                void *handle);
void http_upgrade_close(void *handle);

struct http_req {
    void *conn;                     /* MHD connection; only http.c looks */
    struct arena *arena;            /* freed when the response is done */
    char request_id[48];            /* "req-<uuid>" */
    int method;
    const char *method_name;
    const char *path;               /* full decoded path */
    const char *subpath;            /* path below the service prefix */
    const struct http_service *svc;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS];
    int nparams;

    const char *body;               /* NUL-terminated, body_len bytes */
    size_t body_len;
    json_t *json;                   /* parsed body when ROUTE_JSON */

    struct auth_ctx auth;           /* filled by the token middleware */
    void *stream_ctx;               /* a streaming route's own state */
    struct db *db;                  /* lazily taken from the pool: req_db() */
    int microversion;               /* negotiated, MV(x, y); 0 = none (microversion.h) */

    /* response */
    int status;
    char *resp_body;                /* malloc'd, handed to MHD */
    size_t resp_len;
    const char *resp_type;
    struct http_hdr *headers;
    bool resp_file;                 /* the body is resp_size bytes of resp_fd */
    int resp_fd;                    /* from resp_off; owned until sent */
    uint64_t resp_off, resp_size;
    /* a body made by a callback (http_reply_stream); owned until sent */
    ssize_t (*resp_read)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*resp_free)(void *ctx);
    void *resp_ctx;
    int64_t resp_stream_size;       /* -1: unknown, sent chunked */
    /* a protocol switch (http_reply_upgrade): taken over when sent */
    http_upgrade_fn resp_upgrade;
    void *resp_upgrade_ctx;

    /* sticky failure (SQLite style): first req_fail() wins */
    int fail_status;
    const char *fail_msg;
    const char *fail_title;         /* optional override of the status title */
    int64_t start_us;
};

/* Answers 101 Switching Protocols (with the headers the handler added:
 * Upgrade, Sec-WebSocket-Accept ...) and gives the connection to fn with
 * ctx (malloc'd by the caller, fn owns it from then on; freed by the
 * caller's free_ctx when the switch never happens, e.g. the client went
 * away). Returns 0. */
int http_reply_upgrade(struct http_req *req, http_upgrade_fn fn, void *ctx,
                       void (*free_ctx)(void *));

/* Registers a service; must happen before http_start(). The table must
 * outlive the server. */
void http_register(const struct http_service *svc);

/* Starts serving on host:port ("127.0.0.1", 8000) with one thread per
 * connection. Returns 0 or -1. */
int http_start(const char *host, int port);
/* Stops accepting and waits for in-flight requests. */
void http_stop(void);

/* Value of path parameter {name}, NULL if the route has none. */
const char *http_param(struct http_req *req, const char *name);
/* Query string value (decoded); NULL when absent. A key given without a
 * value ("?nocatalog") yields "". */
const char *http_query(struct http_req *req, const char *name);
/* The query string rebuilt from the parsed arguments ("?a=1&b=x%20y"), or
 * "" when there is none; in the request arena. */
const char *http_query_string(struct http_req *req);
/* Every query parameter in the order sent, repeated keys included
 * (http_query() gives the first only): up to max into keys[] / vals[]
 * (decoded, valid for the request; a key without "=" has value ""). The
 * count, or -1 when there are more than max. */
int http_query_all(struct http_req *req, const char **keys, const char **vals, int max);
/* Request header value, NULL when absent. */
const char *http_header_in(struct http_req *req, const char *name);
/* Calls fn(arg, name, value) for every request header in arrival order
 * (metadata headers such as X-Object-Meta-*, whose names are not known in
 * advance). The strings live as long as the request. */
void http_each_header(struct http_req *req,
                      void (*fn)(void *arg, const char *name, const char *value), void *arg);

/* Adds a response header; both strings are copied into the arena. */
void http_header(struct http_req *req, const char *name, const char *value);
/* Sets a JSON response (steals the reference to body; NULL = no body). */
int http_reply_json(struct http_req *req, int status, json_t *body);
/* Sets a response with no body. */
int http_reply_empty(struct http_req *req, int status);
/* Sets a raw response; data is copied. */
int http_reply_raw(struct http_req *req, int status, const char *ctype,
                   const char *data, size_t len);

/* Sets a response whose body is size bytes of the open file fd from byte
 * off, sent by libmicrohttpd straight from the file (sendfile), never held
 * in memory. Takes ownership of fd: it is closed once the response is sent,
 * or when another reply (a failure) replaces this one. For HEAD nothing is
 * read and Content-Length still says size. */
int http_reply_file(struct http_req *req, int status, int fd, uint64_t off, uint64_t size,
                    const char *ctype);

/* What a stream read callback returns besides a count of bytes (> 0):
 * the end of a body of unknown size, or a failure, after which the
 * connection is closed so the client sees a short (or unterminated
 * chunked) body, never made-up bytes. The values are libmicrohttpd's. */
#define HTTP_STREAM_END ((ssize_t)-1)
#define HTTP_STREAM_ERROR ((ssize_t)-2)

/* Sets a response whose body is produced by read(ctx, pos, buf, max) as
 * it is sent: pos is the count of bytes already sent, and read fills up to
 * max bytes of buf and returns their count (never 0), HTTP_STREAM_END
 * (only when size is unknown) or HTTP_STREAM_ERROR. size is the total
 * (Content-Length) or -1 when unknown (chunked). read runs on the
 * connection's event-loop thread after the handler returned, when the
 * request's arena may already be gone: ctx must own all it needs.
 * free_ctx(ctx) (may be NULL) runs exactly once: when the response is
 * done, or when another reply (a failure) replaces this one, or when the
 * request ends without sending it. For HEAD read is never called and
 * Content-Length still says size. Returns 0. */
int http_reply_stream(struct http_req *req, int status, int64_t size, const char *ctype,
                      ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max),
                      void (*free_ctx)(void *ctx), void *ctx);

/* Records the first failure of the request and returns -1, so handlers
 * read `return req_fail(req, 404, "...")`. */
int req_fail(struct http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Standard reason phrase for a status ("Not Found"). */
const char *http_status_title(int status);

/* The request's database connection, taken from the pool on first use and
 * returned when the request ends. NULL if the database is unreachable
 * (the caller fails with 503). */
struct db *req_db(struct http_req *req);

/* Exposed for unit tests: matches path against pattern, filling params.
 * "{name}" captures one non-empty segment; a last "{name+}" captures the
 * non-empty rest of the path, slashes included (Swift object names), and
 * is matched against the path as sent, trailing and doubled slashes kept.
 * Returns true on a match. */
bool http_match(const char *pattern, const char *path, struct http_req *req);

#endif
