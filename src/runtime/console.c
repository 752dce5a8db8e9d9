/* console.c - the container's terminal. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/path.h"

int
console_setup (unsigned height, unsigned width, bool mount_console,
               char name[CONSOLE_NAME_MAX], polis_error **err)
{
  cleanup_close int master = -1, slave = -1, rootfd = -1, consfd = -1;
  unsigned int ptn = 0;
  int unlock = 0;

  master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return error_sys (err, "open /dev/pts/ptmx");
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return error_sys (err, "unlock pty");
  if (ioctl (master, TIOCGPTN, &ptn) < 0)
    return error_sys (err, "get pty number");
  snprintf (name, CONSOLE_NAME_MAX, "/dev/pts/%u", ptn);
  slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return error_sys (err, "open %s", name);

  if (height && width)
    {
      struct winsize ws = { .ws_row = (unsigned short) height,
                            .ws_col = (unsigned short) width };
      if (ioctl (slave, TIOCSWINSZ, &ws) < 0)
        return error_sys (err, "set console size");
    }
  if (setsid () < 0 && errno != EPERM)
    return error_sys (err, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return error_sys (err, "make %s the controlling terminal", name);
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return error_sys (err, "dup2 console to %d", fd);

  if (!mount_console)
    return move_fd (master);
  rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return error_sys (err, "open /");
  consfd = path_open_in_root (rootfd, "/dev/console", O_PATH, PATH_MKFILE,
                              0666, err);
  if (consfd < 0)
    return error_wrap (err, "create /dev/console");
  char target[PATH_PROC_FD_MAX];
  if (mount (name, path_proc_fd (consfd, target), NULL, MS_BIND, NULL) < 0)
    return error_sys (err, "mount %s on /dev/console", name);
  return move_fd (master);
}

int
console_socket_connect (const char *path, polis_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG,
                      "console socket path `%s` is too long", path);
  memcpy (addr.sun_path, path, strlen (path) + 1);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return error_sys (err, "socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return error_sys (err, "connect to console socket `%s`", path);
  return move_fd (fd);
}

int
console_send_fd (int sock, int fd, const char *name, polis_error **err)
{
  char cbuf[CMSG_SPACE (sizeof (int))];
  memset (cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = (void *) name, .iov_len = strlen (name) };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  ssize_t r;
  do
    r = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return error_sys (err, "send the console to the console socket");
  return 0;
}

int
console_recv_fd (int sock, polis_error **err)
{
  char data[256];
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  ssize_t r;
  do
    r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return error_sys (err, "receive the console");
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  if (c == NULL || c->cmsg_type != SCM_RIGHTS
      || c->cmsg_len != CMSG_LEN (sizeof (int)))
    return error_set (err, ERROR_INTERNAL, EPROTO,
                      "no console received from the container");
  int fd;
  memcpy (&fd, CMSG_DATA (c), sizeof fd);
  return fd;
}

static volatile sig_atomic_t console_winch;

static void
console_on_winch (int sig)
{
  (void) sig;
  console_winch = 1;
}

static void
console_copy_size (int master)
{
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

int
console_proxy (int master, int stop_fd, polis_error **err)
{
  struct termios saved, raw;
  bool is_tty = isatty (0) && tcgetattr (0, &saved) == 0;
  if (is_tty)
    {
      raw = saved;
      cfmakeraw (&raw);
      raw.c_oflag |= OPOST | ONLCR;
      tcsetattr (0, TCSANOW, &raw);
      console_copy_size (master);
      struct sigaction sa = { .sa_handler = console_on_winch };
      sigaction (SIGWINCH, &sa, NULL);
    }
  bool in_open = true;
  int ret = 0;
  char buf[16384];
  for (;;)
    {
      struct pollfd fds[3] = {
        { .fd = master, .events = POLLIN },
        { .fd = in_open ? 0 : -1, .events = POLLIN },
        { .fd = stop_fd, .events = POLLIN },
      };
      if (console_winch)
        {
          console_winch = 0;
          console_copy_size (master);
        }
      int n = poll (fds, 3, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          ret = error_sys (err, "poll");
          break;
        }
      if (fds[0].revents & POLLIN)
        {
          ssize_t r = read (master, buf, sizeof buf);
          if (r > 0)
            {
              ssize_t off = 0;
              while (off < r)
                {
                  ssize_t w = write (1, buf + off, (size_t) (r - off));
                  if (w <= 0 && errno != EINTR)
                    break;
                  if (w > 0)
                    off += w;
                }
              continue;
            }
        }
      if (fds[0].revents & (POLLHUP | POLLERR))
        {
          ret = 1;
          break;
        }
      if (fds[1].revents & (POLLIN | POLLHUP))
        {
          ssize_t r = read (0, buf, sizeof buf);
          if (r <= 0)
            in_open = false;
          else
            {
              ssize_t w = write (master, buf, (size_t) r);
              (void) w;
            }
        }
      if (fds[2].revents)
        {
          /* The container is gone: pass on what it left in the pty. */
          fcntl (master, F_SETFL, fcntl (master, F_GETFL) | O_NONBLOCK);
          ssize_t r;
          while ((r = read (master, buf, sizeof buf)) > 0)
            if (write (1, buf, (size_t) r) < 0)
              break;
          break;
        }
    }
  if (is_tty)
    tcsetattr (0, TCSANOW, &saved);
  return ret;
}
