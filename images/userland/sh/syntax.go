package sh

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The syntax tree. A script is a sequence of lists, one per line (or
// per newline-separated list); each list is a sequence of and-or lists,
// each run in the foreground (";") or in the background ("&"); an and-or
// list is pipelines joined by && and ||; a pipeline is simple commands
// joined by |.

// List is what one line of a script holds: and-or lists separated by ";"
// or "&".
type List struct {
	Items []*AndOr
}

// AndOr is pipelines joined by && and ||; Ops[i] joins Pipes[i] and
// Pipes[i+1].
type AndOr struct {
	Pipes      []*Pipeline
	Ops        []string // "&&" or "||"
	Background bool     // ended by "&"
}

// Pipeline is commands joined by |; Not inverts its status ("! cmd").
type Pipeline struct {
	Not  bool
	Cmds []*Command
}

// Command is a simple command: assignments, words (the program and its
// arguments) and redirections, in any order after the assignments.
type Command struct {
	Assigns []*Assign
	Words   []Word
	Redirs  []*Redir
}

// Assign is NAME=value.
type Assign struct {
	Name  string
	Value Word
}

// Redir is one redirection: [Fd]Op Target. Fd is -1 when not written
// (0 for < and <&, 1 for the others).
type Redir struct {
	Fd     int
	Op     string // "<", ">", ">>", ">|", "<&", ">&"
	Target Word
}

// Word is one word of the source, a sequence of parts that expansion
// concatenates (and, for unquoted parameters, splits into fields).
type Word []Part

// PartKind says what a part of a word is.
type PartKind uint8

// Part kinds.
const (
	Lit   PartKind = iota // literal text
	Param                 // $NAME, ${NAME}, ${NAME:-word}…
	Tilde                 // ~ at the start of a word: $HOME
)

// Part is a piece of a word.
type Part struct {
	Kind PartKind
	// Lit: the text. Param: the parameter's name (a variable, a digit
	// string, or one of ? $ # ! @ * - 0).
	Text string
	// Quoted parts are inside '…' or "…" or escaped by a backslash: an
	// expanded parameter is not split into fields.
	Quoted bool
	// Param only: Op is "", "#" (${#NAME}, the length), or one of ":-"
	// "-" ":=" "=" ":+" "+" ":?" "?" with its word Arg.
	Op  string
	Arg Word
}

// SyntaxError is a script that does not parse. Incomplete errors are
// inputs that could still become valid with more lines (an open quote,
// a trailing |): the interactive shell asks for another line.
type SyntaxError struct {
	Msg        string
	Incomplete bool
}

func (e *SyntaxError) Error() string { return "syntax error: " + e.Msg }

func incomplete(msg string) error { return &SyntaxError{Msg: msg, Incomplete: true} }

func syntaxErr(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a whole script.
func Parse(src string) ([]*List, error) {
	p := newParser(src)
	var out []*List
	for {
		l, err := p.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
}

// Tokens.

type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tOp
	tWord
	tIONum // the digits before a redirection operator, as 2 in 2>file
)

type token struct {
	kind tokKind
	op   string
	word Word
	fd   int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNewline:
		return "newline"
	case tOp:
		return "`" + t.op + "'"
	case tIONum:
		return "`" + strconv.Itoa(t.fd) + "'"
	}
	return "`" + t.word.String() + "'"
}

type lexer struct {
	src string
	pos int
}

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

// isName tells whether s is a variable name.
func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// operators, longest first.
var operators = []string{"&&", "||", ";;", ">>", ">&", "<&", ">|", "<<", ";", "&", "|", "<", ">", "(", ")"}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
			continue
		case c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n':
			l.pos += 2
			continue
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.src) {
		return token{kind: tEOF}, nil
	}
	c := l.src[l.pos]
	if c == '\n' {
		l.pos++
		return token{kind: tNewline}, nil
	}
	if isMeta(c) {
		for _, op := range operators {
			if strings.HasPrefix(l.src[l.pos:], op) {
				l.pos += len(op)
				switch op {
				case "<<":
					return token{}, syntaxErr("here-documents (<<) are not supported")
				case ";;", "(", ")":
					return token{}, syntaxErr("unexpected token `%s' (subshells and case are not supported)", op)
				}
				return token{kind: tOp, op: op}, nil
			}
		}
	}
	return l.word()
}

// word scans one word at l.pos.
func (l *lexer) word() (token, error) {
	var w Word
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w = append(w, Part{Kind: Lit, Text: lit.String()})
			lit.Reset()
		}
	}
	start := l.pos
loop:
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isMeta(c):
			break loop
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, incomplete("a backslash ends the input")
			}
			if l.src[l.pos+1] == '\n' { // line continuation
				l.pos += 2
				continue
			}
			_, n := utf8.DecodeRuneInString(l.src[l.pos+1:])
			flush()
			w = append(w, Part{Kind: Lit, Text: l.src[l.pos+1 : l.pos+1+n], Quoted: true})
			l.pos += 1 + n
		case c == '\'':
			end := strings.IndexByte(l.src[l.pos+1:], '\'')
			if end < 0 {
				return token{}, incomplete("unterminated quote (')")
			}
			flush()
			w = append(w, Part{Kind: Lit, Text: l.src[l.pos+1 : l.pos+1+end], Quoted: true})
			l.pos += end + 2
		case c == '"':
			flush()
			parts, err := l.dquote()
			if err != nil {
				return token{}, err
			}
			w = append(w, parts...)
		case c == '$':
			p, ok, err := l.dollar(false)
			if err != nil {
				return token{}, err
			}
			if ok {
				flush()
				w = append(w, p)
			} else {
				lit.WriteByte('$')
				l.pos++
			}
		case c == '`':
			return token{}, syntaxErr("command substitution (`…`) is not supported")
		case c == '~' && l.pos == start && (l.pos+1 == len(l.src) || l.src[l.pos+1] == '/' || isMeta(l.src[l.pos+1])):
			w = append(w, Part{Kind: Tilde})
			l.pos++
		default:
			lit.WriteByte(c)
			l.pos++
		}
	}
	flush()
	if l.pos < len(l.src) && (l.src[l.pos] == '<' || l.src[l.pos] == '>') &&
		len(w) == 1 && w[0].Kind == Lit && !w[0].Quoted && allDigits(w[0].Text) {
		fd, err := strconv.Atoi(w[0].Text)
		if err != nil || fd > 9 {
			return token{}, syntaxErr("bad file descriptor %s", w[0].Text)
		}
		return token{kind: tIONum, fd: fd}, nil
	}
	return token{kind: tWord, word: w}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// dquote scans "…" at l.pos; inside, \ escapes only $ ` " \ and newline,
// and $ expands.
func (l *lexer) dquote() ([]Part, error) {
	var parts []Part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, Part{Kind: Lit, Text: lit.String(), Quoted: true})
			lit.Reset()
		}
	}
	l.pos++
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '"':
			l.pos++
			flush()
			if len(parts) == 0 {
				parts = append(parts, Part{Kind: Lit, Quoted: true}) // "" is an empty word, not none
			}
			return parts, nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return nil, incomplete(`unterminated quote (")`)
			}
			switch n := l.src[l.pos+1]; n {
			case '$', '`', '"', '\\':
				lit.WriteByte(n)
				l.pos += 2
			case '\n':
				l.pos += 2
			default:
				lit.WriteByte('\\')
				l.pos++
			}
		case '$':
			p, ok, err := l.dollar(true)
			if err != nil {
				return nil, err
			}
			if ok {
				flush()
				parts = append(parts, p)
			} else {
				lit.WriteByte('$')
				l.pos++
			}
		case '`':
			return nil, syntaxErr("command substitution (`…`) is not supported")
		default:
			lit.WriteByte(c)
			l.pos++
		}
	}
	return nil, incomplete(`unterminated quote (")`)
}

// dollar scans a parameter expansion at l.pos (a '$'). ok is false when
// the $ is literal (followed by nothing that names a parameter).
func (l *lexer) dollar(quoted bool) (Part, bool, error) {
	if l.pos+1 >= len(l.src) {
		return Part{}, false, nil
	}
	n := l.src[l.pos+1]
	switch {
	case n == '{':
		return l.brace(quoted)
	case n == '(':
		return Part{}, false, syntaxErr("command substitution and arithmetic ($(…)) are not supported")
	case isNameStart(n):
		end := l.pos + 2
		for end < len(l.src) && isNameChar(l.src[end]) {
			end++
		}
		p := Part{Kind: Param, Text: l.src[l.pos+1 : end], Quoted: quoted}
		l.pos = end
		return p, true, nil
	case isDigit(n) || strings.IndexByte("?$#!@*-", n) >= 0:
		l.pos += 2
		return Part{Kind: Param, Text: string(n), Quoted: quoted}, true, nil
	}
	return Part{}, false, nil
}

// brace scans ${…} at l.pos.
func (l *lexer) brace(quoted bool) (Part, bool, error) {
	l.pos += 2
	p := Part{Kind: Param, Quoted: quoted}
	s := l.src
	if l.pos < len(s) && s[l.pos] == '#' && l.pos+1 < len(s) && s[l.pos+1] != '}' {
		p.Op = "#"
		l.pos++
	}
	start := l.pos
	switch {
	case l.pos >= len(s):
		return p, false, incomplete("missing } in ${")
	case isNameStart(s[l.pos]):
		for l.pos < len(s) && isNameChar(s[l.pos]) {
			l.pos++
		}
	case isDigit(s[l.pos]):
		for l.pos < len(s) && isDigit(s[l.pos]) {
			l.pos++
		}
	case strings.IndexByte("?$#!@*-", s[l.pos]) >= 0:
		l.pos++
	}
	p.Text = s[start:l.pos]
	if p.Text == "" {
		return p, false, l.badSubst(start)
	}
	if l.pos >= len(s) {
		return p, false, incomplete("missing } in ${")
	}
	if s[l.pos] == '}' {
		l.pos++
		return p, true, nil
	}
	if p.Op == "#" {
		return p, false, l.badSubst(start)
	}
	for _, op := range []string{":-", ":=", ":+", ":?", "-", "=", "+", "?"} {
		if strings.HasPrefix(s[l.pos:], op) {
			p.Op = op
			l.pos += len(op)
			arg, err := l.braceArg(quoted)
			if err != nil {
				return p, false, err
			}
			p.Arg = arg
			return p, true, nil
		}
	}
	return p, false, l.badSubst(start)
}

func (l *lexer) badSubst(start int) error {
	end := strings.IndexByte(l.src[start:], '}')
	if end < 0 {
		return incomplete("missing } in ${")
	}
	return syntaxErr("bad substitution ${%s}", l.src[start:start+end])
}

// braceArg scans the word of ${NAME:-word} up to its closing }.
func (l *lexer) braceArg(quoted bool) (Word, error) {
	var w Word
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w = append(w, Part{Kind: Lit, Text: lit.String(), Quoted: quoted})
			lit.Reset()
		}
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '}':
			l.pos++
			flush()
			return w, nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return nil, incomplete("missing } in ${")
			}
			flush()
			_, n := utf8.DecodeRuneInString(l.src[l.pos+1:])
			w = append(w, Part{Kind: Lit, Text: l.src[l.pos+1 : l.pos+1+n], Quoted: true})
			l.pos += 1 + n
		case '\'':
			if quoted { // inside "…", a ' is itself
				lit.WriteByte(c)
				l.pos++
				continue
			}
			end := strings.IndexByte(l.src[l.pos+1:], '\'')
			if end < 0 {
				return nil, incomplete("unterminated quote (')")
			}
			flush()
			w = append(w, Part{Kind: Lit, Text: l.src[l.pos+1 : l.pos+1+end], Quoted: true})
			l.pos += end + 2
		case '"':
			flush()
			parts, err := l.dquote()
			if err != nil {
				return nil, err
			}
			w = append(w, parts...)
		case '$':
			p, ok, err := l.dollar(quoted)
			if err != nil {
				return nil, err
			}
			if ok {
				flush()
				w = append(w, p)
			} else {
				lit.WriteByte('$')
				l.pos++
			}
		case '`':
			return nil, syntaxErr("command substitution (`…`) is not supported")
		default:
			lit.WriteByte(c)
			l.pos++
		}
	}
	return nil, incomplete("missing } in ${")
}

// Parser.

// parser reads a script one list (one line) at a time, so that a script
// runs up to its first syntax error, as sh's do.
type parser struct {
	lx     lexer
	tok    token
	err    error
	peeked bool
}

func newParser(src string) *parser { return &parser{lx: lexer{src: src}} }

func (p *parser) peek() (token, error) {
	if !p.peeked {
		p.tok, p.err = p.lx.next()
		p.peeked = true
	}
	return p.tok, p.err
}

func (p *parser) advance() { p.peeked = false }

// reserved words start compound commands, which this shell does not have.
var reserved = map[string]bool{"if": true, "then": true, "elif": true, "else": true, "fi": true,
	"while": true, "until": true, "for": true, "do": true, "done": true, "case": true, "esac": true,
	"{": true, "}": true, "function": true}

// plain returns a word's text if it is one unquoted literal.
func (w Word) plain() (string, bool) {
	if len(w) == 1 && w[0].Kind == Lit && !w[0].Quoted {
		return w[0].Text, true
	}
	return "", false
}

// Next returns the next list of the script, or io.EOF at its end.
func (p *parser) Next() (*List, error) {
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == tEOF {
			return nil, io.EOF
		}
		if t.kind != tNewline {
			break
		}
		p.advance()
	}
	l := &List{}
	for {
		ao, err := p.andOr()
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, ao)
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		sep := t.kind == tOp && (t.op == ";" || t.op == "&")
		if sep {
			p.advance()
			ao.Background = t.op == "&"
			if t, err = p.peek(); err != nil {
				return nil, err
			}
		}
		switch {
		case t.kind == tEOF:
			return l, nil
		case t.kind == tNewline:
			p.advance()
			return l, nil
		case !sep:
			return nil, syntaxErr("unexpected token %s", t)
		}
	}
}

// lineBreak skips newlines after an operator that needs more (| && ||).
func (p *parser) lineBreak(after string) error {
	for {
		t, err := p.peek()
		if err != nil {
			return err
		}
		switch t.kind {
		case tNewline:
			p.advance()
			continue
		case tEOF:
			return incomplete("end of file after " + after)
		}
		return nil
	}
}

func (p *parser) andOr() (*AndOr, error) {
	pl, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	ao := &AndOr{Pipes: []*Pipeline{pl}}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind != tOp || (t.op != "&&" && t.op != "||") {
			return ao, nil
		}
		p.advance()
		if err := p.lineBreak(t.op); err != nil {
			return nil, err
		}
		pl, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		ao.Ops = append(ao.Ops, t.op)
		ao.Pipes = append(ao.Pipes, pl)
	}
}

func (p *parser) pipeline() (*Pipeline, error) {
	pl := &Pipeline{}
	if t, err := p.peek(); err != nil {
		return nil, err
	} else if s, ok := t.word.plain(); t.kind == tWord && ok && s == "!" {
		pl.Not = true
		p.advance()
	}
	for {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		pl.Cmds = append(pl.Cmds, c)
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind != tOp || t.op != "|" {
			return pl, nil
		}
		p.advance()
		if err := p.lineBreak("|"); err != nil {
			return nil, err
		}
	}
}

func (p *parser) command() (*Command, error) {
	c := &Command{}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch {
		case t.kind == tIONum:
			p.advance()
			op, err := p.peek()
			if err != nil {
				return nil, err
			}
			if op.kind != tOp || !isRedirOp(op.op) {
				return nil, syntaxErr("unexpected token %s after %d", op, t.fd)
			}
			r, err := p.redir(t.fd)
			if err != nil {
				return nil, err
			}
			c.Redirs = append(c.Redirs, r)
		case t.kind == tOp && isRedirOp(t.op):
			r, err := p.redir(-1)
			if err != nil {
				return nil, err
			}
			c.Redirs = append(c.Redirs, r)
		case t.kind == tWord:
			if len(c.Words) == 0 {
				if a := assignment(t.word); a != nil {
					c.Assigns = append(c.Assigns, a)
					p.advance()
					continue
				}
				if s, ok := t.word.plain(); ok && reserved[s] {
					return nil, syntaxErr("%q: compound commands (if, while, for, case, { }) are not supported", s)
				}
			}
			c.Words = append(c.Words, t.word)
			p.advance()
		default:
			if len(c.Words) == 0 && len(c.Assigns) == 0 && len(c.Redirs) == 0 {
				if t.kind == tEOF {
					return nil, incomplete("unexpected end of file")
				}
				return nil, syntaxErr("unexpected token %s", t)
			}
			return c, nil
		}
	}
}

func isRedirOp(op string) bool {
	switch op {
	case "<", ">", ">>", ">|", "<&", ">&":
		return true
	}
	return false
}

func (p *parser) redir(fd int) (*Redir, error) {
	t, _ := p.peek()
	p.advance()
	target, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch target.kind {
	case tWord:
	case tEOF:
		return nil, incomplete("end of file after " + t.op)
	default:
		return nil, syntaxErr("unexpected token %s after %s", target, t.op)
	}
	p.advance()
	return &Redir{Fd: fd, Op: t.op, Target: target.word}, nil
}

// assignment returns NAME=value if w is one.
func assignment(w Word) *Assign {
	if len(w) == 0 || w[0].Kind != Lit || w[0].Quoted {
		return nil
	}
	name, rest, ok := strings.Cut(w[0].Text, "=")
	if !ok || !isName(name) {
		return nil
	}
	a := &Assign{Name: name}
	if rest != "" {
		a.Value = append(a.Value, Part{Kind: Lit, Text: rest})
	}
	a.Value = append(a.Value, w[1:]...)
	return a
}

// Rendering, for jobs, traces and tests: sh syntax that parses back to
// the same tree.

func (l *List) String() string {
	var b strings.Builder
	for i, ao := range l.Items {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(ao.String())
		if ao.Background {
			b.WriteString(" &")
		} else if i < len(l.Items)-1 {
			b.WriteString(";")
		}
	}
	return b.String()
}

func (ao *AndOr) String() string {
	var b strings.Builder
	for i, p := range ao.Pipes {
		if i > 0 {
			b.WriteString(" " + ao.Ops[i-1] + " ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (p *Pipeline) String() string {
	var parts []string
	for _, c := range p.Cmds {
		parts = append(parts, c.String())
	}
	s := strings.Join(parts, " | ")
	if p.Not {
		s = "! " + s
	}
	return s
}

func (c *Command) String() string {
	var parts []string
	for _, a := range c.Assigns {
		parts = append(parts, a.Name+"="+a.Value.String())
	}
	for _, w := range c.Words {
		parts = append(parts, w.String())
	}
	for _, r := range c.Redirs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, " ")
}

func (r *Redir) String() string {
	s := r.Op + r.Target.String()
	if r.Fd >= 0 {
		s = strconv.Itoa(r.Fd) + s
	}
	return s
}

func (w Word) String() string {
	var b strings.Builder
	for _, p := range w {
		p.write(&b)
	}
	return b.String()
}

func (p Part) write(b *strings.Builder) {
	switch p.Kind {
	case Lit:
		switch {
		case p.Quoted:
			b.WriteString(quote(p.Text))
		default:
			b.WriteString(p.Text)
		}
	case Tilde:
		b.WriteString("~")
	case Param:
		s := "${" + p.Text + "}"
		switch p.Op {
		case "":
		case "#":
			s = "${#" + p.Text + "}"
		default:
			s = "${" + p.Text + p.Op + p.Arg.String() + "}"
		}
		if p.Quoted {
			s = `"` + s + `"`
		}
		b.WriteString(s)
	}
}

// quote returns s in single quotes, as the shell reads it back.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
