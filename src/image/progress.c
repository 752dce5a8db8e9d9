/* progress.c - pull and push progress, as `docker pull` shows it. */
#include "progress.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

#define PROGRESS_IDS_MAX 512
#define PROGRESS_BAR_WIDTH 50

typedef struct
{
  char id[64];
  int64_t last_ms;
  char last_status[32];
} progress_line;

struct progress
{
  progress_mode mode;
  FILE *out;
  void (*sink) (void *ud, const char *msg);
  void *sink_ud;
  pthread_mutex_t lock;
  progress_line lines[PROGRESS_IDS_MAX];
  size_t n_lines;
};

progress *
progress_new (progress_mode mode, FILE *out)
{
  progress *p = xzalloc (sizeof *p);
  p->mode = mode;
  p->out = out;
  pthread_mutex_init (&p->lock, NULL);
  return p;
}

void
progress_set_sink (progress *p, void (*sink) (void *ud, const char *msg),
                   void *ud)
{
  p->sink = sink;
  p->sink_ud = ud;
}

void
progress_free (progress *p)
{
  if (p == NULL)
    return;
  pthread_mutex_destroy (&p->lock);
  free (p);
}

void
progress_human_size (uint64_t n, char *buf, size_t len)
{
  static const char *units[] = { "B", "kB", "MB", "GB", "TB" };
  double v = (double) n;
  size_t u = 0;
  while (v >= 1000 && u < 4)
    {
      v /= 1000;
      u++;
    }
  if (u == 0)
    snprintf (buf, len, "%lluB", (unsigned long long) n);
  else
    snprintf (buf, len, "%.4g%s", v, units[u]);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
format_bar (uint64_t cur, uint64_t total, char *buf, size_t len)
{
  char c[32], t[32];
  progress_human_size (cur, c, sizeof c);
  progress_human_size (total, t, sizeof t);
  if (total == 0)
    {
      snprintf (buf, len, "%s", c);
      return;
    }
  int filled = (int) ((double) cur / (double) total * PROGRESS_BAR_WIDTH);
  if (filled > PROGRESS_BAR_WIDTH)
    filled = PROGRESS_BAR_WIDTH;
  char bar[PROGRESS_BAR_WIDTH + 1];
  for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
    bar[i] = i < filled - 1 ? '=' : i == filled - 1 ? '>' : ' ';
  bar[PROGRESS_BAR_WIDTH] = '\0';
  snprintf (buf, len, "[%s] %8s/%s", bar, c, t);
}

static progress_line *
find_line (progress *p, const char *id, size_t *index, bool *is_new)
{
  *is_new = false;
  for (size_t i = 0; i < p->n_lines; i++)
    if (strcmp (p->lines[i].id, id) == 0)
      {
        *index = i;
        return &p->lines[i];
      }
  if (p->n_lines == PROGRESS_IDS_MAX)
    return NULL;
  *is_new = true;
  *index = p->n_lines;
  progress_line *l = &p->lines[p->n_lines++];
  snprintf (l->id, sizeof l->id, "%s", id);
  l->last_ms = 0;
  return l;
}

static void
emit_json (progress *p, const char *id, const char *status, bool bytes,
           uint64_t cur, uint64_t total, const char *bar, const char *error)
{
  json_t *j = json_object ();
  if (error)
    {
      json_object_set_new (j, "errorDetail",
                           json_pack ("{s:s}", "message", error));
      json_object_set_new (j, "error", json_string (error));
    }
  else
    {
      json_object_set_new (j, "status", json_string (status));
      if (bytes)
        json_object_set_new (j, "progressDetail",
                             json_pack ("{s:I,s:I}", "current", (json_int_t) cur,
                                        "total", (json_int_t) total));
      else if (id)
        json_object_set_new (j, "progressDetail", json_object ());
      if (bar)
        json_object_set_new (j, "progress", json_string (bar));
      if (id)
        json_object_set_new (j, "id", json_string (id));
    }
  char *s = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  if (s == NULL)
    abort ();
  if (p->sink)
    p->sink (p->sink_ud, s);
  else
    {
      fprintf (p->out, "%s\r\n", s);
      fflush (p->out);
    }
  free (s);
}

/* Redraw line INDEX in place: up, clear, print, back down. */
static void
tty_line (progress *p, size_t index, bool is_new, const char *text)
{
  if (is_new)
    {
      fprintf (p->out, "%s\n", text);
    }
  else
    {
      size_t up = p->n_lines - index;
      fprintf (p->out, "\033[%zuA\r\033[2K%s\r\033[%zuB", up, text, up);
    }
  fflush (p->out);
}

static void
progress_emit (progress *p, const char *id, const char *status, bool bytes,
               uint64_t cur, uint64_t total)
{
  if (p->mode == PROGRESS_NONE)
    return;
  pthread_mutex_lock (&p->lock);
  char bar[128] = "";
  if (bytes)
    format_bar (cur, total, bar, sizeof bar);
  if (id && bytes && cur != total)
    {
      size_t idx;
      bool is_new;
      progress_line *l = find_line (p, id, &idx, &is_new);
      int64_t t = now_ms ();
      if (l && !is_new && t - l->last_ms < 100)
        {
          pthread_mutex_unlock (&p->lock);
          return;
        }
      if (l)
        l->last_ms = t;
      if (is_new && p->mode == PROGRESS_TTY)
        {
          /* find_line added it: draw it as new below. */
          char text[256];
          snprintf (text, sizeof text, "%s: %s %s", id, status, bar);
          tty_line (p, idx, true, text);
          pthread_mutex_unlock (&p->lock);
          return;
        }
    }
  switch (p->mode)
    {
    case PROGRESS_JSON:
      emit_json (p, id, status, bytes, cur, total, bytes ? bar : NULL, NULL);
      break;
    case PROGRESS_PLAIN:
      if (id && bytes)
        {
          size_t idx;
          bool is_new;
          progress_line *l = find_line (p, id, &idx, &is_new);
          if (cur != total || (l && strcmp (l->last_status, status) == 0))
            break;
          if (l)
            snprintf (l->last_status, sizeof l->last_status, "%s", status);
        }
      if (!bytes || cur == total)
        {
          if (id)
            fprintf (p->out, "%s: %s\n", id, status);
          else
            fprintf (p->out, "%s\n", status);
          fflush (p->out);
        }
      break;
    case PROGRESS_TTY:
      if (id == NULL)
        {
          p->n_lines = 0;
          fprintf (p->out, "%s\n", status);
          fflush (p->out);
        }
      else
        {
          size_t idx;
          bool is_new;
          progress_line *l = find_line (p, id, &idx, &is_new);
          char text[256];
          snprintf (text, sizeof text, "%s: %s %s", id, status, bar);
          if (l)
            tty_line (p, idx, is_new, text);
        }
      break;
    case PROGRESS_NONE:
      break;
    }
  pthread_mutex_unlock (&p->lock);
}

void
progress_status (progress *p, const char *id, const char *status)
{
  if (p)
    progress_emit (p, id, status, false, 0, 0);
}

void
progress_bytes (progress *p, const char *id, const char *status,
                uint64_t current, uint64_t total)
{
  if (p)
    progress_emit (p, id, status, true, current, total);
}

void
progress_error (progress *p, const char *msg)
{
  if (p == NULL || p->mode != PROGRESS_JSON)
    return;
  pthread_mutex_lock (&p->lock);
  emit_json (p, NULL, NULL, false, 0, 0, NULL, msg);
  pthread_mutex_unlock (&p->lock);
}
