/* Unit tests for cli/gotemplate.c: the Go-template subset of --format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "cli/gotemplate.h"

static const char data[]
    = "{\"Name\":\"/web\",\"State\":{\"Status\":\"running\",\"Pid\":42,"
      "\"Running\":true,\"Health\":null},\"Config\":{\"Env\":[\"A=1\",\"B=2\"],"
      "\"Labels\":{\"tier\":\"web\",\"x.y\":\"<z>\"},\"Cmd\":[\"sh\",\"-c\",\"x\"]},"
      "\"Ports\":{},\"Count\":3,\"Ratio\":0.5,\"Empty\":\"\"}";

/* Run TPL over the sample data and compare with WANT (NULL: must fail). */
static void
check (const char *tpl, bool strict, const char *want)
{
  cleanup_json json_t *d = json_loads (data, 0, NULL);
  cleanup_error polis_error *err = NULL;
  cleanup_gotemplate gotemplate *t = gotemplate_parse (tpl, &err);
  if (t == NULL)
    {
      if (want != NULL)
        fail_msg ("parse %s: %s", tpl, err->msg);
      return;
    }
  cleanup_free char *out = NULL;
  int r = gotemplate_exec (t, d, strict, &out, &err);
  if (want == NULL)
    {
      assert_int_equal (r, -1);
      assert_non_null (err);
      return;
    }
  if (r < 0)
    fail_msg ("exec %s: %s", tpl, err->msg);
  if (strcmp (out, want) != 0)
    fail_msg ("%s: got [%s] want [%s]", tpl, out, want);
}

static void
test_fields (void **state)
{
  (void) state;
  check ("{{.Name}}", false, "/web");
  check ("{{.State.Status}} {{.State.Pid}} {{.State.Running}}", false, "running 42 true");
  check ("{{.Config.Env}}", false, "[A=1 B=2]");
  check ("{{.Config.Labels}}", false, "map[tier:web x.y:<z>]");
  check ("{{.State}}", false, "{running 42 true <nil>}");
  check ("{{.Ports}}", false, "map[]");
  check ("{{.Ratio}}", false, "0.5");
  check ("{{.State.Health}}", false, "<nil>");
  check ("{{.Missing}}", false, "<no value>");
  check ("{{.Missing}}", true, NULL);
  check ("{{.State.Nope.Deeper}}", false, "<no value>");
  check ("plain text", false, "plain text");
  check ("{{/* a comment */}}x", false, "x");
  check ("a  {{- .Name -}}  b", false, "a/webb");
}

static void
test_functions (void **state)
{
  (void) state;
  check ("{{json .Config.Labels}}", false, "{\"tier\":\"web\",\"x.y\":\"\\u003cz\\u003e\"}");
  check ("{{json .Config.Cmd}}", false, "[\"sh\",\"-c\",\"x\"]");
  check ("{{index .Config.Labels \"tier\"}}", false, "web");
  check ("{{index .Config.Env 1}}", false, "B=2");
  check ("{{index .Config.Env 5}}", false, NULL);
  check ("{{index \"a=1,tier=web\" \"tier\"}}|{{index \"a=1\" \"b\"}}", false, "web|<no value>");
  check ("{{join .Config.Env \",\"}}", false, "A=1,B=2");
  check ("{{len .Config.Env}} {{len .Name}}", false, "2 4");
  check ("{{upper .State.Status}} {{lower \"AB\"}} {{title \"ab cd\"}}", false, "RUNNING ab Ab Cd");
  check ("{{split \"a:b:c\" \":\"}}", false, "[a b c]");
  check ("{{.Name | printf \"%-6s|\"}}", false, "/web  |");
  check ("{{printf \"%s=%d\" \"n\" .Count}}", false, "n=3");
  check ("{{truncate .State.Status 3}}", false, "run");
  check ("{{slice .Name 1}}", false, "web");
  check ("{{println .Name}}", false, "/web\n");
  check ("{{nosuchfunc .Name}}", false, NULL);
  check ("{{.Name \"arg\"}}", true, NULL);
}

static void
test_control (void **state)
{
  (void) state;
  check ("{{if .State.Running}}up{{else}}down{{end}}", false, "up");
  check ("{{if .Empty}}x{{else if eq .Count 3}}three{{else}}y{{end}}", false, "three");
  check ("{{if and .State.Running (gt .Count 2)}}ok{{end}}", false, "ok");
  check ("{{if not .Empty}}empty{{end}}", false, "empty");
  check ("{{range .Config.Env}}[{{.}}]{{end}}", false, "[A=1][B=2]");
  check ("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}", false, "0:A=1 1:B=2 ");
  check ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", false, "tier=web;x.y=<z>;");
  check ("{{range .Ports}}p{{else}}none{{end}}", false, "none");
  check ("{{with .State}}{{.Status}}{{end}}", false, "running");
  check ("{{$n := .Name}}{{with .State}}{{$n}} {{.Pid}}{{end}}", false, "/web 42");
  check ("{{range .Config.Env}}{{$.Name}}{{end}}", false, "/web/web");
  check ("{{if eq .State.Status \"running\" \"paused\"}}live{{end}}", false, "live");
  check ("{{(index .Config.Env 0)}}", false, "A=1");
  check ("{{if .Name}}", false, NULL);
  check ("{{end}}", false, NULL);
  check ("{{template \"x\"}}", false, NULL);
  check ("{{.Name", false, NULL);
}

static void
test_hidden_method_keys (void **state)
{
  (void) state;
  cleanup_json json_t *row = json_pack ("{s:s,s:{s:s}}", "Labels", "a=b", "\x01Label", "a", "b");
  cleanup_error polis_error *err = NULL;
  cleanup_gotemplate gotemplate *t = gotemplate_parse ("{{.Label \"a\"}} {{json .}}", &err);
  assert_non_null (t);
  cleanup_free char *out = NULL;
  assert_int_equal (gotemplate_exec (t, row, true, &out, &err), 0);
  assert_string_equal (out, "b {\"Labels\":\"a=b\"}");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_functions),
    cmocka_unit_test (test_control),
    cmocka_unit_test (test_hidden_method_keys),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
