/* events.c - the engine's event bus. */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

struct events_sub
{
  events_bus *bus;
  int fd;
  uint64_t next; /* sequence number of the next message to deliver */
  events_sub *prev, *nextsub;
};

struct events_bus
{
  pthread_mutex_t lock;
  json_t *ring[EVENTS_RING];
  int64_t ring_time[EVENTS_RING];
  uint64_t seq; /* messages published so far */
  events_sub *subs;
};

int64_t
events_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

events_bus *
events_bus_new (void)
{
  events_bus *b = xzalloc (sizeof *b);
  pthread_mutex_init (&b->lock, NULL);
  return b;
}

void
events_bus_free (events_bus *b)
{
  if (b == NULL)
    return;
  for (size_t i = 0; i < EVENTS_RING; i++)
    json_decref (b->ring[i]);
  pthread_mutex_destroy (&b->lock);
  free (b);
}

static void
wake (int fd)
{
  uint64_t one = 1;
  ssize_t r = write (fd, &one, sizeof one);
  (void) r; /* a full counter already wakes the reader */
}

void
events_publish (events_bus *b, const char *type, const char *action,
                const char *actor_id, json_t *attrs)
{
  int64_t now = events_now_ns ();
  if (attrs == NULL)
    attrs = json_object ();
  json_t *m = json_object ();
  /* The legacy fields, for container and image events only (as Docker). */
  if (strcmp (type, "container") == 0 || strcmp (type, "image") == 0)
    {
      json_object_set_new (m, "status", json_string (action));
      json_object_set_new (m, "id", json_string (actor_id));
      json_t *img = json_object_get (attrs, "image");
      if (json_is_string (img))
        json_object_set (m, "from", img);
    }
  json_object_set_new (m, "Type", json_string (type));
  json_object_set_new (m, "Action", json_string (action));
  json_object_set_new (m, "Actor", json_pack ("{s:s,s:o}", "ID", actor_id,
                                              "Attributes", attrs));
  json_object_set_new (m, "scope", json_string ("local"));
  json_object_set_new (m, "time", json_integer (now / 1000000000));
  json_object_set_new (m, "timeNano", json_integer (now));

  pthread_mutex_lock (&b->lock);
  size_t slot = b->seq % EVENTS_RING;
  json_decref (b->ring[slot]);
  b->ring[slot] = m;
  b->ring_time[slot] = now;
  b->seq++;
  for (events_sub *s = b->subs; s; s = s->nextsub)
    wake (s->fd);
  pthread_mutex_unlock (&b->lock);
}

events_sub *
events_subscribe (events_bus *b, int64_t since_ns)
{
  int fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return NULL;
  events_sub *s = xzalloc (sizeof *s);
  s->bus = b;
  s->fd = fd;
  pthread_mutex_lock (&b->lock);
  s->next = b->seq;
  if (since_ns >= 0)
    {
      uint64_t oldest = b->seq > EVENTS_RING ? b->seq - EVENTS_RING : 0;
      for (uint64_t q = oldest; q < b->seq; q++)
        if (b->ring_time[q % EVENTS_RING] >= since_ns)
          {
            s->next = q;
            break;
          }
      if (s->next < b->seq)
        wake (fd);
    }
  s->nextsub = b->subs;
  if (b->subs)
    b->subs->prev = s;
  b->subs = s;
  pthread_mutex_unlock (&b->lock);
  return s;
}

int
events_sub_fd (events_sub *s)
{
  return s->fd;
}

json_t *
events_next (events_sub *s)
{
  events_bus *b = s->bus;
  json_t *m = NULL;
  pthread_mutex_lock (&b->lock);
  /* A subscriber that fell a whole ring behind loses the overwritten
     messages, as Docker's. */
  if (b->seq - s->next > EVENTS_RING)
    s->next = b->seq - EVENTS_RING;
  if (s->next < b->seq)
    m = json_incref (b->ring[s->next++ % EVENTS_RING]);
  else
    {
      uint64_t v;
      ssize_t r = read (s->fd, &v, sizeof v);
      (void) r;
    }
  pthread_mutex_unlock (&b->lock);
  return m;
}

void
events_unsubscribe (events_sub *s)
{
  if (s == NULL)
    return;
  events_bus *b = s->bus;
  pthread_mutex_lock (&b->lock);
  if (s->prev)
    s->prev->nextsub = s->nextsub;
  else
    b->subs = s->nextsub;
  if (s->nextsub)
    s->nextsub->prev = s->prev;
  pthread_mutex_unlock (&b->lock);
  close (s->fd);
  free (s);
}
