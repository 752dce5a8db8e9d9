/* table.h - columns aligned as Go's text/tabwriter aligns them, with the
 * settings of the docker CLI (minwidth 10, padding 3, spaces): cells end
 * with '\t', lines with '\n', the text after a line's last tab is not
 * padded.  Widths are counted in UTF-8 characters.
 */
#ifndef POLIS_CLI_TABLE_H
#define POLIS_CLI_TABLE_H

#include <stdio.h>

/* Write TEXT (tab-separated cells) to OUT, aligned with MINWIDTH and
   PADDING as tabwriter.NewWriter (out, minwidth, 1, padding, ' ', 0). */
void table_write (FILE *out, const char *text, int minwidth, int padding);

#endif
