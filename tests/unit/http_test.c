/* http_test.c - the HTTP layer against a real socket: routing answers,
 * and streaming bodies (ROUTE_STREAM): large uploads pass through without
 * being held in memory, with Content-Length or chunked; a refusal in begin
 * is answered before the body is read (no 100 Continue); a failure in data
 * is the answer once the body is over; a client that goes away mid-body gets end(false).
 * Streamed responses (http_reply_stream): a large body made by a callback
 * goes out with Content-Length or chunked without growing the process, HEAD
 * never calls the reader, a reader failure cuts the body short, and the
 * context is freed exactly once whatever happens. */
#include "runner.h"

#include "core/arena.h"
#include "core/http.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;
static _Atomic long ended_ok, ended_aborted;

struct sink {
    size_t bytes, limit;
    unsigned sum;
};

static int
put_begin(struct http_req *req)
{
    if (http_header_in(req, "X-Refuse"))
        return req_fail(req, 403, "refused before the body");
    struct sink *s = arena_alloc(req->arena, sizeof(*s));
    const char *lim = http_header_in(req, "X-Limit");
    s->limit = lim ? strtoul(lim, NULL, 10) : (size_t)-1;
    req->stream_ctx = s;
    return 0;
}

static int
put_data(struct http_req *req, const char *p, size_t n)
{
    struct sink *s = req->stream_ctx;
    s->bytes += n;
    for (size_t i = 0; i < n; i++)
        s->sum += (unsigned char)p[i];
    if (s->bytes > s->limit)
        return req_fail(req, 413, "over the limit");
    return 0;
}

static int
put_end(struct http_req *req, bool complete)
{
    struct sink *s = req->stream_ctx;
    if (!complete) {
        ended_aborted++;
        return 0;
    }
    ended_ok++;
    char out[64];
    int n = snprintf(out, sizeof(out), "%zu %u", s->bytes, s->sum);
    return http_reply_raw(req, 201, "text/plain", out, (size_t)n);
}

static int
hello(struct http_req *req)
{
    return http_reply_raw(req, 200, "text/plain", "hi", 2);
}

/* ---- streamed responses ---- */

static _Atomic long gen_reads, gen_frees;

/* A generated body: byte i is (i * 7) & 0xff; fail_at cuts it there. */
struct gen {
    uint64_t size, fail_at;
    bool chunked;
};

static ssize_t
gen_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct gen *g = ctx;
    gen_reads++;
    if (pos >= g->fail_at)
        return HTTP_STREAM_ERROR;
    if (pos >= g->size)
        return HTTP_STREAM_END;
    uint64_t n = g->size - pos;
    if (n > max)
        n = max;
    if (pos + n > g->fail_at)
        n = g->fail_at - pos;
    for (uint64_t i = 0; i < n; i++)
        buf[i] = (char)((pos + i) * 7);
    return (ssize_t)n;
}

static void
gen_free(void *ctx)
{
    gen_frees++;
    free(ctx);
}

/* GET /t/gen/<size>[?chunked][&fail=<at>][&replace] */
static int
gen_get(struct http_req *req)
{
    struct gen *g = xcalloc(1, sizeof(*g));
    const char *v;
    g->size = strtoull(http_param(req, "size"), NULL, 10);
    g->fail_at = (v = http_query(req, "fail")) ? strtoull(v, NULL, 10) : UINT64_MAX;
    g->chunked = http_query(req, "chunked") != NULL;
    http_reply_stream(req, 200, g->chunked ? -1 : (int64_t)g->size, "application/x-test",
                      gen_read, gen_free, g);
    /* a failure after the stream was set replaces it (and frees ctx) */
    if (http_query(req, "replace"))
        return req_fail(req, 409, "replaced");
    return 0;
}

static const struct http_stream_ops put_ops = {put_begin, put_data, put_end};
static const struct http_route routes[] = {
    {HTTP_GET, "/hello", hello, 0},
    {HTTP_PUT, "/obj/{name}", NULL, ROUTE_STREAM, &put_ops},
    {HTTP_GET, "/gen/{size}", gen_get, 0},
};
static const struct http_service svc = {"/t", "test", routes, 3, NULL, NULL};

static int
dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

/* Reads until the server closes or out is full; returns the text. */
static char *
read_all(int fd, char *out, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = recv(fd, out + n, cap - n - 1, 0)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    return out;
}

static long
maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void
start_server(void)
{
    /* a free port: bind 0, read it back, release it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    close(fd);
    http_register(&svc);
    CHECK(http_start("127.0.0.1", port) == 0);
}

static void
routes_answer(void)
{
    char buf[4096];
    int fd = dial();
    send_all(fd, "GET /t/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 53);
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, "200 OK") && strstr(buf, "x-openstack-request-id: req-"));
    fd = dial();
    const char *r = "POST /t/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n";
    send_all(fd, r, strlen(r));
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, " 405 ") && strstr(buf, "Allow: GET"));
}

static void
streams_large_bodies(void)
{
    enum { SIZE = 64 << 20 };
    char *chunk = xmalloc(1 << 20);
    unsigned sum = 0;
    for (int i = 0; i < (1 << 20); i++) {
        chunk[i] = (char)(i * 7);
        sum += (unsigned char)chunk[i];
    }
    sum *= SIZE >> 20;
    long before = maxrss_kb();
    char hdr[256], buf[4096], want[64];
    snprintf(want, sizeof(want), "\r\n\r\n%d %u", SIZE, sum);

    int fd = dial();
    int n = snprintf(hdr, sizeof(hdr), "PUT /t/obj/a HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n", SIZE);
    send_all(fd, hdr, (size_t)n);
    for (int i = 0; i < SIZE >> 20; i++)
        send_all(fd, chunk, 1 << 20);
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, "201 Created") && strstr(buf, want));

    /* the same body, chunked */
    fd = dial();
    const char *h = "PUT /t/obj/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n";
    send_all(fd, h, strlen(h));
    for (int i = 0; i < SIZE >> 20; i++) {
        n = snprintf(hdr, sizeof(hdr), "%x\r\n", 1 << 20);
        send_all(fd, hdr, (size_t)n);
        send_all(fd, chunk, 1 << 20);
        send_all(fd, "\r\n", 2);
    }
    send_all(fd, "0\r\n\r\n", 5);
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, "201 Created") && strstr(buf, want));
    /* 128 MiB went through; the process grew by far less than one body */
    long grew = maxrss_kb() - before;
    printf("# rss growth over two 64 MiB uploads: %ld KiB\n", grew);
    CHECK(grew < 16 * 1024);
    free(chunk);
}

static void
refuses_before_the_body(void)
{
    char buf[4096];
    int fd = dial();
    const char *h = "PUT /t/obj/c HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                    "Expect: 100-continue\r\nX-Refuse: 1\r\n\r\n";
    send_all(fd, h, strlen(h));
    /* no body sent: the answer must come anyway, and it is not a 100 */
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, "HTTP/1.1 403") == buf);
    CHECK(!strstr(buf, "100 Continue"));
}

static void
fails_mid_body(void)
{
    char buf[4096], body[65536];
    memset(body, 'x', sizeof(body));
    int fd = dial();
    const char *h = "PUT /t/obj/d HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n"
                    "X-Limit: 100000\r\n\r\n";
    send_all(fd, h, strlen(h));
    for (int i = 0; i < 16; i++)
        send_all(fd, body, sizeof(body));
    read_all(fd, buf, sizeof(buf));
    close(fd);
    CHECK(strstr(buf, "HTTP/1.1 413") == buf);
}

static void
client_gone_mid_body(void)
{
    long before = ended_aborted;
    char body[65536];
    memset(body, 'y', sizeof(body));
    int fd = dial();
    const char *h = "PUT /t/obj/e HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
    send_all(fd, h, strlen(h));
    send_all(fd, body, sizeof(body));
    usleep(100000);
    close(fd);
    for (int i = 0; i < 100 && ended_aborted == before; i++)
        usleep(50000);
    CHECK(ended_aborted == before + 1);
}

/* Sends a request and reads the answer: the head into head[cap], the
 * body's bytes counted and summed (position-weighted) without keeping
 * them. A chunked body is decoded. Returns the body byte count. */
static uint64_t
fetch(const char *req, char *head, size_t cap, uint64_t *sum)
{
    static char buf[1 << 16];
    int fd = dial();
    size_t hl = 0;
    uint64_t got = 0;
    bool chunked = false, in_body = false;
    uint64_t chunk_left = 0;
    char line[64];
    size_t ll = 0;
    int crlf_skip = 0;
    *sum = 0;
    send_all(fd, req, strlen(req));
    ssize_t r;
    while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
        size_t i = 0;
        if (!in_body) {
            for (; i < (size_t)r && !in_body; i++) {
                if (hl + 1 < cap)
                    head[hl++] = buf[i];
                head[hl] = 0;
                if (hl >= 4 && !memcmp(head + hl - 4, "\r\n\r\n", 4)) {
                    in_body = true;
                    chunked = strcasestr(head, "transfer-encoding: chunked") != NULL;
                }
            }
        }
        for (; i < (size_t)r; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (!chunked) {
                *sum += (uint64_t)c * ((got % 251) + 1);
                got++;
                continue;
            }
            if (chunk_left) {
                *sum += (uint64_t)c * ((got % 251) + 1);
                got++;
                if (--chunk_left == 0)
                    crlf_skip = 2;
                continue;
            }
            if (crlf_skip) {
                crlf_skip--;
                continue;
            }
            if (c == '\n') {
                line[ll] = 0;
                chunk_left = strtoull(line, NULL, 16);
                ll = 0;
                if (!chunk_left)
                    goto out;   /* last chunk */
            } else if (c != '\r' && ll + 1 < sizeof(line)) {
                line[ll++] = (char)c;
            }
        }
    }
out:
    close(fd);
    return got;
}

static uint64_t
gen_sum(uint64_t size)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < size; i++)
        s += (uint64_t)(unsigned char)(i * 7) * ((i % 251) + 1);
    return s;
}

static void
streams_large_responses(void)
{
    enum { SIZE = 256 << 20 };
    char head[4096], req[256];
    uint64_t sum, want = gen_sum(SIZE);
    long frees = gen_frees, before = maxrss_kb();
    snprintf(req, sizeof(req), "GET /t/gen/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             SIZE);
    CHECK(fetch(req, head, sizeof(head), &sum) == SIZE);
    CHECK(sum == want);
    CHECK(strstr(head, "200 OK") && strstr(head, "Content-Length: 268435456"));
    /* the same body, chunked (unknown size) */
    snprintf(req, sizeof(req),
             "GET /t/gen/%d?chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", SIZE);
    CHECK(fetch(req, head, sizeof(head), &sum) == SIZE);
    CHECK(sum == want);
    CHECK(strcasestr(head, "Transfer-Encoding: chunked") && !strstr(head, "Content-Length"));
    long grew = maxrss_kb() - before;
    printf("# rss growth over two 256 MiB streamed responses: %ld KiB\n", grew);
    CHECK(grew < 16 * 1024);
    for (int i = 0; i < 100 && gen_frees < frees + 2; i++)
        usleep(10000);
    CHECK(gen_frees == frees + 2);
}

static void
head_never_reads(void)
{
    char head[4096];
    uint64_t sum;
    long reads = gen_reads, frees = gen_frees;
    const char *r = "HEAD /t/gen/1000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK(fetch(r, head, sizeof(head), &sum) == 0);
    CHECK(strstr(head, "200 OK") && strstr(head, "Content-Length: 1000000"));
    r = "HEAD /t/gen/1000000?chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK(fetch(r, head, sizeof(head), &sum) == 0);
    CHECK(strstr(head, "200 OK"));
    CHECK(gen_reads == reads);
    for (int i = 0; i < 100 && gen_frees < frees + 2; i++)
        usleep(10000);
    CHECK(gen_frees == frees + 2);
}

static void
failure_cuts_the_body(void)
{
    char head[4096];
    uint64_t sum;
    long frees = gen_frees;
    /* 1 MB promised, the reader fails at 300000: fewer bytes arrive and
     * none of them is wrong */
    const char *r = "GET /t/gen/1000000?fail=300000 HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n";
    uint64_t got = fetch(r, head, sizeof(head), &sum);
    CHECK(strstr(head, "200 OK") && strstr(head, "Content-Length: 1000000"));
    CHECK(got <= 300000 && sum == gen_sum(got));
    /* chunked: the body ends without its last chunk */
    r = "GET /t/gen/1000000?chunked&fail=300000 HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n";
    got = fetch(r, head, sizeof(head), &sum);
    CHECK(got <= 300000 && sum == gen_sum(got));
    /* a failure recorded after the stream was set is the answer */
    r = "GET /t/gen/1000?replace HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    fetch(r, head, sizeof(head), &sum);
    CHECK(strstr(head, "HTTP/1.1 409") == head);
    for (int i = 0; i < 100 && gen_frees < frees + 3; i++)
        usleep(10000);
    CHECK(gen_frees == frees + 3);
}

static void
client_gone_mid_response(void)
{
    long frees = gen_frees;
    char buf[65536];
    int fd = dial();
    const char *r = "GET /t/gen/1000000000 HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, r, strlen(r));
    CHECK(recv(fd, buf, sizeof(buf), 0) > 0);
    close(fd);
    for (int i = 0; i < 200 && gen_frees == frees; i++)
        usleep(50000);
    CHECK(gen_frees == frees + 1);
}

static void
stop_server(void)
{
    long ok = ended_ok, ab = ended_aborted;
    http_stop();
    /* every begun stream ended exactly once: two whole, the over-limit one
     * and the abandoned one not */
    CHECK(ok == 2 && ab == 2);
}

T_MAIN("http", T(start_server), T(routes_answer), T(streams_large_bodies),
       T(refuses_before_the_body), T(fails_mid_body), T(client_gone_mid_body),
       T(streams_large_responses), T(head_never_reads), T(failure_cuts_the_body),
       T(client_gone_mid_response), T(stop_server))
