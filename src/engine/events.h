/* events.h - the engine's event bus: what `GET /events` streams.
 *
 * A ring of the last EVENTS_RING messages (256, as Docker keeps; `since`
 * replays from it) and any number of subscribers.  Each message is a
 * parsed object of ~2.6 KB, so the ring is most of an idle daemon's
 * growth after a busy spell: 1024 held 2.6 MB.  Each subscriber has an
 * eventfd that becomes readable when something new is published, so a
 * streaming handler sleeps in poll(2) on it next to its client's socket.
 * Messages are Docker's events.Message JSON, legacy fields included
 * (status/id/from, which 20.10 clients and docker-compose v1 read).
 */
#ifndef POLIS_ENGINE_EVENTS_H
#define POLIS_ENGINE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#define EVENTS_RING 256

typedef struct events_bus events_bus;
typedef struct events_sub events_sub;

events_bus *events_bus_new (void);
void events_bus_free (events_bus *b);

/* Publish one event now.  TYPE "container", "image", ...; ACTION "start",
   "die", "health_status: healthy"...; ATTRS a string -> string object
   (stolen; may be NULL). */
void events_publish (events_bus *b, const char *type, const char *action,
                     const char *actor_id, json_t *attrs);

/* Subscribe.  Events already in the ring with a time >= SINCE_NS are
   delivered first (SINCE_NS < 0: none).  Caller frees with
   events_unsubscribe. */
events_sub *events_subscribe (events_bus *b, int64_t since_ns);
/* Readable when events are pending (read it with events_next). */
int events_sub_fd (events_sub *s);
/* The next pending message (new reference), or NULL when none. */
json_t *events_next (events_sub *s);
void events_unsubscribe (events_sub *s);

/* Current time in nanoseconds (CLOCK_REALTIME). */
int64_t events_now_ns (void);

#endif
