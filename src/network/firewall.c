/* firewall.c - Polis' nftables table: NAT, published ports, isolation. */
#include "firewall.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "ipv4.h"

/* What polis-nft may say on failure that we keep for the message. */
#define FIREWALL_STDERR_MAX 2048

extern char **environ;

struct firewall
{
  char *helper;
  char *table;
};

typedef struct
{
  char *s;
  size_t len, cap;
} sbuf;

static void __attribute__ ((format (printf, 2, 3)))
sb_add (sbuf *b, const char *fmt, ...)
{
  va_list ap;
  for (;;)
    {
      va_start (ap, fmt);
      int n = vsnprintf (b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
      va_end (ap);
      if (b->s && (size_t) n < b->cap - b->len)
        {
          b->len += (size_t) n;
          return;
        }
      b->cap = (b->len + (size_t) n + 1) * 2;
      b->s = xrealloc (b->s, b->cap);
    }
}

firewall *
firewall_new (const char *helper, const char *table)
{
  firewall *fw = xzalloc (sizeof *fw);
  fw->helper = xstrdup (helper);
  fw->table = xstrdup (table);
  return fw;
}

void
firewall_free (firewall *fw)
{
  if (fw == NULL)
    return;
  free (fw->helper);
  free (fw->table);
  free (fw);
}

const char *
firewall_table (const firewall *fw)
{
  return fw->table;
}

/* Run SCRIPT through polis-nft: one transaction. */
static int
run_script (firewall *fw, const char *script, polis_error **err)
{
  int in[2], errp[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return error_sys (err, "pipe");
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return error_sys (err, "pipe");
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, errp[1], 2);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  char *argv[] = { fw->helper, NULL };
  pid_t pid;
  int r = posix_spawn (&pid, fw->helper, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  close (errp[1]);
  if (r != 0)
    {
      close (in[1]);
      close (errp[0]);
      return error_sys_code (err, r, "run `%s`", fw->helper);
    }
  size_t len = strlen (script), off = 0;
  while (off < len)
    {
      ssize_t n = write (in[1], script + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      off += (size_t) n;
    }
  close (in[1]);
  char msg[FIREWALL_STDERR_MAX];
  size_t got = 0;
  for (;;)
    {
      ssize_t n = read (errp[0], msg + got, sizeof msg - 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
      if (got == sizeof msg - 1)
        {
          char sink[512];
          while (read (errp[0], sink, sizeof sink) > 0)
            ;
          break;
        }
    }
  close (errp[0]);
  msg[got] = '\0';
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  /* nft's first line is the one that says what went wrong. */
  char *nl = strchr (msg, '\n');
  if (nl)
    *nl = '\0';
  return error_set (err, ERROR_INTERNAL, EIO, "nftables: %s",
                    got ? msg : "polis-nft failed");
}

int
firewall_init (firewall *fw, unsigned dns_port, polis_error **err)
{
  const char *t = fw->table;
  sbuf b = { 0 };
  sb_add (&b, "add table ip %s\n", t);
  sb_add (&b, "add set ip %s bridges { type ifname; }\n", t);
  sb_add (&b, "add set ip %s dns_bridges { type ifname; }\n", t);
  for (int u = 0; u < 2; u++)
    {
      const char *p = u ? "udp" : "tcp";
      sb_add (&b, "add map ip %s pub_%s { type inet_service : ipv4_addr . inet_service; }\n", t, p);
      sb_add (&b, "add map ip %s pubip_%s { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n", t, p);
    }
  sb_add (&b, "add map ip %s fwd_in { type ifname : verdict; }\n", t);
  sb_add (&b, "add map ip %s post_in { type ifname : verdict; }\n", t);
  sb_add (&b, "add chain ip %s publish\n", t);
  sb_add (&b, "add chain ip %s prerouting { type nat hook prerouting priority -100; }\n", t);
  sb_add (&b, "add chain ip %s output { type nat hook output priority -100; }\n", t);
  sb_add (&b, "add chain ip %s postrouting { type nat hook postrouting priority 100; }\n", t);
  sb_add (&b, "add chain ip %s forward { type filter hook forward priority 0; }\n", t);
  const char *base[] = { "publish", "prerouting", "output", "postrouting", "forward" };
  for (size_t i = 0; i < 5; i++)
    sb_add (&b, "flush chain ip %s %s\n", t, base[i]);
  for (int u = 0; u < 2; u++)
    {
      const char *p = u ? "udp" : "tcp";
      sb_add (&b, "add rule ip %s publish dnat ip to ip daddr . %s dport map @pubip_%s\n", t, p, p);
      sb_add (&b, "add rule ip %s publish dnat ip to %s dport map @pub_%s\n", t, p, p);
    }
  if (dns_port)
    sb_add (&b, "add rule ip %s prerouting iifname @dns_bridges udp dport 53 fib daddr type local redirect to :%u\n",
            t, dns_port);
  sb_add (&b, "add rule ip %s prerouting fib daddr type local jump publish\n", t);
  sb_add (&b, "add rule ip %s output fib daddr type local jump publish\n", t);
  sb_add (&b, "add rule ip %s postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade\n", t);
  sb_add (&b, "add rule ip %s postrouting iifname vmap @post_in\n", t);
  sb_add (&b, "add rule ip %s forward iifname vmap @fwd_in\n", t);
  int r = run_script (fw, b.s, err);
  free (b.s);
  return r;
}

int
firewall_destroy (firewall *fw, polis_error **err)
{
  cleanup_free char *s = xasprintf ("add table ip %s\ndelete table ip %s\n",
                                    fw->table, fw->table);
  return run_script (fw, s, err);
}

/* Remove NAME's elements and chains: each added first, so that a delete
   of something absent cannot fail the transaction. */
static void
network_del_script (sbuf *b, const char *t, const char *br)
{
  sb_add (b, "add chain ip %s fwd-%s\nadd chain ip %s post-%s\n", t, br, t, br);
  sb_add (b, "add element ip %s fwd_in { \"%s\" : jump fwd-%s }\n", t, br, br);
  sb_add (b, "delete element ip %s fwd_in { \"%s\" : jump fwd-%s }\n", t, br, br);
  sb_add (b, "add element ip %s post_in { \"%s\" : jump post-%s }\n", t, br, br);
  sb_add (b, "delete element ip %s post_in { \"%s\" : jump post-%s }\n", t, br, br);
  sb_add (b, "add element ip %s bridges { \"%s\" }\ndelete element ip %s bridges { \"%s\" }\n",
          t, br, t, br);
  sb_add (b, "add element ip %s dns_bridges { \"%s\" }\ndelete element ip %s dns_bridges { \"%s\" }\n",
          t, br, t, br);
  sb_add (b, "flush chain ip %s fwd-%s\ndelete chain ip %s fwd-%s\n", t, br, t, br);
  sb_add (b, "flush chain ip %s post-%s\ndelete chain ip %s post-%s\n", t, br, t, br);
}

int
firewall_network_add (firewall *fw, const char *bridge, const char *subnet,
                      bool internal, bool dns, polis_error **err)
{
  const char *t = fw->table;
  sbuf b = { 0 };
  sb_add (&b, "add chain ip %s fwd-%s\nadd chain ip %s post-%s\n", t, bridge, t, bridge);
  sb_add (&b, "flush chain ip %s fwd-%s\nflush chain ip %s post-%s\n", t, bridge, t, bridge);
  sb_add (&b, "add rule ip %s fwd-%s oifname \"%s\" accept\n", t, bridge, bridge);
  sb_add (&b, "add rule ip %s fwd-%s oifname @bridges drop\n", t, bridge);
  /* A container reaching a published port of a neighbour through the
     host (gateway:PORT): DNAT'ed back into the same bridge, the reply
     would go straight to it from the neighbour's address; masquerading
     makes it come back through the host. */
  sb_add (&b, "add rule ip %s post-%s oifname \"%s\" ct status dnat masquerade\n", t,
          bridge, bridge);
  if (internal)
    sb_add (&b, "add rule ip %s fwd-%s drop\n", t, bridge);
  else
    sb_add (&b, "add rule ip %s post-%s ip saddr %s oifname != \"%s\" masquerade\n", t,
            bridge, subnet, bridge);
  sb_add (&b, "add element ip %s bridges { \"%s\" }\n", t, bridge);
  if (dns)
    sb_add (&b, "add element ip %s dns_bridges { \"%s\" }\n", t, bridge);
  sb_add (&b, "add element ip %s fwd_in { \"%s\" : jump fwd-%s }\n", t, bridge, bridge);
  sb_add (&b, "add element ip %s post_in { \"%s\" : jump post-%s }\n", t, bridge, bridge);
  int r = run_script (fw, b.s, err);
  free (b.s);
  return r;
}

int
firewall_network_del (firewall *fw, const char *bridge, polis_error **err)
{
  sbuf b = { 0 };
  network_del_script (&b, fw->table, bridge);
  int r = run_script (fw, b.s, err);
  free (b.s);
  return r;
}

int
firewall_ports (firewall *fw, bool add, const firewall_port *p, size_t n,
                polis_error **err)
{
  if (n == 0)
    return 0;
  sbuf b = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      char hip[IPV4_STR], cip[IPV4_STR];
      const char *proto = p[i].udp ? "udp" : "tcp";
      cleanup_free char *el
          = p[i].host_ip
                ? xasprintf ("pubip_%s { %s . %u : %s . %u }", proto,
                             ipv4_format (p[i].host_ip, hip), p[i].host_port,
                             ipv4_format (p[i].ip, cip), p[i].port)
                : xasprintf ("pub_%s { %u : %s . %u }", proto, p[i].host_port,
                             ipv4_format (p[i].ip, cip), p[i].port);
      if (!add)
        sb_add (&b, "add element ip %s %s\n", fw->table, el);
      sb_add (&b, "%s element ip %s %s\n", add ? "add" : "delete", fw->table, el);
    }
  int r = run_script (fw, b.s, err);
  free (b.s);
  return r;
}
