// The machine's floor for bench/gc.sh: an HTTP/1.1 server in one thread (epoll) that answers the v2
// requests the load generator sends for the demo model with canned bodies, doing no other work and
// allocating nothing per request. What the load generator measures against it is the latency of
// the loopback, the scheduler and the generator itself: no server on this machine can go below it.
//
//   cc -O2 -o floor_server bench/floor/floor_server.c && ./floor_server   # prints its port
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 4096
#define BUF 65536

static const char METADATA[] =
    "{\"name\":\"mlp\",\"versions\":[\"1\"],\"platform\":\"pytorch_libtorch\","
    "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,64]}],"
    "\"outputs\":[{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[-1,2]}]}";
static const char INFER[] =
    "{\"model_name\":\"mlp\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"output\","
    "\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[0.25,0.75]}]}";

struct conn {
    char in[BUF];
    size_t len;
};
static struct conn *conns[MAX_CONN];

static void reply(int fd, const char *body) {
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n\r\n%s",
                     strlen(body), body);
    // Replies are small and the socket's buffer empty: one write sends them whole.
    if (write(fd, out, n) != n) {
        perror("write");
    }
}

// Answers every whole request in the connection's buffer; returns -1 when it must be closed.
static int serve(int fd, struct conn *c) {
    for (;;) {
        c->in[c->len] = 0;
        char *end = strstr(c->in, "\r\n\r\n");
        if (end == NULL) {
            return c->len >= BUF - 1 ? -1 : 0;
        }
        size_t head = end + 4 - c->in, body = 0;
        for (char *line = strstr(c->in, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
            if (strncasecmp(line + 2, "content-length:", 15) == 0) {
                body = strtoul(line + 17, NULL, 10);
            }
        }
        if (head + body >= BUF) {
            return -1;
        }
        if (c->len < head + body) {
            return 0;
        }
        reply(fd, strncmp(c->in, "POST", 4) == 0 ? INFER
                  : strncmp(c->in, "GET /v2/models/mlp ", 19) == 0 ? METADATA : "{}");
        memmove(c->in, c->in + head + body, c->len - head - body);
        c->len -= head + body;
    }
}

int main(void) {
    int server = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) || listen(server, 1024)) {
        perror("listen");
        return 1;
    }
    getsockname(server, (struct sockaddr *)&addr, &alen);
    printf("floor server listening on http://127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = server}, events[64];
    epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev);
    for (;;) {
        int n = epoll_wait(ep, events, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == server) {
                int client = accept(server, NULL, NULL);
                if (client < 0) {
                    continue;
                }
                if (client >= MAX_CONN) {
                    close(client);
                    continue;
                }
                setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                conns[client] = calloc(1, sizeof(struct conn));
                ev.events = EPOLLIN;
                ev.data.fd = client;
                epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev);
                continue;
            }
            struct conn *c = conns[fd];
            ssize_t got = read(fd, c->in + c->len, BUF - 1 - c->len);
            if (got <= 0 || (c->len += got, serve(fd, c) < 0)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                free(c);
                conns[fd] = NULL;
            }
        }
    }
}
