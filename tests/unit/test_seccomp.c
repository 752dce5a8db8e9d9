/* Unit tests for runtime/seccomp.c: compile errors name their field, and
   compiled filters do what the profile says once loaded (in a forked
   child, so that the test process itself stays unfiltered). */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_cache.h"

static json_t *
parse (const char *doc)
{
  json_error_t jerr;
  json_t *j = json_loads (doc, 0, &jerr);
  if (j == NULL)
    fail_msg ("bad test JSON: %s: %s", jerr.text, doc);
  return j;
}

static seccomp_filter *
compile_ok (const char *doc)
{
  polis_error *err = NULL;
  cleanup_json json_t *j = parse (doc);
  seccomp_filter *f = seccomp_compile (j, &err);
  if (f == NULL)
    fail_msg ("compile failed: %s\n%s", err->msg, doc);
  return f;
}

static void
expect_error (const char *doc, const char *message)
{
  polis_error *err = NULL;
  cleanup_json json_t *j = parse (doc);
  seccomp_filter *f = seccomp_compile (j, &err);
  if (f != NULL)
    fail_msg ("compiled, but should fail with `%s`:\n%s", message, doc);
  assert_non_null (err);
  if (strstr (err->msg, message) == NULL)
    fail_msg ("error `%s` does not say `%s`", err->msg, message);
  assert_int_equal (err->cls, ERROR_INVALID);
  error_free (&err);
}

/* End a forked child at once: _exit() would run the sanitizers' leak
   check, which needs system calls the filter under test may refuse.  Not
   declared noreturn either: ASan prepares for those with sigaltstack(). */
static void
child_exit (int code)
{
  syscall (SYS_exit_group, code);
}

/* Fork; the child loads F (with no_new_privs, as an unprivileged caller
   must) and exits with FN's result.  Returns the raw wait status. */
static int
run_filtered (const seccomp_filter *f, int (*fn) (void))
{
  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      polis_error *err = NULL;
      int listener;
      /* cmocka catches SIGSYS to report a crash: TRAP's must kill. */
      signal (SIGSYS, SIG_DFL);
      /* KILL and TRAP dump core by default: not into the build tree. */
      struct rlimit nocore = { 0, 0 };
      setrlimit (RLIMIT_CORE, &nocore);
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_exit (200);
      if (seccomp_filter_load (f, &listener, &err) < 0)
        {
          fprintf (stderr, "load: %s\n", err->msg);
          child_exit (201);
        }
      child_exit (fn ());
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    assert_int_equal (errno, EINTR);
  return status;
}

static void
expect_exit (int status, int code)
{
  if (!WIFEXITED (status))
    fail_msg ("child did not exit: status 0x%x (signal %d)", status,
              WIFSIGNALED (status) ? WTERMSIG (status) : 0);
  assert_int_equal (WEXITSTATUS (status), code);
}

/* errno of syscall NR with up to two arguments, 0 on success. */
static int
errno_of (long nr, long a, long b)
{
  errno = 0;
  long r = syscall (nr, a, b, 0, 0, 0, 0);
  return r < 0 ? errno : 0;
}

/* Numbers above PID_MAX_LIMIT (4194304): no process has them, so where
   no rule matches the kernel says ESRCH. */
#define NO_PID_1 5000001
#define NO_PID_2 6000002

static void
test_errors_name_fields (void **state)
{
  (void) state;
  expect_error ("[]", "expected an object");
  expect_error ("{}", "defaultAction: missing");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_FOO\"}",
                "defaultAction: unknown action \"SCMP_ACT_FOO\"");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_FOO\"}]}",
                "syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
                "syscalls: expected an array");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[7]}",
                "syscalls[0]: expected an object");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                "[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
                "syscalls[0].names: missing");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                "[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                "syscalls[0].names: must not be empty");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                "[{\"names\":[\"read\",3],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                "syscalls[0].names[1]: expected a string");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
                "[{\"names\":[\"read\"]}]}",
                "syscalls[0].action: missing");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                "\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
                "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,"
                "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0].args[0].index: expected an unsigned integer in range");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0].args[0].value: missing");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                "\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0].args[0].value: expected an unsigned integer");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":5}]}",
                "syscalls[0].errnoRet: not allowed with action SCMP_ACT_ALLOW");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":70000}]}",
                "syscalls[0].errnoRet: expected an unsigned integer in range");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_KILL\",\"defaultErrnoRet\":1}",
                "defaultErrnoRet: not allowed with action SCMP_ACT_KILL");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}",
                "defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                "[\"SCMP_ARCH_X86\",\"SCMP_ARCH_FOO\"]}",
                "architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":"
                "[\"SECCOMP_FILTER_FLAG_FOO\"]}",
                "flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"getpid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                "listenerPath: SCMP_ACT_NOTIFY needs a seccomp agent");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"x\"}",
                "listenerMetadata: set without listenerPath");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/a\","
                "\"syscalls\":[{\"names\":[\"getpid\",\"sendmsg\"],"
                "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                "syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for sendmsg");
}

static int
child_docker_profile (void)
{
  /* keyctl is in no rule of the profile: the default, EPERM. */
  if (errno_of (SYS_keyctl, 0, 0) != EPERM)
    return 1;
  if (errno_of (SYS_getpid, 0, 0) != 0)
    return 2;
  /* An ordinary program's system calls still work. */
  char buf[16];
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read (fd, buf, sizeof buf) <= 0 || close (fd) < 0)
    return 3;
  return 0;
}

static void
test_docker_default_profile (void **state)
{
  (void) state;
  polis_error *err = NULL;
  cleanup_json json_t *j
      = pjson_load_file_at (AT_FDCWD, POLIS_TEST_DATA "/seccomp-default.json",
                            1u << 20, &err);
  if (j == NULL)
    fail_msg ("%s", err->msg);
  /* Docker's own keys (archMap, includes, excludes) are not OCI: they
     are ignored, as runc and crun ignore them. */
  cleanup_seccomp seccomp_filter *f = seccomp_compile (j, &err);
  if (f == NULL)
    fail_msg ("%s", err->msg);
  expect_exit (run_filtered (f, child_docker_profile), 0);

  /* The way dockerd sends it: with the architectures of its archMap. */
  json_object_set_new (j, "architectures",
                       json_pack ("[s,s,s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                  "SCMP_ARCH_X32"));
  cleanup_seccomp seccomp_filter *f2 = seccomp_compile (j, &err);
  if (f2 == NULL)
    fail_msg ("%s", err->msg);
  expect_exit (run_filtered (f2, child_docker_profile), 0);
}

static int
child_unknown_skipped (void)
{
  return errno_of (SYS_getppid, 0, 0) == EPERM ? 0 : 1;
}

static void
test_unknown_syscall_skipped (void **state)
{
  (void) state;
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
      "[\"no_such_syscall\",\"getppid\",\"another_unknown_one\"],"
      "\"action\":\"SCMP_ACT_ERRNO\"}]}");
  expect_exit (run_filtered (f, child_unknown_skipped), 0);
}

static int
child_errno_ret (void)
{
  if (errno_of (SYS_getppid, 0, 0) != 42)
    return 1;
  /* TRACE without a tracer fails the call with ENOSYS. */
  if (errno_of (SYS_getpgid, 0, 0) != ENOSYS)
    return 2;
  if (errno_of (SYS_getsid, 0, 0) != EPERM)
    return 3;
  return 0;
}

static void
test_errno_ret (void **state)
{
  (void) state;
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42},"
      "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":1},"
      "{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
  expect_exit (run_filtered (f, child_errno_ret), 0);
}

static int
child_default_errno (void)
{
  if (errno_of (SYS_getppid, 0, 0) != 0)
    return 1;
  if (errno_of (SYS_getpgid, 0, 0) != ENOSPC)
    return 2;
  return 0;
}

static void
test_default_errno_allow_list (void **state)
{
  (void) state;
  /* An allow-list: everything a child needs to run and exit. */
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":28,"
      "\"syscalls\":[{\"names\":[\"getppid\",\"exit\",\"exit_group\",\"write\"],"
      "\"action\":\"SCMP_ACT_ALLOW\"}]}");
  expect_exit (run_filtered (f, child_default_errno), 0);
}

static int
child_same_arg (void)
{
  /* Conditions on one argument are OR-ed (runc, crun). */
  if (errno_of (SYS_getpgid, NO_PID_1, 0) != 77 || errno_of (SYS_getpgid, NO_PID_2, 0) != 77)
    return 1;
  if (errno_of (SYS_getpgid, NO_PID_1 + 1, 0) != ESRCH)
    return 2;
  for (long v = 7000001; v <= 7000008; v++)
    if (errno_of (SYS_getsid, v, 0) != 80)
      return 8;
  if (errno_of (SYS_getsid, 7000009, 0) != ESRCH)
    return 9;
  /* Conditions on different arguments are AND-ed. */
  if (errno_of (SYS_getpriority, PRIO_PROCESS, 4242) != 78)
    return 3;
  if (errno_of (SYS_getpriority, PRIO_PGRP, 4242) != ESRCH)
    return 4;
  if (errno_of (SYS_getpriority, PRIO_PROCESS, 0) != 0)
    return 5;
  /* MASKED_EQ: value is the mask, valueTwo what the masked bits equal. */
  if (errno_of (SYS_getsid, 0x1234, 0) != 79)
    return 6;
  if (errno_of (SYS_getsid, 0, 0) != 0)
    return 7;
  return 0;
}

static void
test_arg_conditions (void **state)
{
  (void) state;
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
      "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77,"
      "\"args\":[{\"index\":0,\"value\":5000001,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":6000002,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":78,"
      "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":1,\"value\":4242,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":80,\"args\":["
      /* More conditions than arguments, all on one. */
      "{\"index\":0,\"value\":7000001,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000002,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000003,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000004,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000005,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000006,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000007,\"op\":\"SCMP_CMP_EQ\"},"
      "{\"index\":0,\"value\":7000008,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":79,"
      "\"args\":[{\"index\":0,\"value\":65280,\"valueTwo\":4608,"
      "\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
  expect_exit (run_filtered (f, child_same_arg), 0);
}

static int
child_operators (void)
{
  if (errno_of (SYS_getpgid, NO_PID_1, 0) != 91)    /* LT 5500000 */
    return 1;
  if (errno_of (SYS_getpgid, 7000001, 0) != 94)     /* GT 7000000 */
    return 2;
  if (errno_of (SYS_getpgid, 7000000, 0) != ESRCH)
    return 3;
  if (errno_of (SYS_getsid, NO_PID_1, 0) != 92)     /* LE 5000001 */
    return 4;
  if (errno_of (SYS_getsid, 5000002, 0) != ESRCH)
    return 5;
  if (errno_of (SYS_getsid, 8000000, 0) != 93)      /* GE 8000000 */
    return 6;
  if (errno_of (SYS_getpriority, PRIO_PGRP, 0) != 95) /* NE 0 */
    return 7;
  if (errno_of (SYS_getpriority, PRIO_PROCESS, 0) != 0)
    return 8;
  return 0;
}

static void
test_operators (void **state)
{
  (void) state;
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
      "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":91,"
      "\"args\":[{\"index\":0,\"value\":5500000,\"op\":\"SCMP_CMP_LT\"}]},"
      "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":94,"
      "\"args\":[{\"index\":0,\"value\":7000000,\"op\":\"SCMP_CMP_GT\"}]},"
      "{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":92,"
      "\"args\":[{\"index\":0,\"value\":5000001,\"op\":\"SCMP_CMP_LE\"},"
      "{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":93,"
      "\"args\":[{\"index\":0,\"value\":8000000,\"op\":\"SCMP_CMP_GE\"}]},"
      "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":95,"
      "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_NE\"}]}]}");
  expect_exit (run_filtered (f, child_operators), 0);
}

static int
child_errno_ret_42 (void)
{
  return errno_of (SYS_getppid, 0, 0) == 42 ? 0 : 1;
}

static int
child_calls_getppid (void)
{
  syscall (SYS_getppid);
  return 0;
}

static void
test_kill_and_trap (void **state)
{
  (void) state;
  static const char *const actions[]
      = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
          "SCMP_ACT_TRAP" };
  for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
    {
      char doc[256];
      snprintf (doc, sizeof doc,
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                "[\"getppid\"],\"action\":\"%s\"}]}",
                actions[i]);
      cleanup_seccomp seccomp_filter *f = compile_ok (doc);
      int status = run_filtered (f, child_calls_getppid);
      if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGSYS)
        fail_msg ("%s: status 0x%x, wanted death by SIGSYS", actions[i], status);
    }
}

static int
child_log_allowed (void)
{
  return errno_of (SYS_getppid, 0, 0);
}

static void
test_log_flags_and_default_skip (void **state)
{
  (void) state;
  /* A rule with the default action is dropped (libseccomp refuses it);
     LOG allows; the flags the kernel has are accepted. */
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
      "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
      "\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
      "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_LOG\"}]}");
  expect_exit (run_filtered (f, child_log_allowed), 0);
}

static void
test_unaddable_arch_skipped (void **state)
{
  (void) state;
  /* In the spec, unknown to libseccomp 2.5: skipped, not fatal. */
  cleanup_seccomp seccomp_filter *f = compile_ok (
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
      "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_LOONGARCH64\",\"SCMP_ARCH_M68K\"],"
      "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
      "\"errnoRet\":42}]}");
  expect_exit (run_filtered (f, child_errno_ret_42), 0);
}

static void
test_features (void **state)
{
  (void) state;
  cleanup_json json_t *j = seccomp_features ();
  assert_true (json_is_true (json_object_get (j, "enabled")));
  static const char *const want[][2] = {
    { "actions", "SCMP_ACT_KILL" },         { "actions", "SCMP_ACT_KILL_PROCESS" },
    { "actions", "SCMP_ACT_KILL_THREAD" },  { "actions", "SCMP_ACT_TRAP" },
    { "actions", "SCMP_ACT_ERRNO" },        { "actions", "SCMP_ACT_TRACE" },
    { "actions", "SCMP_ACT_ALLOW" },        { "actions", "SCMP_ACT_LOG" },
    { "actions", "SCMP_ACT_NOTIFY" },       { "operators", "SCMP_CMP_NE" },
    { "operators", "SCMP_CMP_LT" },         { "operators", "SCMP_CMP_LE" },
    { "operators", "SCMP_CMP_EQ" },         { "operators", "SCMP_CMP_GE" },
    { "operators", "SCMP_CMP_GT" },         { "operators", "SCMP_CMP_MASKED_EQ" },
    { "archs", "SCMP_ARCH_X86_64" },        { "archs", "SCMP_ARCH_X86" },
    { "archs", "SCMP_ARCH_AARCH64" },       { "knownFlags", "SECCOMP_FILTER_FLAG_TSYNC" },
    { "knownFlags", "SECCOMP_FILTER_FLAG_LOG" },
    { "knownFlags", "SECCOMP_FILTER_FLAG_SPEC_ALLOW" },
    { "knownFlags", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" },
    /* Every kernel since 4.17 has these three. */
    { "supportedFlags", "SECCOMP_FILTER_FLAG_TSYNC" },
    { "supportedFlags", "SECCOMP_FILTER_FLAG_LOG" },
    { "supportedFlags", "SECCOMP_FILTER_FLAG_SPEC_ALLOW" },
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    {
      json_t *arr = json_object_get (j, want[i][0]);
      bool found = false;
      size_t k;
      json_t *v;
      assert_true (json_is_array (arr));
      json_array_foreach (arr, k, v)
        found |= strcmp (json_string_value (v), want[i][1]) == 0;
      if (!found)
        fail_msg ("features: %s lacks %s", want[i][0], want[i][1]);
    }
  /* Only what libseccomp 2.5 can add is listed. */
  json_t *archs = json_object_get (j, "archs");
  size_t k;
  json_t *v;
  json_array_foreach (archs, k, v)
    assert_string_not_equal (json_string_value (v), "SCMP_ARCH_LOONGARCH64");
  assert_true (json_array_size (json_object_get (j, "supportedFlags"))
               <= json_array_size (json_object_get (j, "knownFlags")));
}

static int
child_notify_agent (void)
{
  /* The agent answers getppid with ENOTBLK. */
  return errno_of (SYS_getppid, 0, 0) == ENOTBLK ? 0 : 1;
}

/* Is NAME in the supportedFlags of the features document? */
static bool
kernel_has_flag (const char *name)
{
  cleanup_json json_t *j = seccomp_features ();
  size_t k;
  json_t *v;
  json_array_foreach (json_object_get (j, "supportedFlags"), k, v)
    if (strcmp (json_string_value (v), name) == 0)
      return true;
  return false;
}

static void
notify_listener_to_agent (const char *flags)
{
  int sp[2];
  char profile[512];
  snprintf (profile, sizeof profile,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\","
            "\"listenerMetadata\":\"hello agent\",\"flags\":[%s],\"syscalls\":"
            "[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
            flags);
  cleanup_seccomp seccomp_filter *f = compile_ok (profile);
  assert_string_equal (seccomp_listener_path (f), "/run/agent.sock");
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);

  fflush (NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      polis_error *err = NULL;
      close (sp[0]);
      prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      if (seccomp_apply (f, sp[1], 4321, "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\","
                                         "\"status\":\"creating\",\"pid\":4321}",
                         &err)
          < 0)
        {
          fprintf (stderr, "apply: %s\n", err->msg);
          child_exit (201);
        }
      child_exit (child_notify_agent ());
    }
  close (sp[1]);

  /* The agent's side: one message with the fd, then EOF. */
  char buf[4096];
  size_t got = 0;
  int listener = -1;
  for (;;)
    {
      union
      {
        struct cmsghdr h;
        char b[CMSG_SPACE (sizeof (int))];
      } control;
      struct iovec iov = { .iov_base = buf + got, .iov_len = sizeof buf - 1 - got };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.b, .msg_controllen = sizeof control.b };
      ssize_t r = recvmsg (sp[0], &msg, MSG_CMSG_CLOEXEC);
      assert_true (r >= 0);
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy (&listener, CMSG_DATA (c), sizeof (int));
      if (r == 0)
        break;
      got += (size_t) r;
    }
  buf[got] = '\0';
  close (sp[0]);
  assert_true (listener >= 0);
  cleanup_json json_t *doc = parse (buf);
  assert_string_equal (json_string_value (json_object_get (doc, "ociVersion")), "1.2.0");
  assert_string_equal (json_string_value (json_array_get (json_object_get (doc, "fds"), 0)),
                       "seccompFd");
  assert_int_equal (json_integer_value (json_object_get (doc, "pid")), 4321);
  assert_string_equal (json_string_value (json_object_get (doc, "metadata")), "hello agent");
  assert_string_equal (
      json_string_value (json_object_get (json_object_get (doc, "state"), "id")), "c1");

  /* Answer the child's getppid. */
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset (&req, 0, sizeof req);
  assert_int_equal (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
  assert_int_equal (req.data.nr, SYS_getppid);
  memset (&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -ENOTBLK;
  assert_int_equal (ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
  close (listener);

  int status;
  while (waitpid (pid, &status, 0) < 0)
    assert_int_equal (errno, EINTR);
  expect_exit (status, 0);
}

static void
test_notify_listener_to_agent (void **state)
{
  (void) state;
  notify_listener_to_agent ("");
  /* TSYNC with a listener needs TSYNC_ESRCH from us; WAIT_KILLABLE_RECV
     needs the listener. */
  if (kernel_has_flag ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
    notify_listener_to_agent ("\"SECCOMP_FILTER_FLAG_TSYNC\","
                              "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"");
  else
    notify_listener_to_agent ("\"SECCOMP_FILTER_FLAG_TSYNC\"");
}

static void
test_cache (void **state)
{
  (void) state;
  char dir[] = "/tmp/polis-seccomp-test.XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_close int rootfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (rootfd >= 0);
  const char *doc = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                    "[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
  cleanup_json json_t *j = parse (doc);
  polis_error *err = NULL;

  /* A miss compiles and stores; the file holds the key, then the program. */
  cleanup_seccomp seccomp_filter *f1 = seccomp_compile_cached (j, rootfd, &err);
  assert_non_null (f1);
  cleanup_free char *text = pjson_dump (j);
  cleanup_free char *key = seccomp_cache_key (text, strlen (text));
  char name[32];
  seccomp_cache_name (key, name);
  cleanup_free char *path = NULL;
  assert_true (asprintf (&path, "%s/%s/%s", dir, SECCOMP_CACHE_DIR, name) > 0);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);

  /* A hit gives a filter that works the same. */
  cleanup_seccomp seccomp_filter *f2 = seccomp_compile_cached (j, rootfd, &err);
  assert_non_null (f2);
  expect_exit (run_filtered (f2, child_errno_ret_42), 0);

  /* An entry under our name that holds another key (a hash collision, or
     a stale file) is a miss, never someone else's program. */
  assert_int_equal (file_write_atomic (path, "other key\0garbage!", 18, 0600, &err), 0);
  cleanup_seccomp seccomp_filter *f3 = seccomp_compile_cached (j, rootfd, &err);
  assert_non_null (f3);
  expect_exit (run_filtered (f3, child_errno_ret_42), 0);

  /* An invalid profile is refused before the cache is consulted. */
  cleanup_json json_t *bad = parse ("{\"defaultAction\":\"SCMP_ACT_FOO\"}");
  assert_null (seccomp_compile_cached (bad, rootfd, &err));
  assert_non_null (err);
  error_free (&err);

  assert_int_equal (file_remove_tree_at (AT_FDCWD, dir, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_errors_name_fields),
    cmocka_unit_test (test_docker_default_profile),
    cmocka_unit_test (test_unknown_syscall_skipped),
    cmocka_unit_test (test_errno_ret),
    cmocka_unit_test (test_default_errno_allow_list),
    cmocka_unit_test (test_arg_conditions),
    cmocka_unit_test (test_operators),
    cmocka_unit_test (test_kill_and_trap),
    cmocka_unit_test (test_log_flags_and_default_skip),
    cmocka_unit_test (test_unaddable_arch_skipped),
    cmocka_unit_test (test_features),
    cmocka_unit_test (test_notify_listener_to_agent),
    cmocka_unit_test (test_cache),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
