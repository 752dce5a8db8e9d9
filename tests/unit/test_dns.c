/* Unit tests for network/dns.c: answers, forwarding, malformed queries. */
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "network/dns.h"

static int
lookup (void *ud, uint32_t client, const char *name, uint32_t *out)
{
  (void) ud;
  (void) client;
  if (strcmp (name, "web") == 0)
    {
      out[0] = 0x0a000002;
      out[1] = 0x0a000003;
      return 2;
    }
  if (strcmp (name, "empty") == 0)
    return 0;
  return -1;
}

/* A query for NAME (type A), id 0x1234. */
static size_t
query (const char *name, uint8_t *q)
{
  memcpy (q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  size_t o = 12;
  const char *p = name;
  while (*p)
    {
      const char *dot = strchr (p, '.');
      size_t l = dot ? (size_t) (dot - p) : strlen (p);
      q[o++] = (uint8_t) l;
      memcpy (q + o, p, l);
      o += l;
      p += l + (dot ? 1 : 0);
    }
  q[o++] = 0;
  memcpy (q + o, "\x00\x01\x00\x01", 4);
  return o + 4;
}

static int
udp (void)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  return fd;
}

static ssize_t
ask (int fd, unsigned port, const uint8_t *q, size_t len, uint8_t *r)
{
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  assert_true (sendto (fd, q, len, 0, (struct sockaddr *) &to, sizeof to) == (ssize_t) len);
  struct pollfd pf = { fd, POLLIN, 0 };
  if (poll (&pf, 1, 2000) != 1)
    return -1;
  return recv (fd, r, 1500, 0);
}

static void
test_answers_and_forwards (void **state)
{
  (void) state;
  int up = udp ();
  struct sockaddr_in ua;
  socklen_t ul = sizeof ua;
  getsockname (up, (struct sockaddr *) &ua, &ul);
  polis_error *err = NULL;
  dns_server *s = dns_server_start (0x7f000001, ntohs (ua.sin_port), lookup, NULL, &err);
  assert_non_null (s);
  unsigned port = dns_server_port (s);
  int c = udp ();
  uint8_t q[512], r[1500];

  size_t n = query ("WEB", q);
  ssize_t got = ask (c, port, q, n, r);
  assert_true (got == (ssize_t) (n + 2 * 16));
  assert_int_equal (r[0], 0x12);
  assert_int_equal (r[3] & 0x0f, 0); /* NOERROR */
  assert_int_equal (r[7], 2);
  assert_memory_equal (r + n + 12, "\x0a\x00\x00\x02", 4);

  n = query ("empty", q);
  got = ask (c, port, q, n, r);
  assert_true (got == (ssize_t) n && r[7] == 0);

  /* not ours: to the upstream with another id, the reply relayed */
  n = query ("example.test", q);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  sendto (c, q, n, 0, (struct sockaddr *) &to, sizeof to);
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  uint8_t fwd[1500];
  struct pollfd pf = { up, POLLIN, 0 };
  assert_int_equal (poll (&pf, 1, 2000), 1);
  ssize_t fn = recvfrom (up, fwd, sizeof fwd, 0, (struct sockaddr *) &from, &fl);
  assert_true (fn == (ssize_t) n);
  assert_memory_equal (fwd + 2, q + 2, n - 2);
  fwd[2] |= 0x80;
  sendto (up, fwd, (size_t) fn, 0, (struct sockaddr *) &from, fl);
  pf.fd = c;
  assert_int_equal (poll (&pf, 1, 2000), 1);
  got = recv (c, r, sizeof r, 0);
  assert_true (got == fn && r[0] == 0x12 && r[1] == 0x34);

  /* malformed: dropped, and the server still answers after */
  uint8_t bad[20] = { 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a' };
  sendto (c, bad, sizeof bad, 0, (struct sockaddr *) &to, sizeof to);
  n = query ("web", q);
  got = ask (c, port, q, n, r);
  assert_true (got > 0 && r[0] == 0x12);

  dns_server_stop (s);
  close (c);
  close (up);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_answers_and_forwards),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
