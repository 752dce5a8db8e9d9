/* polis: the Docker-compatible command line, a client of polisd's API. */
#include "cli/cli.h"

int
main (int argc, char **argv)
{
  return cli_main (argc, argv);
}
