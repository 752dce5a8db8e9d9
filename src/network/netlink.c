/* netlink.c - rtnetlink by hand: links, addresses and routes. */
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

/* Every message we send fits easily; replies to our requests are ACKs. */
#define NL_BUF 4096

struct netlink_sock
{
  int fd;
  uint32_t seq;
};

typedef struct
{
  union
  {
    struct nlmsghdr h;
    char buf[NL_BUF];
  };
  struct rtattr *nest[4];
  int depth;
} nlmsg;

static void
msg_init (nlmsg *m, uint16_t type, uint16_t flags)
{
  memset (m->buf, 0, sizeof m->buf);
  m->h.nlmsg_len = NLMSG_LENGTH (0);
  m->h.nlmsg_type = type;
  m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  m->depth = 0;
}

static void *
msg_put (nlmsg *m, const void *data, size_t len)
{
  size_t at = NLMSG_ALIGN (m->h.nlmsg_len);
  if (at + RTA_ALIGN (len) > sizeof m->buf)
    abort (); /* our own messages only: a bug, not input */
  char *p = m->buf + at;
  if (data)
    memcpy (p, data, len);
  m->h.nlmsg_len = (uint32_t) (at + len);
  return p;
}

static void
attr_put (nlmsg *m, uint16_t type, const void *data, size_t len)
{
  struct rtattr a = { .rta_len = (unsigned short) RTA_LENGTH (len), .rta_type = type };
  msg_put (m, &a, sizeof a);
  msg_put (m, data, len);
}

static void
attr_str (nlmsg *m, uint16_t type, const char *s)
{
  attr_put (m, type, s, strlen (s) + 1);
}

static void
attr_u32 (nlmsg *m, uint16_t type, uint32_t v)
{
  attr_put (m, type, &v, sizeof v);
}

static void
nest_begin (nlmsg *m, uint16_t type)
{
  struct rtattr a = { .rta_len = 0, .rta_type = type };
  m->nest[m->depth++] = msg_put (m, &a, sizeof a);
}

static void
nest_end (nlmsg *m)
{
  struct rtattr *a = m->nest[--m->depth];
  a->rta_len = (unsigned short) (m->buf + m->h.nlmsg_len - (char *) a);
}

/* Send M and read its ACK: 0, or the kernel's errno as an error. */
static int
nl_talk (netlink_sock *nl, nlmsg *m, const char *what, polis_error **err)
{
  m->h.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (sendto (nl->fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
    return error_sys (err, "%s: netlink send", what);
  for (;;)
    {
      char buf[NL_BUF];
      ssize_t n = recv (nl->fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "%s: netlink receive", what);
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) n);
           h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_seq != nl->seq || h->nlmsg_type != NLMSG_ERROR)
            continue;
          struct nlmsgerr *e = NLMSG_DATA (h);
          if (e->error == 0)
            return 0;
          return error_sys_code (err, -e->error, "%s", what);
        }
    }
}

netlink_sock *
netlink_open (polis_error **err)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    {
      error_sys (err, "netlink socket");
      return NULL;
    }
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      error_sys (err, "bind the netlink socket");
      close (fd);
      return NULL;
    }
  int one = 1;
  setsockopt (fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  netlink_sock *nl = xzalloc (sizeof *nl);
  nl->fd = fd;
  return nl;
}

typedef struct
{
  const char *path;
  netlink_sock *nl;
  polis_error *err;
} open_in_args;

/* setns changes the calling thread only: this thread ends right after. */
static void *
open_in_thread (void *arg)
{
  open_in_args *a = arg;
  cleanup_close int fd = open (a->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      error_sys (&a->err, "open `%s`", a->path);
      return NULL;
    }
  if (setns (fd, CLONE_NEWNET) < 0)
    {
      error_sys (&a->err, "join `%s`", a->path);
      return NULL;
    }
  a->nl = netlink_open (&a->err);
  return NULL;
}

netlink_sock *
netlink_open_in (const char *netns_path, polis_error **err)
{
  open_in_args a = { .path = netns_path };
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setstacksize (&at, 64 << 10);
  int r = pthread_create (&t, &at, open_in_thread, &a);
  pthread_attr_destroy (&at);
  if (r != 0)
    {
      error_sys_code (err, r, "start a thread");
      return NULL;
    }
  pthread_join (t, NULL);
  if (a.err)
    *err = a.err;
  return a.nl;
}

void
netlink_close (netlink_sock *nl)
{
  if (nl == NULL)
    return;
  int saved = errno;
  close (nl->fd);
  free (nl);
  errno = saved;
}

int
netlink_link_index (netlink_sock *nl, const char *name, polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_GETLINK, 0);
  m.h.nlmsg_flags &= (uint16_t) ~NLM_F_ACK;
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  msg_put (&m, &ifi, sizeof ifi);
  attr_str (&m, IFLA_IFNAME, name);
  m.h.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (sendto (nl->fd, m.buf, m.h.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
    return error_sys (err, "look up link %s", name);
  for (;;)
    {
      /* The reply carries the link's attributes: a page is plenty. */
      char buf[32768];
      ssize_t n = recv (nl->fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "look up link %s", name);
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) n);
           h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_seq != nl->seq)
            continue;
          if (h->nlmsg_type == NLMSG_ERROR)
            {
              struct nlmsgerr *e = NLMSG_DATA (h);
              if (e->error == -ENODEV || e->error == 0)
                return 0;
              return error_sys_code (err, -e->error, "look up link %s", name);
            }
          if (h->nlmsg_type == RTM_NEWLINK)
            return ((struct ifinfomsg *) NLMSG_DATA (h))->ifi_index;
        }
    }
}

int
netlink_bridge_add (netlink_sock *nl, const char *name, unsigned mtu,
                    polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  msg_put (&m, &ifi, sizeof ifi);
  attr_str (&m, IFLA_IFNAME, name);
  if (mtu)
    attr_u32 (&m, IFLA_MTU, mtu);
  nest_begin (&m, IFLA_LINKINFO);
  attr_str (&m, IFLA_INFO_KIND, "bridge");
  nest_end (&m);
  return nl_talk (nl, &m, "create bridge", err);
}

int
netlink_veth_add (netlink_sock *nl, const char *host_name, const char *peer_name,
                  int peer_ns_fd, unsigned mtu, polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  msg_put (&m, &ifi, sizeof ifi);
  attr_str (&m, IFLA_IFNAME, host_name);
  if (mtu)
    attr_u32 (&m, IFLA_MTU, mtu);
  nest_begin (&m, IFLA_LINKINFO);
  attr_str (&m, IFLA_INFO_KIND, "veth");
  nest_begin (&m, IFLA_INFO_DATA);
  nest_begin (&m, VETH_INFO_PEER);
  msg_put (&m, &ifi, sizeof ifi);
  attr_str (&m, IFLA_IFNAME, peer_name);
  if (mtu)
    attr_u32 (&m, IFLA_MTU, mtu);
  attr_u32 (&m, IFLA_NET_NS_FD, (uint32_t) peer_ns_fd);
  nest_end (&m);
  nest_end (&m);
  nest_end (&m);
  return nl_talk (nl, &m, "create veth pair", err);
}

int
netlink_link_set (netlink_sock *nl, int ifindex, int master, const uint8_t *mac,
                  polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_NEWLINK, 0);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
                           .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  msg_put (&m, &ifi, sizeof ifi);
  if (master > 0)
    attr_u32 (&m, IFLA_MASTER, (uint32_t) master);
  if (mac)
    attr_put (&m, IFLA_ADDRESS, mac, 6);
  return nl_talk (nl, &m, "set link up", err);
}

int
netlink_link_del (netlink_sock *nl, const char *name, polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_DELLINK, 0);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  msg_put (&m, &ifi, sizeof ifi);
  attr_str (&m, IFLA_IFNAME, name);
  polis_error *e = NULL;
  if (nl_talk (nl, &m, "delete link", &e) < 0)
    {
      if (e->code == ENODEV)
        {
          error_free (&e);
          return 0;
        }
      *err = e;
      return error_wrap (err, "%s", name);
    }
  return 0;
}

int
netlink_addr_add (netlink_sock *nl, int ifindex, struct in_addr addr,
                  unsigned prefix, polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char) prefix,
                           .ifa_index = (unsigned) ifindex };
  msg_put (&m, &ifa, sizeof ifa);
  attr_put (&m, IFA_LOCAL, &addr, sizeof addr);
  attr_put (&m, IFA_ADDRESS, &addr, sizeof addr);
  if (prefix < 31)
    {
      struct in_addr b = { htonl (ntohl (addr.s_addr) | (0xffffffffu >> prefix)) };
      attr_put (&m, IFA_BROADCAST, &b, sizeof b);
    }
  polis_error *e = NULL;
  if (nl_talk (nl, &m, "add address", &e) < 0)
    {
      if (e->code == EEXIST)
        {
          error_free (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  return 0;
}

int
netlink_route_default (netlink_sock *nl, int ifindex, struct in_addr gw,
                       polis_error **err)
{
  nlmsg m;
  msg_init (&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
                      .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
                      .rtm_type = RTN_UNICAST };
  msg_put (&m, &rt, sizeof rt);
  attr_put (&m, RTA_GATEWAY, &gw, sizeof gw);
  attr_u32 (&m, RTA_OIF, (uint32_t) ifindex);
  return nl_talk (nl, &m, "add the default route", err);
}
