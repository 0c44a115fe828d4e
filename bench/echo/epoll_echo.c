/* echo_server_epoll_c: the practical floor of the echo benchmark. A minimal
 * level-triggered epoll echo server in plain C: non-blocking sockets, one
 * 64 KiB buffer per connection (allocated on accept), read then write back;
 * if the write is short, stop reading and wait for EPOLLOUT.
 *
 *   echo_server_epoll_c [--port N]
 *
 * Prints "port N" once listening (port 0 picks a free one); runs until
 * SIGTERM or SIGINT. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferSize = 64 * 1024, kMaxEvents = 256 };

struct conn {
  int fd;
  size_t pending; /* bytes in buf not yet written back */
  size_t offset;  /* of the first of them */
  char* buf;
};

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void close_conn(int epfd, struct conn* c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->buf);
  free(c);
}

static void set_interest(int epfd, struct conn* c, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is pending; returns 0 when all of it went, 1 if the socket is
 * full, -1 on error. */
static int flush(struct conn* c) {
  while (c->pending > 0) {
    ssize_t n = send(c->fd, c->buf + c->offset, c->pending, MSG_NOSIGNAL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    c->offset += (size_t)n;
    c->pending -= (size_t)n;
  }
  return 0;
}

static void on_readable(int epfd, struct conn* c) {
  ssize_t n = recv(c->fd, c->buf, kBufferSize, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    close_conn(epfd, c);
    return;
  }
  if (n < 0) return;
  c->offset = 0;
  c->pending = (size_t)n;
  int r = flush(c);
  if (r < 0) close_conn(epfd, c);
  if (r > 0) set_interest(epfd, c, EPOLLOUT);
}

static void on_writable(int epfd, struct conn* c) {
  int r = flush(c);
  if (r < 0) close_conn(epfd, c);
  if (r == 0) set_interest(epfd, c, EPOLLIN);
}

static void on_accept(int epfd, int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn* c = calloc(1, sizeof *c);
    c->fd = fd;
    c->buf = malloc(kBufferSize);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&a, sizeof a) < 0 || listen(fd, 1024) < 0) {
    perror("bind/listen");
    exit(1);
  }
  socklen_t size = sizeof a;
  getsockname(fd, (struct sockaddr*)&a, &size);
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);
  return fd;
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
  }
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  struct sigaction action = {.sa_handler = on_signal};
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  int listener = listen_on(port);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL: the listener */
  epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
  struct epoll_event events[kMaxEvents];
  while (!g_stop) {
    int n = epoll_wait(epfd, events, kMaxEvents, -1);
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c == NULL) {
        on_accept(epfd, listener);
      } else if (events[i].events & EPOLLOUT) {
        on_writable(epfd, c);
      } else {
        on_readable(epfd, c); /* EPOLLIN, or EPOLLERR/EPOLLHUP: recv reports it */
      }
    }
  }
  close(epfd);
  close(listener);
  return 0;
}
