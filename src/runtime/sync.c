/* sync.c - the messages between the runtime and the container's init. */
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

int
sync_pair (int fds[2], polis_error **err)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return error_sys (err, "socketpair");
  return 0;
}

int
sync_send (int fd, sync_type type, int32_t value, const void *payload,
           size_t len, polis_error **err)
{
  if (len > SYNC_MAX_PAYLOAD)
    len = SYNC_MAX_PAYLOAD;
  sync_header hdr = { .type = type, .value = value, .len = (uint32_t) len };
  struct iovec iov[2] = { { &hdr, sizeof hdr }, { (void *) payload, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
  ssize_t r;
  do
    r = sendmsg (fd, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return error_sys (err, "send to the container process");
  return 0;
}

void
sync_send_error (int fd, const polis_error *failure)
{
  cleanup_free char *enc = error_encode (failure);
  sync_send (fd, SYNC_ERROR, 0, enc, strlen (enc), NULL);
}

int
sync_recv (int fd, sync_header *hdr, char **payload, polis_error **err)
{
  cleanup_free char *buf = xmalloc (sizeof *hdr + SYNC_MAX_PAYLOAD + 1);
  ssize_t r;
  *payload = NULL;
  do
    r = recv (fd, buf, sizeof *hdr + SYNC_MAX_PAYLOAD, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return error_sys (err, "receive from the container process");
  if (r == 0)
    return error_set (err, ERROR_INTERNAL, EPIPE,
                      "container init exited before it was ready");
  if ((size_t) r < sizeof *hdr)
    return error_set (err, ERROR_INTERNAL, EPROTO, "short sync message");
  memcpy (hdr, buf, sizeof *hdr);
  size_t plen = (size_t) r - sizeof *hdr;
  if (plen != hdr->len)
    return error_set (err, ERROR_INTERNAL, EPROTO, "truncated sync message");
  if (hdr->type == SYNC_ERROR)
    {
      buf[r] = '\0';
      return error_decode (buf + sizeof *hdr, err);
    }
  if (plen)
    {
      char *p = xmalloc (plen + 1);
      memcpy (p, buf + sizeof *hdr, plen);
      p[plen] = '\0';
      *payload = p;
    }
  return 0;
}

int
sync_expect (int fd, sync_type type, int32_t *value, polis_error **err)
{
  sync_header hdr;
  cleanup_free char *payload = NULL;
  if (sync_recv (fd, &hdr, &payload, err) < 0)
    return -1;
  if (hdr.type != (uint32_t) type)
    return error_set (err, ERROR_INTERNAL, EPROTO,
                      "unexpected sync message %u (wanted %d)", hdr.type,
                      (int) type);
  if (value)
    *value = hdr.value;
  return 0;
}
