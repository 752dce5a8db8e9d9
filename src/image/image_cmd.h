/* image_cmd.h - the polis-image command line (pull, push, ls, rm, tag,
 * inspect, history, save, load, import, mount, umount, prune). */
#ifndef POLIS_IMAGE_IMAGE_CMD_H
#define POLIS_IMAGE_IMAGE_CMD_H

/* Run polis-image with ARGV; returns the exit status. */
int image_cmd_main (int argc, char **argv);

#endif
