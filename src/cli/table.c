/* table.c - Go's text/tabwriter column algorithm (the cells of a column
 * block, consecutive lines that have that column, share one width). */
#include "cli/table.h"

#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

typedef struct
{
  const char *text;
  size_t size;  /* bytes */
  size_t width; /* characters */
} cell;

typedef struct
{
  cell *cells;
  size_t n; /* the last cell is the text after the last tab */
} line;

typedef struct
{
  FILE *out;
  line *lines;
  size_t nlines;
  int *widths;
  size_t nwidths;
  int minwidth, padding;
} tw;

static size_t
utf8_width (const char *s, size_t n)
{
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char) s[i] & 0xc0) != 0x80)
      w++;
  return w;
}

static void
tw_write_lines (tw *t, size_t line0, size_t line1)
{
  for (size_t i = line0; i < line1; i++)
    {
      line *l = &t->lines[i];
      for (size_t j = 0; j < l->n; j++)
        {
          cell *c = &l->cells[j];
          fwrite (c->text, 1, c->size, t->out);
          if (j < t->nwidths)
            for (size_t k = c->width; k < (size_t) t->widths[j]; k++)
              fputc (' ', t->out);
        }
      fputc ('\n', t->out);
    }
}

static void
tw_format (tw *t, size_t line0, size_t line1)
{
  size_t column = t->nwidths;
  for (size_t this = line0; this < line1; this++)
    {
      if (column + 1 >= t->lines[this].n)
        continue;
      tw_write_lines (t, line0, this);
      line0 = this;
      int width = t->minwidth;
      for (; this < line1; this++)
        {
          line *l = &t->lines[this];
          if (column + 1 >= l->n)
            break;
          int w = (int) l->cells[column].width + t->padding;
          if (w > width)
            width = w;
        }
      t->widths = xreallocarray (t->widths, t->nwidths + 1, sizeof (int));
      t->widths[t->nwidths++] = width;
      tw_format (t, line0, this);
      t->nwidths--;
      line0 = this;
      this--; /* the loop's increment */
    }
  tw_write_lines (t, line0, line1);
}

void
table_write (FILE *out, const char *text, int minwidth, int padding)
{
  tw t = { .out = out, .minwidth = minwidth, .padding = padding };
  size_t len = strlen (text);
  if (len == 0)
    return;
  /* A final newline ends the last line rather than starting another. */
  size_t end = text[len - 1] == '\n' ? len - 1 : len;
  const char *p = text, *stop = text + end;
  for (;;)
    {
      const char *nl = memchr (p, '\n', (size_t) (stop - p));
      const char *le = nl ? nl : stop;
      line l = { 0 };
      const char *c = p;
      for (;;)
        {
          const char *tab = memchr (c, '\t', (size_t) (le - c));
          const char *ce = tab ? tab : le;
          l.cells = xreallocarray (l.cells, l.n + 1, sizeof (cell));
          l.cells[l.n++] = (cell){ c, (size_t) (ce - c),
                                   utf8_width (c, (size_t) (ce - c)) };
          if (!tab)
            break;
          c = tab + 1;
        }
      t.lines = xreallocarray (t.lines, t.nlines + 1, sizeof (line));
      t.lines[t.nlines++] = l;
      if (!nl)
        break;
      p = nl + 1;
    }
  tw_format (&t, 0, t.nlines);
  for (size_t i = 0; i < t.nlines; i++)
    free (t.lines[i].cells);
  free (t.lines);
  free (t.widths);
}
