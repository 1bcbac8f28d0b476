package cmds

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("stat", stat) }

// stat describes files: stat [-L] [-c FORMAT] FILE...: name (and a
// symlink's target), size, 512-byte blocks, type, inode, links, mode,
// uid, gid, and access, modification and change times. A symlink is
// described itself unless -L follows it. -c prints FORMAT instead, with
// %n name, %N name -> target, %s size, %b blocks, %f raw mode (hex), %a
// permissions (octal), %A mode as ls shows it, %F type, %h links, %i inode,
// %u %g uid and gid, %x %y %z and %X %Y %Z the times (as dates and as
// seconds since the epoch), %% a percent sign.
func stat(e *Env, args ...string) error {
	f := newFlags(e, "stat", "[-L] [-c FORMAT] FILE...")
	follow := f.Bool("L", false, "follow symlinks")
	format := f.String("c", "", "print `FORMAT` for each file")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usage("stat [-L] [-c FORMAT] FILE...")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.Stdout)
	bad := false
	for _, name := range names {
		var fi fs.FileInfo
		if *follow {
			fi, err = o.Stat(name)
		} else {
			fi, err = o.Lstat(name)
		}
		if err != nil {
			w.Flush()
			warn(e, "stat", err)
			bad = true
			continue
		}
		s := &statInfo{o: o, name: name, fi: fi}
		if a, ok := fi.Sys().(*libvos.Attr); ok {
			s.a = *a
		}
		if flagSet(f, "c") {
			w.WriteString(s.format(*format) + "\n")
		} else {
			w.WriteString(s.format(statDefault))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return failed(bad)
}

// flagSet tells whether an option was given.
func flagSet(f *cmdFlags, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// statDefault is GNU stat's form, less what VOS has no notion of (device,
// I/O block, birth time, user names).
const statDefault = `  File: %N
  Size: %-10s	Blocks: %-10b %F
 Inode: %-10i	Links: %h
Access: (%04a/%A)  Uid: (%5u)   Gid: (%5g)
Access: %x
Modify: %y
Change: %z
`

type statInfo struct {
	o    *libvos.OS
	name string
	fi   fs.FileInfo
	a    libvos.Attr
}

// format expands FORMAT's directives, which may have printf's flags and
// width (%-10s, %04a).
func (s *statInfo) format(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-0123456789", format[j]) >= 0 {
			j++
		}
		if j == len(format) {
			b.WriteString(format[i:])
			break
		}
		spec := format[i+1 : j]
		v, ok := s.directive(format[j])
		switch {
		case !ok:
			b.WriteString(format[i : j+1])
		case format[j] == 'a' || format[j] == 'f':
			n, _ := strconv.ParseUint(v, 8, 32)
			if format[j] == 'f' {
				n, _ = strconv.ParseUint(v, 16, 32)
				b.WriteString(fmt.Sprintf("%"+spec+"x", n))
			} else {
				b.WriteString(fmt.Sprintf("%"+spec+"o", n))
			}
		default:
			b.WriteString(fmt.Sprintf("%"+spec+"s", v))
		}
		i = j
	}
	return b.String()
}

// directive is one directive's value (the raw mode in hex, the
// permissions in octal).
func (s *statInfo) directive(c byte) (string, bool) {
	m := s.fi.Mode()
	switch c {
	case '%':
		return "%", true
	case 'n':
		return s.name, true
	case 'N':
		if m&fs.ModeSymlink != 0 {
			if t, err := s.o.Readlink(s.name); err == nil {
				return s.name + " -> " + t, true
			}
		}
		return s.name, true
	case 's':
		return strconv.FormatInt(s.fi.Size(), 10), true
	case 'b':
		return strconv.FormatInt(s.a.Blocks, 10), true
	case 'f':
		return strconv.FormatUint(uint64(libvos.ModeToLinux(m)), 16), true
	case 'a':
		return strconv.FormatUint(uint64(uint32(m.Perm())|specialBits(m)), 8), true
	case 'A':
		return modeString(m), true
	case 'F':
		return fileType(s.fi), true
	case 'h':
		return strconv.FormatUint(uint64(s.a.Nlink), 10), true
	case 'i':
		return strconv.FormatUint(s.a.Ino, 10), true
	case 'u', 'U':
		return strconv.FormatUint(uint64(s.a.UID), 10), true
	case 'g', 'G':
		return strconv.FormatUint(uint64(s.a.GID), 10), true
	case 'x':
		return statTime(s.a.Atime), true
	case 'y':
		return statTime(s.a.Mtime), true
	case 'z':
		return statTime(s.a.Ctime), true
	case 'X':
		return strconv.FormatInt(s.a.Atime.Unix(), 10), true
	case 'Y':
		return strconv.FormatInt(s.a.Mtime.Unix(), 10), true
	case 'Z':
		return strconv.FormatInt(s.a.Ctime.Unix(), 10), true
	}
	return "", false
}

func statTime(t time.Time) string {
	return t.Format("2006-01-02 15:04:05.000000000 -0700")
}

// fileType is the type as stat's %F says it.
func fileType(fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m.IsRegular() && fi.Size() == 0:
		return "regular empty file"
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character special file"
	case m&fs.ModeDevice != 0:
		return "block special file"
	}
	return "unknown"
}
