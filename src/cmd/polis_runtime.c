/* polis-runtime: an OCI runtime, command-line compatible with runc. */
#include "runtime/runtime_cmd.h"

int
main (int argc, char **argv)
{
  return runtime_cmd_main (argc, argv);
}
