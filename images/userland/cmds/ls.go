package cmds

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("ls", ls) }

// ls lists directory contents: ls [-1adhl] [FILE...]. A directory is listed
// by its entries, a file by its own name, both sorted by name; with no
// FILE, the current directory. -a shows entries whose names start with
// "." (and . and ..), -d lists directories themselves, -l uses the long
// form (mode, links, uid, gid, size, modification time, name, and
// "-> target" for a symlink), -h shows its sizes in powers of 1024 (1.5K),
// -1 puts one name on each line, which is the default unless stdout is a
// terminal.
func ls(e *Env, args ...string) error {
	f := newFlags(e, "ls", "[-1adhl] [FILE...]")
	all := f.Bool("a", false, "show entries starting with .")
	dirOnly := f.Bool("d", false, "list directories themselves, not their contents")
	long := f.Bool("l", false, "long listing")
	human := f.Bool("h", false, "sizes in powers of 1024 (with -l)")
	one := f.Bool("1", false, "one name per line")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	l := &lister{e: e, o: o, long: *long, human: *human, now: time.Now(), w: bufio.NewWriter(e.Stdout)}
	if !*one && libvos.TerminalOut(e.Getenv) {
		l.width = 80
		if c, err := strconv.Atoi(e.Getenv("COLUMNS")); err == nil && c > 0 {
			l.width = c
		}
	}
	if len(names) == 0 {
		names = []string{"."}
	}
	bad := false
	var files []lsEntry
	var dirs []string
	for _, name := range names {
		// The long form and -d show a symlink named on the command line
		// itself; otherwise ls follows it, showing a dangling one as is.
		var fi fs.FileInfo
		if *long || *dirOnly {
			fi, err = o.Lstat(name)
		} else if fi, err = o.Stat(name); err != nil {
			fi, err = o.Lstat(name)
		}
		if err != nil {
			warn(e, "ls", err)
			bad = true
			continue
		}
		if fi.IsDir() && !*dirOnly {
			dirs = append(dirs, name)
			continue
		}
		files = append(files, l.entry(name, name, fi))
	}
	slices.SortFunc(files, func(a, b lsEntry) int { return strings.Compare(a.name, b.name) })
	slices.Sort(dirs)
	printed := len(files) > 0
	l.print(files, false)
	for _, dir := range dirs {
		if printed {
			l.w.WriteString("\n")
		}
		if len(names) > 1 {
			fmt.Fprintf(l.w, "%s:\n", dir)
		}
		printed = true
		if !l.listDir(dir, *all) {
			bad = true
		}
	}
	if err := l.w.Flush(); err != nil {
		return err
	}
	return failed(bad)
}

// lister prints listings.
type lister struct {
	e     *Env
	o     *libvos.OS
	w     *bufio.Writer
	long  bool
	human bool // sizes as 1.5K
	now   time.Time
	width int // columns of a terminal, or 0 for one name a line
}

// lsEntry is one name to show with what the long form needs.
type lsEntry struct {
	name   string
	fi     fs.FileInfo
	target string // a symlink's, in the long form
}

// entry makes the entry of the file at p, shown as name.
func (l *lister) entry(p, name string, fi fs.FileInfo) lsEntry {
	en := lsEntry{name: name, fi: fi}
	if l.long && fi.Mode()&fs.ModeSymlink != 0 {
		en.target, _ = l.o.Readlink(p)
	}
	return en
}

// listDir prints a directory's entries; false after an error it printed.
func (l *lister) listDir(dir string, all bool) bool {
	ents, err := l.o.ReadDir(dir)
	if err != nil {
		warn(l.e, "ls", err)
		return false
	}
	ok := true
	var list []lsEntry
	if all {
		for _, dot := range []string{".", ".."} {
			p := join(dir, dot)
			fi, err := l.o.Lstat(p)
			if err != nil {
				warn(l.e, "ls", err)
				ok = false
				continue
			}
			list = append(list, lsEntry{name: dot, fi: fi})
		}
	}
	for _, d := range ents {
		if !all && strings.HasPrefix(d.Name(), ".") {
			continue
		}
		en := lsEntry{name: d.Name()}
		if l.long {
			fi, err := d.Info()
			if err != nil {
				warn(l.e, "ls", err)
				ok = false
				continue
			}
			en = l.entry(join(dir, d.Name()), d.Name(), fi)
		}
		list = append(list, en)
	}
	l.print(list, true)
	return ok
}

// print writes entries in the long form, in columns, or one a line. A
// directory's long listing starts with its total of 1K blocks.
func (l *lister) print(list []lsEntry, total bool) {
	switch {
	case l.long:
		if total {
			var blocks int64
			for _, en := range list {
				if a, ok := en.fi.Sys().(*libvos.Attr); ok {
					blocks += (a.Blocks + 1) / 2
				}
			}
			fmt.Fprintf(l.w, "total %d\n", blocks)
		}
		for _, en := range list {
			l.longLine(en)
		}
	case l.width > 0:
		names := make([]string, len(list))
		for i, en := range list {
			names[i] = en.name
		}
		columns(l.w, names, l.width)
	default:
		for _, en := range list {
			l.w.WriteString(en.name + "\n")
		}
	}
}

// longLine is busybox's form of a long entry:
//
//	-rw-r--r--    1 0        0               6 Jan  2 15:04 name
func (l *lister) longLine(en lsEntry) {
	var nlink, uid, gid uint32
	if a, ok := en.fi.Sys().(*libvos.Attr); ok {
		nlink, uid, gid = a.Nlink, a.UID, a.GID
	}
	size := strconv.FormatInt(en.fi.Size(), 10)
	if l.human {
		size = humanSize(uint64(max(en.fi.Size(), 0)))
	}
	fmt.Fprintf(l.w, "%s %4d %-8d %-8d %9s %s %s", modeString(en.fi.Mode()), nlink, uid, gid,
		size, lsTime(en.fi.ModTime(), l.now), en.name)
	if en.fi.Mode()&fs.ModeSymlink != 0 {
		fmt.Fprintf(l.w, " -> %s", en.target)
	}
	l.w.WriteString("\n")
}

// lsTime is the time as ls shows it: the time of day within the last six
// months, the year otherwise (or when it is in the future).
func lsTime(t, now time.Time) string {
	if t.After(now.AddDate(0, -6, 0)) && !t.After(now.Add(time.Minute)) {
		return t.Format("Jan _2 15:04")
	}
	return t.Format("Jan _2  2006")
}

// modeString is the mode as ls -l shows it: "drwxr-sr-t", with the type
// letters of POSIX (not fs.FileMode.String's).
func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m&fs.ModeDir != 0:
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(i int, set bool, lower, upper byte) {
		if !set {
			return
		}
		if b[i] == 'x' {
			b[i] = lower
		} else {
			b[i] = upper
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}

// columns prints names down then across in as many columns as fit in
// width, as ls does on a terminal.
func columns(w io.Writer, names []string, width int) {
	if len(names) == 0 {
		return
	}
	colw := 0
	for _, n := range names {
		colw = max(colw, utf8.RuneCountInString(n)+2)
	}
	cols := max(1, width/colw)
	rows := (len(names) + cols - 1) / cols
	var sb strings.Builder
	for r := range rows {
		sb.Reset()
		for c := range cols {
			i := c*rows + r
			if i >= len(names) {
				break
			}
			sb.WriteString(names[i])
			if i+rows < len(names) {
				sb.WriteString(strings.Repeat(" ", colw-utf8.RuneCountInString(names[i])))
			}
		}
		sb.WriteString("\n")
		io.WriteString(w, sb.String())
	}
}
