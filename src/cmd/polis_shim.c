/* polis-shim: the per-container monitor that polisd starts. */
#include "shim/shim_main.h"

int
main (int argc, char **argv)
{
  return shim_main (argc, argv);
}
