/* cgroup_bpf.c - device access on cgroup v2: an eBPF program per cgroup. */
#include "cgroup_bpf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

/* Cap on the verifier log we ask for when a load fails. */
#define CGROUP_BPF_LOG_MAX (64u << 10)
/* Cap on the programs we expect to find attached to one cgroup. */
#define CGROUP_BPF_MAX_ATTACHED 64

typedef struct
{
  struct bpf_insn *insns;
  size_t n;
} cgroup_bpf_prog;

static void
cgroup_bpf_emit (cgroup_bpf_prog *p, uint8_t code, uint8_t dst, uint8_t src,
                 int16_t off, int32_t imm)
{
  p->insns = xreallocarray (p->insns, p->n + 1, sizeof *p->insns);
  struct bpf_insn *i = &p->insns[p->n++];
  memset (i, 0, sizeof *i);
  i->code = code;
  i->dst_reg = dst & 0xf;
  i->src_reg = src & 0xf;
  i->off = off;
  i->imm = imm;
}

/* r_dst = *(u32 *) (r_src + off) */
static void
cgroup_bpf_load_word (cgroup_bpf_prog *p, uint8_t dst, uint8_t src, int16_t off)
{
  cgroup_bpf_emit (p, BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}

static void
cgroup_bpf_verdict (cgroup_bpf_prog *p, bool allow)
{
  cgroup_bpf_emit (p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, allow ? 1 : 0);
  cgroup_bpf_emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* One block: fall through to "return ALLOW" only when the request matches
   R, else jump to the next block.  As in the v1 kernel, an allow rule
   matches a request all of whose access bits it has, a deny rule one
   that asks for any of its bits (runc's program uses the first test for
   both, which lets "rw" through a rule that denies "w"). */
static void
cgroup_bpf_rule (cgroup_bpf_prog *p, const cgroup_device_rule *r, bool allow)
{
  unsigned bpf_access = 0;
  if (r->access & CGROUP_DEV_READ)
    bpf_access |= BPF_DEVCG_ACC_READ;
  if (r->access & CGROUP_DEV_WRITE)
    bpf_access |= BPF_DEVCG_ACC_WRITE;
  if (r->access & CGROUP_DEV_MKNOD)
    bpf_access |= BPF_DEVCG_ACC_MKNOD;
  bool check_access = r->access != CGROUP_DEV_RWM;
  bool check_major = r->major != CGROUP_DEV_ANY;
  bool check_minor = r->minor != CGROUP_DEV_ANY;
  size_t len = 1 + (check_access ? 3 : 0) + check_major + check_minor + 2;
  size_t next = p->n + len;
#define CGROUP_BPF_TO_NEXT ((int16_t) (next - (p->n + 1)))

  cgroup_bpf_emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, CGROUP_BPF_TO_NEXT,
                   r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (check_access)
    {
      /* r1 = access & rule; allow: if (r1 != access) next;
         deny: if (r1 == 0) next */
      cgroup_bpf_emit (p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      cgroup_bpf_emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t) bpf_access);
      if (allow)
        cgroup_bpf_emit (p, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3,
                         CGROUP_BPF_TO_NEXT, 0);
      else
        cgroup_bpf_emit (p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, CGROUP_BPF_TO_NEXT, 0);
    }
  /* Majors and minors are at most INT32_MAX (cgroup_devices.c), so the
     sign-extended immediate compares equal to the zero-extended word. */
  if (check_major)
    cgroup_bpf_emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, CGROUP_BPF_TO_NEXT,
                     (int32_t) r->major);
  if (check_minor)
    cgroup_bpf_emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, CGROUP_BPF_TO_NEXT,
                     (int32_t) r->minor);
#undef CGROUP_BPF_TO_NEXT
  cgroup_bpf_verdict (p, allow);
}

struct bpf_insn *
cgroup_bpf_devices_program (const cgroup_device_rules *rules, size_t *n)
{
  cgroup_bpf_prog p = { 0 };
  /* struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
     where access_type is (access << 16) | type. */
  cgroup_bpf_load_word (&p, BPF_REG_2, BPF_REG_1, 0);
  cgroup_bpf_emit (&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  cgroup_bpf_load_word (&p, BPF_REG_3, BPF_REG_1, 0);
  cgroup_bpf_emit (&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  cgroup_bpf_load_word (&p, BPF_REG_4, BPF_REG_1, 4);
  cgroup_bpf_load_word (&p, BPF_REG_5, BPF_REG_1, 8);
  /* Every rule is an exception to the default, so none overlaps another
     in effect and their order does not matter. */
  for (size_t i = 0; i < rules->n; i++)
    cgroup_bpf_rule (&p, &rules->rules[i], !rules->default_allow);
  cgroup_bpf_verdict (&p, rules->default_allow);
  *n = p.n;
  return p.insns;
}

static int
cgroup_bpf_call (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static int
cgroup_bpf_try_load (const struct bpf_insn *insns, size_t n, char *log,
                     size_t log_size)
{
  static const char license[] = "Apache-2.0";
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) insns;
  attr.insn_cnt = (uint32_t) n;
  attr.license = (uint64_t) (uintptr_t) license;
  if (log)
    {
      attr.log_buf = (uint64_t) (uintptr_t) log;
      attr.log_size = (uint32_t) log_size;
      attr.log_level = 1;
    }
  return cgroup_bpf_call (BPF_PROG_LOAD, &attr);
}

int
cgroup_bpf_load_devices (const struct bpf_insn *insns, size_t n,
                         polis_error **err)
{
  int fd = cgroup_bpf_try_load (insns, n, NULL, 0);
  if (fd >= 0)
    return fd;
  int saved = errno;
  if (saved != EINVAL && saved != EACCES)
    return error_sys_code (err, saved, "load the device filter (BPF_PROG_LOAD)");
  /* Rejected by the verifier: load again with a log to say why. */
  cleanup_free char *log = xzalloc (CGROUP_BPF_LOG_MAX);
  fd = cgroup_bpf_try_load (insns, n, log, CGROUP_BPF_LOG_MAX);
  if (fd >= 0)
    return fd;
  log[CGROUP_BPF_LOG_MAX - 1] = '\0';
  for (char *p = log; *p; p++)
    if (*p == '\n')
      *p = ' ';
  return error_set (err, ERROR_INTERNAL, saved,
                    "load the device filter: rejected by the kernel: %.512s", log);
}

int
cgroup_bpf_count_devices (int cgfd)
{
  uint32_t ids[CGROUP_BPF_MAX_ATTACHED];
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t) cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = CGROUP_BPF_MAX_ATTACHED;
  if (cgroup_bpf_call (BPF_PROG_QUERY, &attr) < 0)
    return -1;
  return (int) attr.query.prog_cnt;
}

int
cgroup_bpf_attach_devices (int cgfd, int progfd, polis_error **err)
{
  uint32_t old[CGROUP_BPF_MAX_ATTACHED];
  uint32_t n_old = 0;
  union bpf_attr attr;

  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t) cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) old;
  attr.query.prog_cnt = CGROUP_BPF_MAX_ATTACHED;
  if (cgroup_bpf_call (BPF_PROG_QUERY, &attr) == 0)
    n_old = attr.query.prog_cnt;
  else if (errno == ENOSPC)
    return error_set (err, ERROR_INTERNAL, ENOSPC,
                      "more than %d device filters are attached to the cgroup",
                      CGROUP_BPF_MAX_ATTACHED);
  if (n_old > CGROUP_BPF_MAX_ATTACHED)
    n_old = CGROUP_BPF_MAX_ATTACHED;

  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) cgfd;
  attr.attach_bpf_fd = (uint32_t) progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (cgroup_bpf_call (BPF_PROG_ATTACH, &attr) < 0)
    return error_sys (err, "attach the device filter (BPF_PROG_ATTACH)");

  for (uint32_t i = 0; i < n_old; i++)
    {
      memset (&attr, 0, sizeof attr);
      attr.prog_id = old[i];
      cleanup_close int fd = cgroup_bpf_call (BPF_PROG_GET_FD_BY_ID, &attr);
      if (fd < 0)
        {
          if (errno == ENOENT)
            continue;
          return error_sys (err, "detach the old device filter %u", old[i]);
        }
      memset (&attr, 0, sizeof attr);
      attr.target_fd = (uint32_t) cgfd;
      attr.attach_bpf_fd = (uint32_t) fd;
      attr.attach_type = BPF_CGROUP_DEVICE;
      if (cgroup_bpf_call (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
        return error_sys (err, "detach the old device filter %u", old[i]);
    }
  return 0;
}

int
cgroup_bpf_set_devices (int cgfd, const cgroup_device_rules *rules,
                        polis_error **err)
{
  size_t n = 0;
  cleanup_free struct bpf_insn *insns = cgroup_bpf_devices_program (rules, &n);
  cleanup_close int prog = cgroup_bpf_load_devices (insns, n, err);
  if (prog < 0)
    return -1;
  return cgroup_bpf_attach_devices (cgfd, prog, err);
}
