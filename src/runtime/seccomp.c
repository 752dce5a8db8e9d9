/* seccomp.c - the OCI linux.seccomp filter, compiled and loaded.
 *
 * Compiling validates the profile field by field, builds a libseccomp
 * context from it and exports the context as a BPF program.  The program,
 * not the context, is what the child loads, with seccomp(2) directly:
 *  - libseccomp's seccomp_load() sets no_new_privs by default and would
 *    have to be told not to on every path; seccomp(2) does only what the
 *    profile says;
 *  - seccomp_load() generates the program at load time, allocating and
 *    freeing as it goes, which a notify rule on brk or munmap would turn
 *    into a hang (the agent has no listener yet); loading a finished
 *    program makes no other system call;
 *  - every seccomp(2) flag the kernel has is ours to pass, including
 *    WAIT_KILLABLE_RECV, which libseccomp 2.5 does not know.
 * Same-argument conditions get runc's and crun's treatment: libseccomp
 * refuses two comparisons of one argument in a rule, so when a rule has
 * them each condition becomes a rule of its own (so the conditions are
 * OR-ed, as they are in runc and crun).
 */
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "polis-config.h"
#include "runtime/seccomp_cache.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
#define SECCOMP_MAX_INSNS 4096
/* seccomp(2) passes six arguments. */
#define SECCOMP_MAX_ARGS 6
/* Conditions in one entry: several may test one argument (each becomes a
   rule of its own), so more than six is fine; this caps outside input. */
#define SECCOMP_MAX_CONDS 64
/* The data of an ERRNO or TRACE return is 16 bits wide. */
#define SECCOMP_MAX_RET_DATA 0xffffu
/* Context strings in messages: "syscalls[12345].args[5]". */
#define SECCOMP_CTX_MAX 64

struct seccomp_filter
{
  struct sock_filter *prog; /* the program libseccomp exported */
  unsigned short len;       /* instructions in prog */
  unsigned int flags;       /* SECCOMP_FILTER_FLAG_* asked for by the profile */
  bool notify;              /* some rule is SCMP_ACT_NOTIFY: make a listener */
  char *listener_path;      /* the agent's socket, set only with notify */
  char *metadata;           /* listenerMetadata, may be NULL */
};

typedef struct
{
  const char *name;
  uint32_t action; /* for ERRNO and TRACE, without the data */
  bool has_data;   /* takes errnoRet */
} seccomp_action_name;

static const seccomp_action_name seccomp_actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

typedef struct
{
  const char *name;
  enum scmp_compare op;
} seccomp_op_name;

static const seccomp_op_name seccomp_ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Every architecture the runtime spec names; arch is 0 where this
   libseccomp has no constant for it. */
typedef struct
{
  const char *name;
  uint32_t arch;
} seccomp_arch_name;

#define SECCOMP_ARCH(n) { #n, n }
static const seccomp_arch_name seccomp_archs[] = {
  SECCOMP_ARCH (SCMP_ARCH_X86),
  SECCOMP_ARCH (SCMP_ARCH_X86_64),
  SECCOMP_ARCH (SCMP_ARCH_X32),
  SECCOMP_ARCH (SCMP_ARCH_ARM),
  SECCOMP_ARCH (SCMP_ARCH_AARCH64),
  SECCOMP_ARCH (SCMP_ARCH_MIPS),
  SECCOMP_ARCH (SCMP_ARCH_MIPS64),
  SECCOMP_ARCH (SCMP_ARCH_MIPS64N32),
  SECCOMP_ARCH (SCMP_ARCH_MIPSEL),
  SECCOMP_ARCH (SCMP_ARCH_MIPSEL64),
  SECCOMP_ARCH (SCMP_ARCH_MIPSEL64N32),
  SECCOMP_ARCH (SCMP_ARCH_PPC),
  SECCOMP_ARCH (SCMP_ARCH_PPC64),
  SECCOMP_ARCH (SCMP_ARCH_PPC64LE),
  SECCOMP_ARCH (SCMP_ARCH_S390),
  SECCOMP_ARCH (SCMP_ARCH_S390X),
  SECCOMP_ARCH (SCMP_ARCH_PARISC),
  SECCOMP_ARCH (SCMP_ARCH_PARISC64),
  SECCOMP_ARCH (SCMP_ARCH_RISCV64),
#ifdef SCMP_ARCH_LOONGARCH64
  SECCOMP_ARCH (SCMP_ARCH_LOONGARCH64),
#else
  { "SCMP_ARCH_LOONGARCH64", 0 },
#endif
#ifdef SCMP_ARCH_M68K
  SECCOMP_ARCH (SCMP_ARCH_M68K),
#else
  { "SCMP_ARCH_M68K", 0 },
#endif
#ifdef SCMP_ARCH_SH
  SECCOMP_ARCH (SCMP_ARCH_SH),
  SECCOMP_ARCH (SCMP_ARCH_SHEB),
#else
  { "SCMP_ARCH_SH", 0 },
  { "SCMP_ARCH_SHEB", 0 },
#endif
};
#undef SECCOMP_ARCH

typedef struct
{
  const char *name;
  unsigned int flag;
} seccomp_flag_name;

static const seccomp_flag_name seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

#define SECCOMP_N(a) (sizeof (a) / sizeof *(a))

static void
cleanup_scmp_fn (scmp_filter_ctx *ctx)
{
  int saved = errno;
  if (*ctx)
    seccomp_release (*ctx);
  *ctx = NULL;
  errno = saved;
}
#define cleanup_scmp __attribute__ ((cleanup (cleanup_scmp_fn)))

/* One pass over the profile.  Without a context the pass only validates
   (the cache is consulted after it); QUIET keeps a second pass over the
   same profile from logging the same skips twice. */
typedef struct
{
  seccomp_filter *f;
  scmp_filter_ctx ctx; /* NULL: validate only */
  uint32_t def;        /* the default action */
  bool quiet;
} seccomp_pass;

void
seccomp_filter_free (seccomp_filter *f)
{
  if (f == NULL)
    return;
  free (f->prog);
  free (f->listener_path);
  free (f->metadata);
  free (f);
}

/* Does the kernel take FLAG for SECCOMP_SET_MODE_FILTER?  A NULL program
   makes a known flag fail with EFAULT and an unknown one with EINVAL,
   without loading anything. */
static bool
seccomp_kernel_has_flag (unsigned int flag)
{
  /* WAIT_KILLABLE_RECV is refused without NEW_LISTENER. */
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
  return r < 0 && errno == EFAULT;
}

/* The string at index I of ARR, or NULL when it is not one (or has a NUL
   byte inside, which would make it read as another name). */
static const char *
seccomp_string_at (const json_t *arr, size_t i)
{
  const json_t *v = json_array_get (arr, i);
  if (!json_is_string (v) || strlen (json_string_value (v)) != json_string_length (v))
    return NULL;
  return json_string_value (v);
}

/* NAME at index I of an array KEY, for messages: "syscalls[3].names[1]". */
static void
seccomp_ctx (char *buf, const char *parent, const char *key, size_t i)
{
  int n = snprintf (buf, SECCOMP_CTX_MAX, "%s%s%s[%zu]", parent,
                    *parent ? "." : "", key, i);
  /* Only a message suffers from truncation; keep it visible. */
  if (n >= SECCOMP_CTX_MAX)
    memcpy (buf + SECCOMP_CTX_MAX - 4, "...", 4);
}

/* The action at AKEY of OBJ with its data from EKEY: errnoRet for ERRNO
   and TRACE (EPERM when absent), refused for the others, as the runtime
   spec says. */
static int
seccomp_parse_action (const json_t *obj, const char *ctx, const char *akey,
                      const char *ekey, uint32_t *out, polis_error **err)
{
  const char *name = NULL;
  uint64_t data = EPERM;
  if (pjson_get_string (obj, ctx, akey, true, &name, err) < 0)
    return -1;
  const seccomp_action_name *a = NULL;
  for (size_t i = 0; i < SECCOMP_N (seccomp_actions); i++)
    if (strcmp (seccomp_actions[i].name, name) == 0)
      a = &seccomp_actions[i];
  if (a == NULL)
    return error_set (err, ERROR_INVALID, EINVAL, "%s%s%s: unknown action \"%s\"",
                      ctx, *ctx ? "." : "", akey, name);
  json_t *e = json_object_get (obj, ekey);
  if (e && !json_is_null (e))
    {
      if (!a->has_data)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s%s%s: not allowed with action %s (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)",
                          ctx, *ctx ? "." : "", ekey, name);
      if (pjson_get_uint64 (obj, ctx, ekey, false, SECCOMP_MAX_RET_DATA, &data, err) < 0)
        return -1;
    }
  *out = a->has_data ? a->action | (uint32_t) data : a->action;
  return 0;
}

static int
seccomp_parse_op (const json_t *arg, const char *ctx, enum scmp_compare *out,
                  polis_error **err)
{
  const char *name = NULL;
  if (pjson_get_string (arg, ctx, "op", true, &name, err) < 0)
    return -1;
  for (size_t i = 0; i < SECCOMP_N (seccomp_ops); i++)
    if (strcmp (seccomp_ops[i].name, name) == 0)
      {
        *out = seccomp_ops[i].op;
        return 0;
      }
  return error_set (err, ERROR_INVALID, EINVAL, "%s.op: unknown operator \"%s\"",
                    ctx, name);
}

static int
seccomp_add_archs (const seccomp_pass *ps, const json_t *sc, polis_error **err)
{
  json_t *archs = NULL;
  if (pjson_get_array (sc, "", "architectures", false, &archs, err) < 0)
    return -1;
  for (size_t i = 0; i < json_array_size (archs); i++)
    {
      const char *name = seccomp_string_at (archs, i);
      if (name == NULL)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "architectures[%zu]: expected a string", i);
      const seccomp_arch_name *a = NULL;
      for (size_t k = 0; k < SECCOMP_N (seccomp_archs); k++)
        if (strcmp (seccomp_archs[k].name, name) == 0)
          a = &seccomp_archs[k];
      if (a == NULL)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "architectures[%zu]: unknown architecture \"%s\"", i, name);
      if (a->arch == 0)
        {
          if (!ps->quiet)
            log_debug ("seccomp: architecture %s is unknown to libseccomp %u.%u.%u: skipped",
                       name, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
          continue;
        }
      if (ps->ctx == NULL)
        continue;
      int r = seccomp_arch_add (ps->ctx, a->arch);
      /* The native architecture is in every new context already. */
      if (r < 0 && r != -EEXIST)
        log_debug ("seccomp: cannot add architecture %s: %s: skipped", name,
                   strerror (-r));
    }
  return 0;
}

static int
seccomp_parse_flags (seccomp_filter *f, const json_t *sc, polis_error **err)
{
  json_t *flags = NULL;
  if (pjson_get_array (sc, "", "flags", false, &flags, err) < 0)
    return -1;
  for (size_t i = 0; i < json_array_size (flags); i++)
    {
      const char *name = seccomp_string_at (flags, i);
      if (name == NULL)
        return error_set (err, ERROR_INVALID, EINVAL, "flags[%zu]: expected a string", i);
      const seccomp_flag_name *fl = NULL;
      for (size_t k = 0; k < SECCOMP_N (seccomp_flags); k++)
        if (strcmp (seccomp_flags[k].name, name) == 0)
          fl = &seccomp_flags[k];
      if (fl == NULL)
        return error_set (err, ERROR_INVALID, EINVAL, "flags[%zu]: unknown flag \"%s\"",
                          i, name);
      if (!seccomp_kernel_has_flag (fl->flag))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "flags[%zu]: %s is not supported by this kernel", i, name);
      f->flags |= fl->flag;
    }
  return 0;
}

/* Add the rule(s) for syscall NR of NAME; CTX names the entry. */
static int
seccomp_add_rule (scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
                  const struct scmp_arg_cmp *conds, unsigned int n,
                  bool split, const char *ectx, polis_error **err)
{
  int r;
  if (!split)
    {
      r = seccomp_rule_add_array (ctx, action, nr, n, conds);
      if (r < 0)
        return error_set (err, ERROR_INVALID, -r, "%s: add rule for %s: %s", ectx,
                          name, strerror (-r));
      return 0;
    }
  for (unsigned int k = 0; k < n; k++)
    {
      r = seccomp_rule_add_array (ctx, action, nr, 1, &conds[k]);
      if (r < 0)
        return error_set (err, ERROR_INVALID, -r, "%s: add rule for %s: %s", ectx,
                          name, strerror (-r));
    }
  return 0;
}

static int
seccomp_add_syscall (const seccomp_pass *ps, const json_t *entry, size_t i,
                     polis_error **err)
{
  char ectx[SECCOMP_CTX_MAX];
  char actx[SECCOMP_CTX_MAX];
  struct scmp_arg_cmp conds[SECCOMP_MAX_CONDS];
  unsigned int per_index[SECCOMP_MAX_ARGS] = { 0 };
  unsigned int n = 0;
  bool split = false;
  uint32_t action;
  json_t *names = NULL, *args = NULL;

  seccomp_ctx (ectx, "", "syscalls", i);
  if (!json_is_object (entry))
    return error_set (err, ERROR_INVALID, EINVAL, "%s: expected an object", ectx);
  if (seccomp_parse_action (entry, ectx, "action", "errnoRet", &action, err) < 0)
    return -1;
  if (pjson_get_array (entry, ectx, "names", true, &names, err) < 0)
    return -1;
  if (json_array_size (names) == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "%s.names: must not be empty", ectx);
  if (pjson_get_array (entry, ectx, "args", false, &args, err) < 0)
    return -1;
  if (json_array_size (args) > SECCOMP_MAX_CONDS)
    return error_set (err, ERROR_INVALID, E2BIG, "%s.args: more than %d conditions",
                      ectx, SECCOMP_MAX_CONDS);
  for (size_t k = 0; k < json_array_size (args); k++)
    {
      json_t *arg = json_array_get (args, k);
      uint64_t index = 0, value = 0, value2 = 0;
      enum scmp_compare op = SCMP_CMP_EQ;
      seccomp_ctx (actx, ectx, "args", k);
      if (!json_is_object (arg))
        return error_set (err, ERROR_INVALID, EINVAL, "%s: expected an object", actx);
      if (pjson_get_uint64 (arg, actx, "index", true, SECCOMP_MAX_ARGS - 1, &index, err) < 0
          || pjson_get_uint64 (arg, actx, "value", true, UINT64_MAX, &value, err) < 0
          || pjson_get_uint64 (arg, actx, "valueTwo", false, UINT64_MAX, &value2, err) < 0
          || seccomp_parse_op (arg, actx, &op, err) < 0)
        return -1;
      conds[n++] = (struct scmp_arg_cmp) {
        .arg = (unsigned int) index, .op = op, .datum_a = value, .datum_b = value2
      };
      if (++per_index[index] > 1)
        split = true;
    }

  if (action == SCMP_ACT_NOTIFY)
    ps->f->notify = true;
  for (size_t k = 0; k < json_array_size (names); k++)
    {
      const char *name = seccomp_string_at (names, k);
      if (name == NULL)
        return error_set (err, ERROR_INVALID, EINVAL, "%s.names[%zu]: expected a string",
                          ectx, k);
      /* The runtime hands the listener to the agent with sendmsg after
         the filter is in: notifying it would wait for an agent that
         cannot answer yet (runc refuses `write` for the same reason). */
      if (action == SCMP_ACT_NOTIFY && strcmp (name, "sendmsg") == 0)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s.names[%zu]: SCMP_ACT_NOTIFY cannot be used for sendmsg, "
                          "which passes the listener to the seccomp agent",
                          ectx, k);
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        {
          if (!ps->quiet)
            log_debug ("seccomp: unknown syscall \"%s\" (%s.names[%zu]): skipped",
                       name, ectx, k);
          continue;
        }
      /* libseccomp refuses a rule that does what the default does. */
      if (action == ps->def || ps->ctx == NULL)
        continue;
      if (seccomp_add_rule (ps->ctx, action, nr, name, conds, n, split, ectx, err) < 0)
        return -1;
    }
  return 0;
}

/* Export CTX's BPF program into F. */
static int
seccomp_export (seccomp_filter *f, scmp_filter_ctx ctx, polis_error **err)
{
  cleanup_close int fd = memfd_create ("polis-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "memfd_create");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return error_sys_code (err, -r, "generate the seccomp program");
  struct stat st;
  if (fstat (fd, &st) < 0)
    return error_sys (err, "stat the seccomp program");
  size_t size = (size_t) st.st_size;
  if (size == 0 || size % sizeof (struct sock_filter) != 0)
    return error_set (err, ERROR_INTERNAL, EINVAL, "libseccomp exported %zu bytes", size);
  size_t len = size / sizeof (struct sock_filter);
  if (len > SECCOMP_MAX_INSNS)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "the filter has %zu instructions, more than the kernel's %d",
                      len, SECCOMP_MAX_INSNS);
  cleanup_free struct sock_filter *prog = xmalloc (size);
  ssize_t got = pread (fd, prog, size, 0);
  if (got != (ssize_t) size)
    return error_sys (err, "read the seccomp program");
  f->prog = steal_pointer (&prog);
  f->len = (unsigned short) len;
  return 0;
}

/* A pass over the architectures and the rules. */
static int
seccomp_run_pass (const seccomp_pass *ps, const json_t *sc, const json_t *syscalls,
                  polis_error **err)
{
  if (seccomp_add_archs (ps, sc, err) < 0)
    return -1;
  for (size_t i = 0; i < json_array_size (syscalls); i++)
    if (seccomp_add_syscall (ps, json_array_get (syscalls, i), i, err) < 0)
      return -1;
  return 0;
}

/* Build the libseccomp context of a validated profile and export it. */
static int
seccomp_generate (seccomp_filter *f, uint32_t def, const json_t *sc,
                  const json_t *syscalls, bool quiet, polis_error **err)
{
  cleanup_scmp scmp_filter_ctx ctx = seccomp_init (def);
  if (ctx == NULL)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "defaultAction: libseccomp refuses it (not supported by this kernel?)");
  seccomp_pass ps = { .f = f, .ctx = ctx, .def = def, .quiet = quiet };
  if (seccomp_run_pass (&ps, sc, syscalls, err) < 0)
    return -1;
  return seccomp_export (f, ctx, err);
}

seccomp_filter *
seccomp_compile_cached (const json_t *sc, int cache_rootfd, polis_error **err)
{
  uint32_t def;
  json_t *syscalls = NULL;
  const char *path = NULL, *metadata = NULL;

  if (!json_is_object (sc))
    {
      error_set (err, ERROR_INVALID, EINVAL, "expected an object");
      return NULL;
    }
  if (seccomp_parse_action (sc, "", "defaultAction", "defaultErrnoRet", &def, err) < 0)
    return NULL;
  if (def == SCMP_ACT_NOTIFY)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
      return NULL;
    }
  if (pjson_get_string (sc, "", "listenerPath", false, &path, err) < 0
      || pjson_get_string (sc, "", "listenerMetadata", false, &metadata, err) < 0
      || pjson_get_array (sc, "", "syscalls", false, &syscalls, err) < 0)
    return NULL;
  if (metadata && (path == NULL || *path == '\0'))
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "listenerMetadata: set without listenerPath");
      return NULL;
    }

  cleanup_seccomp seccomp_filter *f = xzalloc (sizeof *f);
  if (seccomp_parse_flags (f, sc, err) < 0)
    return NULL;

  /* With a cache, validate first (cheap), then look the program up;
     without, validation and generation are one pass. */
  cleanup_free char *key = NULL;
  if (cache_rootfd >= 0)
    {
      seccomp_pass check = { .f = f, .ctx = NULL, .def = def };
      if (seccomp_run_pass (&check, sc, syscalls, err) < 0)
        return NULL;
      cleanup_free char *text = pjson_dump (sc);
      key = seccomp_cache_key (text, strlen (text));
      size_t size = 0;
      f->prog = seccomp_cache_get (cache_rootfd, key,
                                   SECCOMP_MAX_INSNS * sizeof (struct sock_filter), &size);
      if (f->prog && (size == 0 || size % sizeof (struct sock_filter) != 0))
        {
          free (f->prog);
          f->prog = NULL;
        }
      if (f->prog)
        {
          f->len = (unsigned short) (size / sizeof (struct sock_filter));
          log_debug ("seccomp: program of %u instructions from the cache", f->len);
        }
    }
  if (f->prog == NULL)
    {
      if (seccomp_generate (f, def, sc, syscalls, cache_rootfd >= 0, err) < 0)
        return NULL;
      if (cache_rootfd >= 0)
        seccomp_cache_put (cache_rootfd, key, f->prog,
                           f->len * sizeof (struct sock_filter));
    }

  if (f->notify)
    {
      if (path == NULL || *path == '\0')
        {
          error_set (err, ERROR_INVALID, EINVAL,
                     "listenerPath: SCMP_ACT_NOTIFY needs a seccomp agent to listen there");
          return NULL;
        }
      f->listener_path = xstrdup (path);
      f->metadata = metadata ? xstrdup (metadata) : NULL;
    }
  else if (f->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    {
      /* The kernel refuses the flag without a listener; without notify
         rules it has nothing to act on. */
      log_debug ("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV without "
                 "SCMP_ACT_NOTIFY rules: ignored");
      f->flags &= ~(unsigned int) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
  return steal_pointer (&f);
}

seccomp_filter *
seccomp_compile (const json_t *sc, polis_error **err)
{
  return seccomp_compile_cached (sc, -1, err);
}

int
seccomp_filter_load (const seccomp_filter *f, int *listener, polis_error **err)
{
  struct sock_fprog prog = { .len = f->len, .filter = f->prog };
  unsigned int flags = f->flags;

  *listener = -1;
  if (f->notify)
    {
      flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      /* TSYNC reports a failing thread by its id, which cannot be told
         from a listener fd: the kernel insists on ESRCH instead. */
      if (flags & SECCOMP_FILTER_FLAG_TSYNC)
        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  long r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  /* Kernels before 3.17 only have the prctl, which takes no flags. */
  if (r < 0 && errno == ENOSYS && flags == 0)
    r = prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  if (r < 0)
    return error_sys (err, "load the seccomp filter");
  if (f->notify)
    *listener = (int) r;
  else if (r > 0)
    return error_set (err, ERROR_INTERNAL, ESRCH,
                      "load the seccomp filter: thread %ld could not be synchronised", r);
  return 0;
}

const char *
seccomp_listener_path (const seccomp_filter *f)
{
  return f && f->notify ? f->listener_path : NULL;
}

int
seccomp_agent_connect (const char *path, polis_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  size_t n = strlen (path);
  if (n == 0 || n >= sizeof addr.sun_path)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG,
                      "seccomp agent `%s`: a unix socket path must have 1 to %zu bytes",
                      path, sizeof addr.sun_path - 1);
  memcpy (addr.sun_path, path, n);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return error_sys (err, "socket");
  int r;
  do
    r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return error_sys (err, "connect to the seccomp agent at `%s`", path);
  return move_fd (fd);
}

char *
seccomp_agent_document (const seccomp_filter *f, pid_t pid, const char *state_json,
                        polis_error **err)
{
  cleanup_json json_t *state = pjson_parse (state_json, strlen (state_json),
                                            "container state", err);
  if (state == NULL)
    return NULL;
  cleanup_json json_t *doc = json_pack ("{s:s, s:[s], s:I, s:O}", "ociVersion",
                                        POLIS_OCI_VERSION, "fds", "seccompFd", "pid",
                                        (json_int_t) pid, "state", state);
  if (f->metadata)
    json_object_set_new (doc, "metadata", json_string (f->metadata));
  return pjson_dump (doc);
}

int
seccomp_send_listener (int sock, int listener, const char *doc, polis_error **err)
{
  size_t len = strlen (doc), off = 0;
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (sizeof (int))];
  } control;
  memset (&control, 0, sizeof control);

  /* The fd travels with the first bytes; the rest follows plainly, as
     the spec allows. */
  while (off < len)
    {
      struct iovec iov = { .iov_base = (char *) doc + off, .iov_len = len - off };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
      if (off == 0)
        {
          msg.msg_control = control.buf;
          msg.msg_controllen = sizeof control.buf;
          struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
          c->cmsg_level = SOL_SOCKET;
          c->cmsg_type = SCM_RIGHTS;
          c->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (c), &listener, sizeof (int));
        }
      ssize_t w = sendmsg (sock, &msg, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return error_sys (err, "send the seccomp listener to the agent");
      off += (size_t) w;
    }
  shutdown (sock, SHUT_RDWR);
  return 0;
}

int
seccomp_apply (const seccomp_filter *f, int agent_sock, pid_t pid,
               const char *state_json, polis_error **err)
{
  cleanup_free char *doc = NULL;
  cleanup_close int listener = -1;

  if (f->notify)
    {
      if (agent_sock < 0)
        return error_set (err, ERROR_INTERNAL, EINVAL,
                          "seccomp: no connection to the agent for the listener");
      doc = seccomp_agent_document (f, pid, state_json ? state_json : "{}", err);
      if (doc == NULL)
        return -1;
    }
  if (seccomp_filter_load (f, &listener, err) < 0)
    return -1;
  if (listener >= 0)
    return seccomp_send_listener (agent_sock, listener, doc, err);
  return 0;
}

json_t *
seccomp_features (void)
{
  /* PR_GET_SECCOMP fails with EINVAL on a kernel without seccomp. */
  bool enabled = prctl (PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  json_t *actions = json_array ();
  for (size_t i = 0; i < SECCOMP_N (seccomp_actions); i++)
    json_array_append_new (actions, json_string (seccomp_actions[i].name));
  json_t *ops = json_array ();
  for (size_t i = 0; i < SECCOMP_N (seccomp_ops); i++)
    json_array_append_new (ops, json_string (seccomp_ops[i].name));
  json_t *archs = json_array ();
  for (size_t i = 0; i < SECCOMP_N (seccomp_archs); i++)
    if (seccomp_archs[i].arch)
      json_array_append_new (archs, json_string (seccomp_archs[i].name));
  json_t *known = json_array ();
  json_t *supported = json_array ();
  for (size_t i = 0; i < SECCOMP_N (seccomp_flags); i++)
    {
      json_array_append_new (known, json_string (seccomp_flags[i].name));
      if (enabled && seccomp_kernel_has_flag (seccomp_flags[i].flag))
        json_array_append_new (supported, json_string (seccomp_flags[i].name));
    }
  return json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", enabled, "actions",
                    actions, "operators", ops, "archs", archs, "knownFlags", known,
                    "supportedFlags", supported);
}
