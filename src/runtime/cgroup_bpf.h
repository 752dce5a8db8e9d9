/* cgroup_bpf.h - device access on cgroup v2: an eBPF program per cgroup.
 *
 * cgroup v2 has no devices controller; a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup answers every open or mknod of a device
 * node.  This module writes such a program from a rule set
 * (cgroup_devices.h) as raw instructions - the shape runc and crun use:
 * load type, access, major and minor from the context into r2..r5, then
 * one block per rule that returns its verdict when everything matches,
 * then the default - and loads and attaches it with the bpf(2) system
 * call, no libbpf.
 */
#ifndef POLIS_RUNTIME_CGROUP_BPF_H
#define POLIS_RUNTIME_CGROUP_BPF_H

#include <linux/bpf.h>
#include <stddef.h>

#include "base/error.h"
#include "runtime/cgroup_devices.h"

/* The program that enforces RULES.  *N gets the instruction count; the
   caller frees the array. */
struct bpf_insn *cgroup_bpf_devices_program (const cgroup_device_rules *rules,
                                             size_t *n);

/* Load INSNS as a cgroup device program.  Returns its fd; on failure the
   error carries the verifier's complaint. */
int cgroup_bpf_load_devices (const struct bpf_insn *insns, size_t n,
                             polis_error **err);

/* Attach PROGFD to the cgroup directory CGFD and detach the device
   programs attached there before, in that order, so that the cgroup is
   never without a filter (while both are attached, a device must pass
   both).  Programs attached above CGFD are left alone. */
int cgroup_bpf_attach_devices (int cgfd, int progfd, polis_error **err);

/* Generate, load and attach the program for RULES on CGFD. */
int cgroup_bpf_set_devices (int cgfd, const cgroup_device_rules *rules,
                            polis_error **err);

/* How many device programs are attached to CGFD itself, or -1. */
int cgroup_bpf_count_devices (int cgfd);

#endif
