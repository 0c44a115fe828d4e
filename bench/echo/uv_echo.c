/* echo_server_libuv: the echo benchmark's libuv peer, written the way
 * libuv's own echo examples are: each read gets a freshly allocated buffer of
 * the suggested size (64 KiB), which is written back and freed once written.
 *
 *   echo_server_libuv [--port N]
 *
 * Prints "port N" once listening (port 0 picks a free one); runs until
 * SIGTERM or SIGINT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct {
  uv_write_t req;
  uv_buf_t buf;
} write_req_t;

static uv_loop_t* g_loop;

static void on_close(uv_handle_t* handle) { free(handle); }

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void on_written(uv_write_t* req, int status) {
  write_req_t* w = (write_req_t*)req;
  uv_handle_t* client = (uv_handle_t*)req->handle;
  free(w->buf.base);
  free(w);
  if (status < 0 && !uv_is_closing(client)) uv_close(client, on_close);
}

static void on_read(uv_stream_t* client, ssize_t n, const uv_buf_t* buf) {
  if (n > 0) {
    write_req_t* w = malloc(sizeof *w);
    w->buf = uv_buf_init(buf->base, (unsigned)n);
    uv_write(&w->req, client, &w->buf, 1, on_written);
    return;
  }
  free(buf->base);
  if (n < 0 && !uv_is_closing((uv_handle_t*)client)) uv_close((uv_handle_t*)client, on_close);
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  uv_tcp_init(g_loop, client);
  if (uv_accept(server, (uv_stream_t*)client) == 0) {
    uv_tcp_nodelay(client, 1);
    uv_read_start((uv_stream_t*)client, on_alloc, on_read);
  } else {
    uv_close((uv_handle_t*)client, on_close);
  }
}

static void on_signal(uv_signal_t* handle, int signum) {
  (void)signum;
  uv_stop(handle->loop);
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
  g_loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(g_loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  if (uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0) != 0 ||
      uv_listen((uv_stream_t*)&server, 1024, on_connection) != 0) {
    fprintf(stderr, "bind/listen failed\n");
    return 1;
  }
  struct sockaddr_in bound;
  int size = sizeof bound;
  uv_tcp_getsockname(&server, (struct sockaddr*)&bound, &size);
  printf("port %d\n", ntohs(bound.sin_port));
  fflush(stdout);
  uv_signal_t sigterm, sigint;
  uv_signal_init(g_loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_signal_init(g_loop, &sigint);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_run(g_loop, UV_RUN_DEFAULT);
  return 0;
}
