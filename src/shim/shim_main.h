/* shim_main.h - polis-shim's entry point (docs/internals/shim.md). */
#ifndef POLIS_SHIM_SHIM_MAIN_H
#define POLIS_SHIM_SHIM_MAIN_H

/* Parse the command line of engine-contracts.md, go to the background,
   create (and start) the container, report on fd 3, and watch it until
   it is deleted.  Returns the exit status. */
int shim_main (int argc, char **argv);

#endif
