package sh

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// render parses src and prints it back, one list a line.
func render(t *testing.T, src string) (string, error) {
	t.Helper()
	lists, err := Parse(src)
	var out []string
	for _, l := range lists {
		out = append(out, l.String())
	}
	return strings.Join(out, "\n"), err
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"echo hello", "echo hello"},
		{"  echo   a\tb  ", "echo a b"},
		{"echo 'a b' \"c d\"", "echo 'a b' 'c d'"},
		{`echo a\ b \$x \\`, `echo a' 'b '$'x '\'`},
		{`echo "a\"b\$c\d"`, `echo 'a"b$c\d'`},
		{`echo it'"'s`, `echo it'"'s`},
		{`echo ""`, `echo ''`},
		{"echo $X ${Y} \"$Z\" $1 $? $$ $# $@ $10", `echo ${X} ${Y} "${Z}" ${1} ${?} ${$} ${#} ${@} ${1}0`},
		{"echo ${X:-a b} ${X:=d} ${X:+e} ${X?f} ${#X} ${10}", "echo ${X:-a b} ${X:=d} ${X:+e} ${X?f} ${#X} ${10}"},
		{`echo "${X:-$Y z}"`, `echo "${X:-"${Y}"' z'}"`},
		{"echo $ a$ $-", "echo $ a$ ${-}"},
		{"echo ~ ~/x a~", "echo ~ ~/x a~"},
		{"X=1", "X=1"},
		{"X=1 Y='a b' env", "X=1 Y='a b' env"},
		{"echo X=1", "echo X=1"},
		{"X= cmd", "X= cmd"},
		{"a | b | c", "a | b | c"},
		{"a && b || c", "a && b || c"},
		{"a; b & c", "a; b & c"},
		{"a &", "a &"},
		{"a;", "a"},
		{"! a | b", "! a | b"},
		{"cat <in >out 2>err", "cat <in >out 2>err"},
		{"cmd >>log 2>&1", "cmd >>log 2>&1"},
		{"cmd > f 2 > g", "cmd 2 >f >g"}, // "2 >" is an argument 2 then >
		{"cmd >&2 <&- 1>|x", "cmd >&2 <&- 1>|x"},
		{"a\nb\n\nc", "a\nb\nc"},
		{"a # comment\n# whole line\nb", "a\nb"},
		{"echo a#b", "echo a#b"},
		{"a |\n b", "a | b"},
		{"a &&\n\n b", "a && b"},
		{"echo a\\\nb", "echo ab"},
		{"", ""},
		{"\n\n", ""},
	} {
		got, err := render(t, c.src)
		if err != nil || got != c.want {
			t.Errorf("%q:\n got %q, %v\nwant %q", c.src, got, err, c.want)
		}
	}
}

func TestParseTree(t *testing.T) {
	lists, err := Parse("X=1 cmd a 2>&1 >f | wc -c && b || c &")
	if err != nil {
		t.Fatal(err)
	}
	ao := lists[0].Items[0]
	if !ao.Background || len(ao.Pipes) != 3 || !reflect.DeepEqual(ao.Ops, []string{"&&", "||"}) {
		t.Fatalf("and-or: %+v", ao)
	}
	c := ao.Pipes[0].Cmds[0]
	if len(c.Assigns) != 1 || c.Assigns[0].Name != "X" || len(c.Words) != 2 || len(c.Redirs) != 2 {
		t.Fatalf("command: %+v", c)
	}
	if r := c.Redirs[0]; r.Fd != 2 || r.Op != ">&" || r.Target.String() != "1" {
		t.Errorf("2>&1: %+v", r)
	}
	if r := c.Redirs[1]; r.Fd != -1 || r.Op != ">" || r.Target.String() != "f" {
		t.Errorf(">f: %+v", r)
	}
	if len(ao.Pipes[0].Cmds) != 2 {
		t.Errorf("pipeline: %+v", ao.Pipes[0])
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		src, msg   string
		incomplete bool
	}{
		{"echo 'abc", "unterminated quote", true},
		{`echo "abc`, "unterminated quote", true},
		{`echo "a\`, "unterminated quote", true},
		{`echo \`, "backslash", true},
		{"echo ${X", "missing }", true},
		{"a |", "end of file after |", true},
		{"a &&", "end of file after &&", true},
		{"cat <", "end of file after <", true},
		{"| a", "unexpected token `|'", false},
		{"a ; ; b", "unexpected token `;'", false},
		{"a && && b", "unexpected token `&&'", false},
		{"cat < | b", "unexpected token `|' after <", false},
		{"echo ${}", "bad substitution", false},
		{"echo ${X%y}", "bad substitution", false},
		{"echo $(ls)", "not supported", false},
		{"echo `ls`", "not supported", false},
		{"cat <<EOF", "here-documents", false},
		{"(a)", "not supported", false},
		{"if true; then a; fi", "compound commands", false},
		{"a 2>", "end of file after >", true},
	} {
		_, err := Parse(c.src)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Error(), c.msg) || se.Incomplete != c.incomplete {
			t.Errorf("%q: %v (incomplete %v), want %q (incomplete %v)", c.src, err, se != nil && se.Incomplete, c.msg, c.incomplete)
		}
	}
}

// A script runs up to its first syntax error, which ends it with status 2
// and a message.
func TestSyntaxErrorStatus(t *testing.T) {
	var errb bytes.Buffer
	s := &Shell{vars: map[string]*variable{}, errw: &errb, io: &shellIO{}}
	s.vars["X"] = &variable{value: "1"}
	if st := s.Run("X=2\necho 'abc"); st != 2 || !s.exited {
		t.Errorf("status %d, exited %v", st, s.exited)
	}
	if got := errb.String(); got != "sh: syntax error: unterminated quote (')\n" {
		t.Errorf("message %q", got)
	}
}

// testVars is a variable table for expansion tests.
type testVars struct {
	m    map[string]string
	args []string
}

func (v *testVars) lookup(name string) (string, bool) {
	if name == "#" {
		return string(rune('0' + len(v.args))), true
	}
	if len(name) == 1 && name[0] >= '1' && name[0] <= '9' {
		i := int(name[0] - '1')
		if i < len(v.args) {
			return v.args[i], true
		}
		return "", false
	}
	s, ok := v.m[name]
	return s, ok
}
func (v *testVars) positional() []string { return v.args }
func (v *testVars) assign(name, value string) error {
	v.m[name] = value
	return nil
}

func TestExpand(t *testing.T) {
	base := map[string]string{"X": "1", "AB": "a  b", "E": "", "HOME": "/home/u", "?": "3", "SP": " lead trail "}
	for _, c := range []struct {
		src  string
		args []string
		want []string
	}{
		{"echo $X", nil, []string{"echo", "1"}},
		{"echo $X$X ${X}x $Xx", nil, []string{"echo", "11", "1x"}}, // $Xx is the unset Xx
		{"echo $AB", nil, []string{"echo", "a", "b"}},
		{`echo "$AB"`, nil, []string{"echo", "a  b"}},
		{"echo $SP.", nil, []string{"echo", "lead", "trail", "."}},
		{"echo x$E y $E", nil, []string{"echo", "x", "y"}},
		{`echo "$E" ''`, nil, []string{"echo", "", ""}},
		{"echo $NONE", nil, []string{"echo"}},
		{"echo '$X' \"'$X'\" \\$X", nil, []string{"echo", "$X", "'1'", "$X"}},
		{"echo $?", nil, []string{"echo", "3"}},
		{"echo ~ ~/d '~' a~", nil, []string{"echo", "/home/u", "/home/u/d", "~", "a~"}},
		{"echo ${NONE:-d e} \"${NONE:-d e}\" ${E-x} ${E:-y}", nil, []string{"echo", "d", "e", "d e", "y"}},
		{"echo ${X:+set} ${NONE:+set} ${#AB}", nil, []string{"echo", "set", "4"}},
		{`echo "${E:-}"`, nil, []string{"echo", ""}},
		{"echo $1 $2 $#", []string{"a b", "c"}, []string{"echo", "a", "b", "c", "2"}},
		{`echo "$@"`, []string{"a b", "", "c"}, []string{"echo", "a b", "", "c"}},
		{`echo "x$@y"`, []string{"a", "b"}, []string{"echo", "xa", "by"}},
		{`echo "$@"`, nil, []string{"echo"}},
		{`echo "$*" $*`, []string{"a b", "c"}, []string{"echo", "a b c", "a", "b", "c"}},
		{"echo a*b [x]", nil, []string{"echo", "a*b", "[x]"}}, // no globbing
	} {
		lists, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		v := &testVars{m: map[string]string{}, args: c.args}
		for k, x := range base {
			v.m[k] = x
		}
		got, err := expandFields(v, lists[0].Items[0].Pipes[0].Cmds[0].Words)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.src, got, err, c.want)
		}
	}
}

func TestExpandString(t *testing.T) {
	lists, err := Parse(`X=$AB${N:=new}"$1" cmd >$AB.out`)
	if err != nil {
		t.Fatal(err)
	}
	v := &testVars{m: map[string]string{"AB": "a  b"}, args: []string{"p"}}
	c := lists[0].Items[0].Pipes[0].Cmds[0]
	if got, err := expandString(v, c.Assigns[0].Value); err != nil || got != "a  bnewp" {
		t.Errorf("assignment: %q %v", got, err)
	}
	if v.m["N"] != "new" {
		t.Errorf("${N:=new} did not assign: %q", v.m["N"])
	}
	if got, _ := expandString(v, c.Redirs[0].Target); got != "a  b.out" {
		t.Errorf("redirection target: %q", got)
	}
	lists, _ = Parse("echo ${U:?is unset} ${E?}")
	_, err = expandFields(v, lists[0].Items[0].Pipes[0].Cmds[0].Words)
	var ee *ExpandError
	if !errors.As(err, &ee) || ee.Msg != "U: is unset" {
		t.Errorf("${U:?}: %v", err)
	}
}
