/* Unit tests for cli/http_client.c against a canned server on a unix
   socket: bodies by length, chunked and until close, a 101 with stream
   bytes right behind the head, stdcopy demultiplexing, and the caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "cli/http_client.h"
#include "cli/stream.h"

/* Serve one connection on a fresh socket with RESPONSE; returns the
   socket path (heap) and the server's pid in *PID.  The server reads
   the request head first. */
static char *
serve (const char *response, size_t len, pid_t *pid)
{
  char *dir = xstrdup ("/tmp/polis-http-test.XXXXXX");
  assert_non_null (mkdtemp (dir));
  char *path = xasprintf ("%s/s", dir);
  free (dir);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  memcpy (a.sun_path, path, strlen (path) + 1);
  int l = socket (AF_UNIX, SOCK_STREAM, 0);
  assert_true (l >= 0);
  assert_int_equal (bind (l, (struct sockaddr *) &a, sizeof a), 0);
  assert_int_equal (listen (l, 1), 0);
  *pid = fork ();
  if (*pid == 0)
    {
      int c = accept (l, NULL, NULL);
      char buf[4096];
      size_t got = 0;
      while (got < sizeof buf - 1)
        {
          ssize_t n = read (c, buf + got, sizeof buf - 1 - got);
          if (n <= 0)
            break;
          got += (size_t) n;
          buf[got] = '\0';
          if (strstr (buf, "\r\n\r\n"))
            break;
        }
      polis_error *err = NULL;
      file_write_all (c, response, len, &err);
      close (c);
      _exit (0);
    }
  close (l);
  return path;
}

static void
finish (char *path, pid_t pid)
{
  int st;
  waitpid (pid, &st, 0);
  unlink (path);
  char *slash = strrchr (path, '/');
  *slash = '\0';
  rmdir (path);
  free (path);
}

static char *
fetch (const char *response, int *status, polis_error **err)
{
  pid_t pid;
  char *path = serve (response, strlen (response), &pid);
  http_conn *c = http_conn_open_unix (path, err);
  assert_non_null (c);
  assert_int_equal (http_conn_send_request (c, "GET", "/x", NULL, NULL, 0, false, err), 0);
  *status = http_conn_read_head (c, err);
  char *body = *status > 0 ? http_conn_read_all (c, 1024, NULL, err) : NULL;
  http_conn_free (c);
  finish (path, pid);
  return body;
}

static void
test_bodies (void **state)
{
  (void) state;
  cleanup_error polis_error *err = NULL;
  int status = 0;
  cleanup_free char *a = fetch ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &status, &err);
  assert_int_equal (status, 200);
  assert_string_equal (a, "hello");
  cleanup_free char *b = fetch ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n",
                                &status, &err);
  assert_string_equal (b, "abcdefg");
  cleanup_free char *c = fetch ("HTTP/1.0 404 Not Found\nContent-Type: application/json\n\n{\"message\":\"x\"}",
                                &status, &err);
  assert_int_equal (status, 404);
  assert_string_equal (c, "{\"message\":\"x\"}");
  cleanup_free char *d = fetch ("HTTP/1.1 204 No Content\r\n\r\n", &status, &err);
  assert_string_equal (d, "");
  cleanup_free char *e = fetch ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", &status, &err);
  assert_null (e);
  assert_non_null (err);
  error_free (&err);
  /* Larger than the cap of 1024 given to read_all. */
  char big[3000];
  int n = snprintf (big, sizeof big, "HTTP/1.1 200 OK\r\n\r\n");
  memset (big + n, 'x', sizeof big - (size_t) n - 1);
  big[sizeof big - 1] = '\0';
  cleanup_free char *f = fetch (big, &status, &err);
  assert_null (f);
  error_free (&err);
  cleanup_free char *g = fetch ("garbage\r\n\r\n", &status, &err);
  assert_true (status < 0);
}

static void
test_upgrade_keeps_stream_bytes (void **state)
{
  (void) state;
  static const char resp[] = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                             "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly bytes";
  pid_t pid;
  cleanup_error polis_error *err = NULL;
  char *path = serve (resp, sizeof resp - 1, &pid);
  http_conn *c = http_conn_open_unix (path, &err);
  assert_int_equal (http_conn_send_request (c, "POST", "/attach", NULL, NULL, 0, false, &err), 0);
  assert_int_equal (http_conn_read_head (c, &err), 101);
  assert_string_equal (http_conn_header (c, "upgrade"), "tcp");
  char buf[64] = "";
  size_t k = http_conn_take_buffered (c, buf, sizeof buf);
  ssize_t more = read (http_conn_fd (c), buf + k, sizeof buf - k - 1);
  buf[k + (size_t) (more > 0 ? more : 0)] = '\0';
  assert_string_equal (buf, "early bytes");
  http_conn_free (c);
  finish (path, pid);
}

static void
test_demux (void **state)
{
  (void) state;
  stream_demux d = { 0 };
  cleanup_error polis_error *err = NULL;
  /* An empty stdout frame, fed one byte at a time, is fine. */
  const char empty[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
  for (int i = 0; i < 8; i++)
    assert_int_equal (stream_demux_feed (&d, empty + i, 1, &err), 0);
  const char sys[] = { 3, 0, 0, 0, 0, 0, 0, 4, 'b', 'o', 'o', 'm' };
  assert_int_equal (stream_demux_feed (&d, sys, sizeof sys, &err), -1);
  assert_string_equal (err->msg, "error from daemon in stream: boom");
  error_free (&err);
  stream_demux d2 = { 0 };
  const char bad[8] = { 9, 0, 0, 0, 0, 0, 0, 1 };
  assert_int_equal (stream_demux_feed (&d2, bad, 8, &err), -1);
  error_free (&err);
  stream_demux d3 = { 0 };
  const char huge[8] = { 1, 0, 0, 0, 0x7f, 0, 0, 0 };
  assert_int_equal (stream_demux_feed (&d3, huge, 8, &err), -1);
}

static void
test_detach_keys (void **state)
{
  (void) state;
  unsigned char seq[16];
  size_t n = 0;
  cleanup_error polis_error *err = NULL;
  assert_int_equal (stream_parse_detach_keys ("ctrl-p,ctrl-q", seq, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_int_equal (seq[0], 0x10);
  assert_int_equal (seq[1], 0x11);
  assert_int_equal (stream_parse_detach_keys ("ctrl-a,x,ctrl-@,ctrl-[", seq, &n, &err), 0);
  assert_int_equal (n, 4);
  assert_int_equal (seq[0], 1);
  assert_int_equal (seq[1], 'x');
  assert_int_equal (seq[2], 0);
  assert_int_equal (seq[3], 27);
  assert_int_equal (stream_parse_detach_keys ("ctrl-1", seq, &n, &err), -1);
  assert_string_equal (err->msg, "Unknown character: 'ctrl-1'");
}

static void
test_query_escape (void **state)
{
  (void) state;
  cleanup_free char *a = http_query_escape ("{\"a\":{\"b c\":true}}/~");
  assert_string_equal (a, "%7B%22a%22%3A%7B%22b+c%22%3Atrue%7D%7D%2F~");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bodies),
    cmocka_unit_test (test_upgrade_keeps_stream_bytes),
    cmocka_unit_test (test_demux),
    cmocka_unit_test (test_detach_keys),
    cmocka_unit_test (test_query_escape),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
