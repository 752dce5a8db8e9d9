/* polis-image: pull, push, store and mount container images. */
#include "image/image_cmd.h"

int
main (int argc, char **argv)
{
  return image_cmd_main (argc, argv);
}
