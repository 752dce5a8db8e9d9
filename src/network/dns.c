/* dns.c - the resolver of user-defined networks, inside polisd. */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "ipv4.h"

/* Queries in flight upstream; the oldest is overwritten when full. */
#define DNS_PENDING 256
/* A forwarded query not answered within this many seconds is forgotten. */
#define DNS_FORWARD_TIMEOUT 5
#define DNS_NAME_MAX 255
#define DNS_TTL 600

typedef struct
{
  bool used;
  uint16_t client_id;
  struct sockaddr_in client;
  time_t sent;
} pending;

struct dns_server
{
  int sock, up, stop;
  struct sockaddr_in upstream;
  bool forward;
  unsigned port;
  dns_lookup_fn fn;
  void *ud;
  pthread_t thread;
  pending pend[DNS_PENDING];
  uint16_t next_id;
};

/* The question's name (lowercase, dotted) and where the question ends.
   False when malformed or compressed (a query has no reason to be). */
static bool
parse_question (const uint8_t *m, size_t len, char *name, size_t *end,
                uint16_t *qtype)
{
  size_t i = 12, o = 0;
  for (;;)
    {
      if (i >= len)
        return false;
      unsigned l = m[i++];
      if (l == 0)
        break;
      if (l > 63 || i + l > len || o + l + 1 > DNS_NAME_MAX)
        return false;
      if (o)
        name[o++] = '.';
      for (unsigned k = 0; k < l; k++)
        {
          uint8_t c = m[i + k];
          name[o++] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
      i += l;
    }
  name[o] = '\0';
  if (i + 4 > len)
    return false;
  *qtype = (uint16_t) (m[i] << 8 | m[i + 1]);
  *end = i + 4;
  return true;
}

static void
answer (dns_server *s, const uint8_t *q, size_t qend, const uint32_t *addrs,
        int n, bool a_query, const struct sockaddr_in *to)
{
  uint8_t r[DNS_MSG_MAX + DNS_ANSWERS_MAX * 16];
  memcpy (r, q, qend);
  r[2] = (uint8_t) (0x80 | 0x04 | (q[2] & 0x01)); /* QR, AA, RD as asked */
  r[3] = 0x80;                                   /* RA, NOERROR */
  if (!a_query)
    n = 0;
  r[4] = 0, r[5] = 1;
  r[6] = 0, r[7] = (uint8_t) n;
  memset (r + 8, 0, 4);
  size_t o = qend;
  for (int k = 0; k < n; k++)
    {
      const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, DNS_TTL >> 8, DNS_TTL & 255, 0, 4 };
      memcpy (r + o, rr, sizeof rr);
      o += sizeof rr;
      uint32_t be = htonl (addrs[k]);
      memcpy (r + o, &be, 4);
      o += 4;
    }
  sendto (s->sock, r, o, MSG_DONTWAIT, (const struct sockaddr *) to, sizeof *to);
}

static void
fail (dns_server *s, const uint8_t *q, size_t qend, const struct sockaddr_in *to)
{
  uint8_t r[DNS_MSG_MAX];
  memcpy (r, q, qend);
  r[2] = (uint8_t) (0x80 | (q[2] & 0x01));
  r[3] = 0x80 | 2; /* SERVFAIL */
  memset (r + 6, 0, 6);
  sendto (s->sock, r, qend, MSG_DONTWAIT, (const struct sockaddr *) to, sizeof *to);
}

static void
on_query (dns_server *s)
{
  uint8_t m[DNS_MSG_MAX];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom (s->sock, m, sizeof m, MSG_DONTWAIT, (struct sockaddr *) &from, &fl);
  if (n < 12 || (m[2] & 0x80) || m[4] != 0 || m[5] != 1)
    return;
  char name[DNS_NAME_MAX + 1];
  size_t qend;
  uint16_t qtype;
  if (!parse_question (m, (size_t) n, name, &qend, &qtype))
    return;
  uint32_t addrs[DNS_ANSWERS_MAX];
  int k = s->fn (s->ud, ntohl (from.sin_addr.s_addr), name, addrs);
  if (k >= 0)
    {
      answer (s, m, qend, addrs, k, qtype == 1, &from);
      return;
    }
  if (!s->forward)
    {
      fail (s, m, qend, &from);
      return;
    }
  uint16_t id = s->next_id++;
  pending *p = &s->pend[id % DNS_PENDING];
  p->used = true;
  p->client_id = (uint16_t) (m[0] << 8 | m[1]);
  p->client = from;
  p->sent = time (NULL);
  m[0] = (uint8_t) (id >> 8);
  m[1] = (uint8_t) id;
  sendto (s->up, m, (size_t) n, MSG_DONTWAIT, (struct sockaddr *) &s->upstream,
          sizeof s->upstream);
}

static void
on_reply (dns_server *s)
{
  uint8_t m[DNS_MSG_MAX];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom (s->up, m, sizeof m, MSG_DONTWAIT, (struct sockaddr *) &from, &fl);
  if (n < 12 || from.sin_addr.s_addr != s->upstream.sin_addr.s_addr
      || from.sin_port != s->upstream.sin_port)
    return;
  uint16_t id = (uint16_t) (m[0] << 8 | m[1]);
  pending *p = &s->pend[id % DNS_PENDING];
  if (!p->used || time (NULL) - p->sent > DNS_FORWARD_TIMEOUT)
    return;
  p->used = false;
  m[0] = (uint8_t) (p->client_id >> 8);
  m[1] = (uint8_t) p->client_id;
  sendto (s->sock, m, (size_t) n, MSG_DONTWAIT, (struct sockaddr *) &p->client,
          sizeof p->client);
}

static void *
dns_main (void *arg)
{
  dns_server *s = arg;
  struct pollfd pf[3] = { { s->sock, POLLIN, 0 }, { s->up, POLLIN, 0 }, { s->stop, POLLIN, 0 } };
  for (;;)
    {
      if (poll (pf, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pf[2].revents)
        break;
      if (pf[0].revents & POLLIN)
        on_query (s);
      if (pf[1].revents & POLLIN)
        on_reply (s);
    }
  return NULL;
}

static int
udp_socket (uint32_t addr, polis_error **err)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return error_sys (err, "socket");
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (addr) };
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      error_sys (err, "bind the resolver's socket");
      close (fd);
      return -1;
    }
  return fd;
}

dns_server *
dns_server_start (uint32_t upstream_ip, unsigned upstream_port, dns_lookup_fn fn,
                  void *ud, polis_error **err)
{
  cleanup_close int sock = udp_socket (INADDR_ANY, err);
  if (sock < 0)
    return NULL;
  cleanup_close int up = udp_socket (INADDR_ANY, err);
  if (up < 0)
    return NULL;
  cleanup_close int stop = eventfd (0, EFD_CLOEXEC);
  if (stop < 0)
    {
      error_sys (err, "eventfd");
      return NULL;
    }
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  if (getsockname (sock, (struct sockaddr *) &sa, &sl) < 0)
    {
      error_sys (err, "getsockname");
      return NULL;
    }
  dns_server *s = xzalloc (sizeof *s);
  s->port = ntohs (sa.sin_port);
  s->fn = fn;
  s->ud = ud;
  s->forward = upstream_ip != 0;
  s->upstream = (struct sockaddr_in) { .sin_family = AF_INET,
                                       .sin_port = htons ((uint16_t) (upstream_port ? upstream_port : 53)),
                                       .sin_addr.s_addr = htonl (upstream_ip) };
  s->sock = sock;
  s->up = up;
  s->stop = stop;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setstacksize (&at, 64 << 10);
  int r = pthread_create (&s->thread, &at, dns_main, s);
  pthread_attr_destroy (&at);
  if (r != 0)
    {
      free (s);
      error_sys_code (err, r, "start the resolver");
      return NULL;
    }
  sock = up = stop = -1;
  return s;
}

unsigned
dns_server_port (const dns_server *s)
{
  return s->port;
}

void
dns_server_stop (dns_server *s)
{
  if (s == NULL)
    return;
  uint64_t one = 1;
  if (write (s->stop, &one, sizeof one) < 0)
    abort ();
  pthread_join (s->thread, NULL);
  close (s->sock);
  close (s->up);
  close (s->stop);
  free (s);
}

uint32_t
dns_upstream_from_resolv_conf (const char *path)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char line[512];
  while (f && fgets (line, sizeof line, f))
    {
      char ip[64];
      uint32_t a;
      if (sscanf (line, " nameserver %63s", ip) == 1 && ipv4_parse_addr (ip, &a))
        return a;
    }
  return 0;
}
