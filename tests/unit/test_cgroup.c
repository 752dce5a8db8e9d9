/* Unit tests for the cgroup resources modules: runtime/cgroup_resources.c
   (checks and conversions), runtime/cgroup_devices.c (device rule sets)
   and runtime/cgroup_bpf.c (the v2 device program, run here through a
   small interpreter, and loaded into the kernel when running as root). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "runtime/cgroup_bpf.h"
#include "runtime/cgroup_devices.h"
#include "runtime/cgroup_resources.h"

static json_t *
parse (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  assert_non_null (j);
  return j;
}

static void
test_cpu_weight (void **state)
{
  (void) state;
  assert_int_equal (cgroup_resources_cpu_weight (2), 1);
  assert_int_equal (cgroup_resources_cpu_weight (1024), 39);
  assert_int_equal (cgroup_resources_cpu_weight (512), 20);
  assert_int_equal (cgroup_resources_cpu_weight (262144), 10000);
  /* Out of the kernel's range: clamped, never wrapped around. */
  assert_int_equal (cgroup_resources_cpu_weight (1), 1);
  assert_int_equal (cgroup_resources_cpu_weight (1000000), 10000);
  assert_int_equal (cgroup_resources_io_weight (10), 1);
  assert_int_equal (cgroup_resources_io_weight (500), 4950);
  assert_int_equal (cgroup_resources_io_weight (1000), 10000);
}

static void
test_v2_swap (void **state)
{
  (void) state;
  polis_error *err = NULL;
  int64_t out = 7;
  assert_int_equal (cgroup_resources_v2_swap (2 << 20, 1 << 20, &out, &err), 0);
  assert_int_equal (out, 1 << 20);
  assert_int_equal (cgroup_resources_v2_swap (1 << 20, 1 << 20, &out, &err), 0);
  assert_int_equal (out, 0);
  assert_int_equal (cgroup_resources_v2_swap (-1, 1 << 20, &out, &err), 0);
  assert_int_equal (out, -1);
  assert_int_equal (cgroup_resources_v2_swap (-1, -1, &out, &err), 0);
  assert_int_equal (out, -1);
  assert_int_equal (cgroup_resources_v2_swap (1 << 20, -1, &out, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.memory.swap: "));
  error_free (&err);
  assert_int_equal (cgroup_resources_v2_swap (1 << 20, 2 << 20, &out, &err), -1);
  assert_non_null (strstr (err->msg, "below the memory limit"));
  error_free (&err);
}

/* Parse RES and expect an error starting with PREFIX. */
static void
expect_error (const char *res, const char *prefix)
{
  cleanup_json json_t *j = parse (res);
  polis_error *err = NULL;
  cgroup_resources *r = cgroup_resources_parse (j, false, &err);
  if (r != NULL)
    fail_msg ("%s: accepted", res);
  if (strncmp (err->msg, prefix, strlen (prefix)) != 0)
    fail_msg ("%s: got `%s`, want `%s...`", res, err->msg, prefix);
  error_free (&err);
}

static void
test_field_errors (void **state)
{
  (void) state;
  expect_error ("{\"memory\": {\"limit\": \"1G\"}}",
                "linux.resources.memory.limit: expected an integer");
  expect_error ("{\"memory\": {\"limit\": -2}}", "linux.resources.memory.limit: -2 is neither");
  expect_error ("{\"memory\": {\"limit\": 2000000, \"swap\": 1000000}}",
                "linux.resources.memory.swap: the memory+swap limit (1000000) is below");
  expect_error ("{\"memory\": {\"limit\": -1, \"swap\": 1000000}}",
                "linux.resources.memory.swap: a memory+swap limit needs a memory limit");
  expect_error ("{\"memory\": {\"swappiness\": 101}}",
                "linux.resources.memory.swappiness: 101 is out of range");
  expect_error ("{\"memory\": {\"disableOOMKiller\": 1}}",
                "linux.resources.memory.disableOOMKiller: expected a boolean");
  expect_error ("{\"cpu\": {\"quota\": -5}}",
                "linux.resources.cpu.quota: -5 is neither -1 (unlimited) nor a limit");
  expect_error ("{\"cpu\": {\"quota\": 500}}", "linux.resources.cpu.quota: 500 is below");
  expect_error ("{\"cpu\": {\"shares\": 1}}", "linux.resources.cpu.shares: 1 is out of range");
  expect_error ("{\"cpu\": {\"shares\": -3}}", "linux.resources.cpu.shares: -3 is negative");
  expect_error ("{\"cpu\": {\"period\": 5000000}}", "linux.resources.cpu.period: 5000000 is out");
  expect_error ("{\"cpu\": {\"quota\": 10000, \"burst\": 20000}}",
                "linux.resources.cpu.burst: 20000 is larger than the quota");
  expect_error ("{\"cpu\": {\"cpus\": 3}}", "linux.resources.cpu.cpus: expected a string");
  expect_error ("{\"pids\": {}}", "linux.resources.pids.limit: missing");
  expect_error ("{\"blockIO\": {\"weight\": 5}}", "linux.resources.blockIO.weight: 5 is out");
  expect_error ("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"minor\": 0, \"rate\": 1}]}}",
                "linux.resources.blockIO.throttleReadBpsDevice[0].major: missing");
  expect_error ("{\"blockIO\": {\"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, "
                "\"rate\": -1}]}}",
                "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: must not be negative");
  expect_error ("{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0}]}}",
                "linux.resources.blockIO.weightDevice[0]: needs a weight");
  expect_error ("{\"hugepageLimits\": [{\"pageSize\": \"2XB\", \"limit\": 1}]}",
                "linux.resources.hugepageLimits[0].pageSize: `2XB` is not a size");
  expect_error ("{\"unified\": {\"../memory.max\": \"1\"}}",
                "linux.resources.unified: `../memory.max` is not a cgroup file name");
  expect_error ("{\"unified\": {\"memory.max\": 1}}",
                "linux.resources.unified.memory.max: expected a string");
  expect_error ("{\"rdma\": {\"mlx4_0\": {}}}",
                "linux.resources.rdma.mlx4_0: needs hcaHandles or hcaObjects");
  expect_error ("{\"devices\": [{\"access\": \"rwm\"}]}", "linux.resources.devices[0].allow: missing");
  expect_error ("{\"devices\": [{\"allow\": false}, {\"allow\": true, \"type\": \"x\"}]}",
                "linux.resources.devices[1].type: `x` is not a, c or b");
  expect_error ("{\"devices\": [{\"allow\": true, \"type\": \"c\", \"access\": \"rwx\"}]}",
                "linux.resources.devices[0].access: `rwx` is not made of r, w and m");
  expect_error ("{\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": -5}]}",
                "linux.resources.devices[0].major: -5 is neither -1 (any) nor a device number");
  /* Taking part of a wildcard away is refused (v1 would ignore it). */
  expect_error ("{\"devices\": [{\"allow\": true, \"type\": \"c\", \"access\": \"rw\"}, "
                "{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"r\"}]}",
                "linux.resources.devices[1]: `c 1:3 r` cannot take access away from part of the "
                "wildcard rule `c *:* r`");
  expect_error ("[]", "linux.resources: expected an object");
}

static void
test_parse_values (void **state)
{
  (void) state;
  cleanup_json json_t *j = parse (
      "{\"memory\": {\"limit\": 0, \"reservation\": -1, \"swappiness\": -1},"
      " \"cpu\": {\"shares\": 1024, \"quota\": -1, \"cpus\": \"0-1\"},"
      " \"pids\": {\"limit\": 0},"
      " \"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 7, \"minor\": 0, \"rate\": 1048576}]},"
      " \"unified\": {\"memory.high\": \"1G\"}}");
  polis_error *err = NULL;
  cleanup_resources cgroup_resources *r = cgroup_resources_parse (j, false, &err);
  assert_non_null (r);
  /* 0 is runc's "not set"; -1 is unlimited; a pids limit of 0 is real. */
  assert_false (r->memory.limit.set);
  assert_true (r->memory.reservation.set);
  assert_int_equal (r->memory.reservation.v, -1);
  assert_false (r->memory.swappiness.set);
  assert_int_equal (r->cpu.shares.v, 1024);
  assert_true (r->cpu.quota.set);
  assert_string_equal (r->cpu.cpus, "0-1");
  assert_true (r->pids_limit.set);
  assert_int_equal (r->pids_limit.v, 0);
  assert_int_equal (r->blkio.n_throttle[CGROUP_THROTTLE_READ_BPS], 1);
  assert_int_equal (r->blkio.throttle[CGROUP_THROTTLE_READ_BPS][0].rate, 1048576);
  assert_int_equal (r->n_unified, 1);
  assert_string_equal (r->unified[0].key, "memory.high");
  /* Create always sets up devices; an update without a list does not. */
  assert_non_null (r->devices);
  cleanup_resources cgroup_resources *u = cgroup_resources_parse (j, true, &err);
  assert_non_null (u);
  assert_null (u->devices);
  cleanup_resources cgroup_resources *empty = cgroup_resources_parse (NULL, false, &err);
  assert_non_null (empty);
  assert_false (empty->devices->default_allow);
}

static cgroup_device_rules *
rules_of (const char *devices)
{
  cleanup_json json_t *j = devices ? parse (devices) : NULL;
  polis_error *err = NULL;
  cgroup_device_rules *r = cgroup_devices_from_json (j, &err);
  if (r == NULL)
    fail_msg ("%s: %s", devices, err->msg);
  return r;
}

static unsigned
access_of (const cgroup_device_rules *r, char type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->rules[i].type == type && r->rules[i].major == major && r->rules[i].minor == minor)
      return r->rules[i].access;
  return 0;
}

static void
test_device_rules (void **state)
{
  (void) state;
  /* No list: deny-all plus runc's eleven default rules. */
  cleanup_device_rules cgroup_device_rules *def = rules_of (NULL);
  assert_false (def->default_allow);
  assert_int_equal (def->n, 11);
  assert_int_equal (access_of (def, 'c', 1, 3), CGROUP_DEV_RWM);
  assert_int_equal (access_of (def, 'c', 136, CGROUP_DEV_ANY), CGROUP_DEV_RWM);
  assert_int_equal (access_of (def, 'b', CGROUP_DEV_ANY, CGROUP_DEV_ANY), CGROUP_DEV_MKNOD);
  assert_int_equal (access_of (def, 'c', 5, 1), 0); /* no /dev/console, as runc */

  /* The usual config: deny all, then allow a few; merged per node. */
  cleanup_device_rules cgroup_device_rules *cfg = rules_of (
      "[{\"allow\": false, \"access\": \"rwm\"},"
      " {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"r\"},"
      " {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"w\"},"
      " {\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"rw\"},"
      " {\"allow\": false, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"w\"}]");
  assert_false (cfg->default_allow);
  assert_int_equal (cfg->n, 13);
  assert_int_equal (access_of (cfg, 'c', 10, 229), CGROUP_DEV_READ | CGROUP_DEV_WRITE);
  assert_int_equal (access_of (cfg, 'b', 8, 0), CGROUP_DEV_READ);

  /* Allow-all (no leading deny): defaults are no-ops in a deny list. */
  cleanup_device_rules cgroup_device_rules *all = rules_of (
      "[{\"allow\": true, \"type\": \"a\"},"
      " {\"allow\": false, \"type\": \"b\", \"major\": 8, \"access\": \"rwm\"}]");
  assert_true (all->default_allow);
  assert_int_equal (all->n, 1);
  assert_int_equal (access_of (all, 'b', 8, CGROUP_DEV_ANY), CGROUP_DEV_RWM);

  /* A later "a" entry resets everything before it. */
  cleanup_device_rules cgroup_device_rules *reset = rules_of (
      "[{\"allow\": true, \"type\": \"c\", \"major\": 4, \"access\": \"r\"},"
      " {\"allow\": false, \"type\": \"a\", \"major\": 7, \"access\": \"r\"}]");
  assert_false (reset->default_allow);
  assert_int_equal (access_of (reset, 'c', 4, CGROUP_DEV_ANY), 0);
  assert_int_equal (reset->n, 11);
}

static void
test_device_transition (void **state)
{
  (void) state;
  polis_error *err = NULL;
  cleanup_device_rules cgroup_device_rules *want = rules_of (NULL);

  /* A new v1 cgroup under an allow-all parent: reset, then the allows. */
  cleanup_device_rules cgroup_device_rules *fresh = cgroup_devices_from_list ("a *:* rwm\n", &err);
  assert_non_null (fresh);
  assert_true (fresh->default_allow);
  cleanup_free cgroup_device_write *w = NULL;
  size_t n = cgroup_devices_transition (fresh, want, &w);
  assert_int_equal (n, 12);
  assert_false (w[0].allow);
  assert_string_equal (w[0].line, "a");
  for (size_t i = 1; i < n; i++)
    assert_true (w[i].allow && w[i].default_rule);
  assert_string_equal (w[1].line, "b *:* m");

  /* Same state: nothing to write. */
  cleanup_device_rules cgroup_device_rules *same = cgroup_devices_from_list (
      "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n"
      "c 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\n",
      &err);
  assert_non_null (same);
  cleanup_free cgroup_device_write *w2 = NULL;
  assert_int_equal (cgroup_devices_transition (same, want, &w2), 0);

  /* An update that drops a device and adds another: removal first, no
     reset (which would cut a running container off /dev/null). */
  cleanup_device_rules cgroup_device_rules *cur = cgroup_devices_from_list (
      "c 1:3 rwm\nc 4:1 rw\n", &err);
  cleanup_device_rules cgroup_device_rules *next = cgroup_devices_from_list (
      "c 1:3 rwm\nc 4:1 r\nc 4:2 rw\n", &err);
  cleanup_free cgroup_device_write *w3 = NULL;
  n = cgroup_devices_transition (cur, next, &w3);
  assert_int_equal (n, 2);
  assert_false (w3[0].allow);
  assert_string_equal (w3[0].line, "c 4:1 w");
  assert_true (w3[1].allow);
  assert_false (w3[1].default_rule);
  assert_string_equal (w3[1].line, "c 4:2 rw");

  assert_null (cgroup_devices_from_list ("x 1:2 r\n", &err));
  error_free (&err);
}

/* A tiny interpreter for the instructions cgroup_bpf emits, so that the
   tests check what the program decides, not only its bytes. */
static int
bpf_run (const struct bpf_insn *p, size_t n, unsigned type, unsigned access, unsigned major,
         unsigned minor)
{
  uint32_t ctx[3] = { (access << 16) | type, major, minor };
  uint64_t reg[11] = { 0 };
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct bpf_insn *i = &p[pc];
      uint64_t src = (BPF_SRC (i->code) == BPF_X) ? reg[i->src_reg] : (uint64_t) (int64_t) i->imm;
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          assert_int_equal (i->src_reg, BPF_REG_1);
          assert_true (i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
          reg[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          reg[i->dst_reg] = (uint32_t) (reg[i->dst_reg] & (uint32_t) i->imm);
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          reg[i->dst_reg] = (uint32_t) reg[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU | BPF_MOV | BPF_X:
          reg[i->dst_reg] = (uint32_t) reg[i->src_reg];
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          reg[i->dst_reg] = (uint64_t) (int64_t) i->imm;
          break;
        case BPF_JMP | BPF_JNE | BPF_K:
        case BPF_JMP | BPF_JNE | BPF_X:
        case BPF_JMP | BPF_JEQ | BPF_K:
          if ((reg[i->dst_reg] != src) == (BPF_OP (i->code) == BPF_JNE))
            {
              assert_true (i->off >= 0 && pc + 1 + (size_t) i->off < n);
              pc += (size_t) i->off;
            }
          break;
        case BPF_JMP | BPF_EXIT:
          return (int) reg[0];
        default:
          fail_msg ("unexpected instruction %#x at %zu", i->code, pc);
        }
    }
  fail_msg ("fell off the end of the program");
  return -1;
}

#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void
test_bpf_program (void **state)
{
  (void) state;
  cleanup_device_rules cgroup_device_rules *rules = rules_of (
      "[{\"allow\": false, \"access\": \"rwm\"},"
      " {\"allow\": true, \"type\": \"b\", \"major\": 7, \"access\": \"rw\"}]");
  size_t n = 0;
  cleanup_free struct bpf_insn *p = cgroup_bpf_devices_program (rules, &n);
  /* 6 to load the context; per rule: 1 type check, 3 for an access that
     is not rwm, 1 per fixed major / minor, 2 for the verdict; 2 for the
     default.  The defaults: c *:* m = 6, b *:* m = 6, eight rwm with
     both numbers = 5 each, c 136:* rwm = 4; then b 7:* rw = 7. */
  assert_int_equal (n, 6 + 6 + 6 + 8 * 5 + 4 + 7 + 2);
  assert_int_equal (p[0].code, BPF_LDX | BPF_MEM | BPF_W);
  assert_int_equal (p[n - 1].code, BPF_JMP | BPF_EXIT);
  assert_int_equal (p[n - 2].imm, 0); /* default: deny */

  assert_int_equal (bpf_run (p, n, CHR, R | W, 1, 3), 1);         /* /dev/null */
  assert_int_equal (bpf_run (p, n, CHR, R, 1, 5), 1);             /* /dev/zero */
  assert_int_equal (bpf_run (p, n, CHR, R | W, 136, 4), 1);       /* a pty */
  assert_int_equal (bpf_run (p, n, CHR, R, 1, 11), 0);            /* /dev/kmsg */
  assert_int_equal (bpf_run (p, n, CHR, M, 1, 11), 1);            /* mknod is fine */
  assert_int_equal (bpf_run (p, n, BLK, R, 8, 0), 0);             /* sda */
  assert_int_equal (bpf_run (p, n, BLK, R | W, 7, 3), 1);         /* loop3 */
  assert_int_equal (bpf_run (p, n, BLK, M, 7, 3), 1);
  assert_int_equal (bpf_run (p, n, CHR, R, 7, 3), 0);             /* not a block device */
  assert_int_equal (bpf_run (p, n, CHR, R | W, 5, 1), 0);         /* the host console */

  /* A deny list: the rules deny, the rest is allowed. */
  cleanup_device_rules cgroup_device_rules *deny = rules_of (
      "[{\"allow\": true, \"access\": \"rwm\"},"
      " {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]");
  cleanup_free struct bpf_insn *q = cgroup_bpf_devices_program (deny, &n);
  assert_int_equal (n, 6 + 1 + 3 + 1 + 1 + 2 + 2);
  assert_int_equal (bpf_run (q, n, CHR, R, 1, 11), 1);
  assert_int_equal (bpf_run (q, n, CHR, W, 1, 11), 0);
  assert_int_equal (bpf_run (q, n, CHR, R | W, 1, 11), 0);
  assert_int_equal (bpf_run (q, n, BLK, R | W, 8, 0), 1);
  assert_int_equal (bpf_run (q, n, CHR, W | M, 1, 12), 1);
}

/* A cgroup2 directory to test in: /sys/fs/cgroup on a v2 host, the
   controller-less /sys/fs/cgroup/unified of a hybrid one. */
static const char *
cgroup2_root (void)
{
  const char *cands[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
  for (size_t i = 0; i < 2; i++)
    {
      struct statfs sfs;
      if (statfs (cands[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
        return cands[i];
    }
  return NULL;
}

/* In a child moved into DIR, open PATH for reading; returns the errno
   (0 when the open worked). */
static int
open_in_cgroup (const char *dir, const char *path)
{
  int pipefd[2];
  assert_int_equal (pipe (pipefd), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char procs[512], self[32];
      snprintf (procs, sizeof procs, "%s/cgroup.procs", dir);
      snprintf (self, sizeof self, "%d", (int) getpid ());
      int fd = open (procs, O_WRONLY);
      int e = (fd < 0 || write (fd, self, strlen (self)) < 0) ? 1000 : 0;
      if (e == 0)
        {
          int f = open (path, O_RDONLY);
          e = f < 0 ? errno : 0;
        }
      if (write (pipefd[1], &e, sizeof e) != sizeof e)
        _exit (1);
      _exit (0);
    }
  int e = -1;
  close (pipefd[1]);
  assert_int_equal (read (pipefd[0], &e, sizeof e), sizeof e);
  close (pipefd[0]);
  waitpid (pid, NULL, 0);
  return e;
}

static void
test_bpf_kernel (void **state)
{
  (void) state;
  if (geteuid () != 0)
    skip ();
  cleanup_device_rules cgroup_device_rules *rules = rules_of (
      "[{\"allow\": false, \"access\": \"rwm\"},"
      " {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"r\"}]");
  size_t n = 0;
  cleanup_free struct bpf_insn *p = cgroup_bpf_devices_program (rules, &n);
  polis_error *err = NULL;
  cleanup_close int fd = cgroup_bpf_load_devices (p, n, &err);
  if (fd < 0 && (err->code == EPERM || err->code == ENOSYS))
    {
      print_message ("bpf() not available here: %s\n", err->msg);
      error_free (&err);
      skip ();
    }
  if (fd < 0)
    fail_msg ("%s", err->msg);

  /* Attach it to a scratch cgroup and check what a process there sees. */
  const char *root = cgroup2_root ();
  if (root == NULL)
    skip ();
  char dir[256];
  snprintf (dir, sizeof dir, "%s/polis-unit-bpf-%d", root, (int) getpid ());
  if (mkdir (dir, 0755) < 0)
    {
      print_message ("cannot make a cgroup2 directory: %s\n", strerror (errno));
      skip ();
    }
  cleanup_close int cgfd = open (dir, O_RDONLY | O_DIRECTORY);
  assert_true (cgfd >= 0);
  /* /dev/null was denied only by the user's rule, which runc's defaults
     (appended after it) allow again; /dev/kmsg stays denied. */
  assert_int_equal (cgroup_bpf_attach_devices (cgfd, fd, &err), 0);
  assert_int_equal (cgroup_bpf_count_devices (cgfd), 1);
  assert_int_equal (open_in_cgroup (dir, "/dev/null"), 0);
  assert_int_equal (open_in_cgroup (dir, "/dev/kmsg"), EPERM);

  /* Replacing the program: still one attached, and the new rules hold. */
  cleanup_device_rules cgroup_device_rules *more = rules_of (
      "[{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]");
  assert_int_equal (cgroup_bpf_set_devices (cgfd, more, &err), 0);
  assert_int_equal (cgroup_bpf_count_devices (cgfd), 1);
  assert_int_equal (open_in_cgroup (dir, "/dev/kmsg"), 0);
  assert_int_equal (rmdir (dir), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cpu_weight),      cmocka_unit_test (test_v2_swap),
    cmocka_unit_test (test_field_errors),    cmocka_unit_test (test_parse_values),
    cmocka_unit_test (test_device_rules),    cmocka_unit_test (test_device_transition),
    cmocka_unit_test (test_bpf_program),     cmocka_unit_test (test_bpf_kernel),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
