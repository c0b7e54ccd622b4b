/* http_test.c - the HTTP layer against a real socket: routing answers,
 * and streaming bodies (ROUTE_STREAM): large uploads pass through without
 * being held in memory, with Content-Length or chunked; a refusal in begin
 * is answered before the body is read (no 100 Continue); a failure in data
 * is the answer once the body is over; a client that goes away mid-body gets end(false). */
#include "runner.h"

#include "core/arena.h"
#include "core/http.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
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

static const struct http_stream_ops put_ops = {put_begin, put_data, put_end};
static const struct http_route routes[] = {
    {HTTP_GET, "/hello", hello, 0},
    {HTTP_PUT, "/obj/{name}", NULL, ROUTE_STREAM, &put_ops},
};
static const struct http_service svc = {"/t", "test", routes, 2, NULL, NULL};

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
       T(stop_server))
