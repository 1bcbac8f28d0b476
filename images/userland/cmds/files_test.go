package cmds_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vos-os/vos/libvos"
)

// lsLine is a long listing's line for a file, as the test expects it.
func lsLine(mode string, nlink, size int, date, name string) string {
	return fmt.Sprintf("%s %4d %-8d %-8d %9d %s %s\n", mode, nlink, 0, 0, size, date, name)
}

func TestLs(t *testing.T) {
	b := newBox(t)
	if err := b.o.Mkdir("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	b.write("/d/b", "bb\n", "/d/a", "hello\n", "/d/.hidden", "")
	if err := b.o.Mkdir("/d/sub", 0o750); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Symlink("a", "/d/link"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/d/a", "/d/b", "/d/.hidden", "/d/sub", "/d"} {
		if err := b.o.Chtimes(n, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.o.Chmod("/d/b", 0o755|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	li, err := b.o.Lstat("/d/link")
	if err != nil {
		t.Fatal(err)
	}
	linkDate := li.ModTime().Format("Jan _2 15:04") // made just now
	var blocks int64
	for _, n := range []string{"/d/a", "/d/b", "/d/link", "/d/sub"} {
		fi, err := b.o.Lstat(n)
		if err != nil {
			t.Fatal(err)
		}
		blocks += (fi.Sys().(*libvos.Attr).Blocks + 1) / 2
	}
	const date = "Jan  2  2020"
	longD := fmt.Sprintf("total %d\n", blocks) +
		lsLine("-rw-r--r--", 1, 6, date, "a") +
		lsLine("-rwsr-xr-x", 1, 3, date, "b") +
		strings.TrimSuffix(lsLine("lrwxrwxrwx", 1, 1, linkDate, "link"), "\n") + " -> a\n" +
		lsLine("drwxr-x---", 2, 0, date, "sub")
	b.check([]tc{
		{Cmd: []string{"ls", "/d"}, Out: "a\nb\nlink\nsub\n"},
		{Cmd: []string{"ls", "-1", "/d/"}, Out: "a\nb\nlink\nsub\n"},
		{Cmd: []string{"ls", "-a", "/d"}, Out: ".\n..\n.hidden\na\nb\nlink\nsub\n"},
		{Cmd: []string{"ls", "/d/b", "/d/a"}, Out: "/d/a\n/d/b\n"},
		{Cmd: []string{"ls", "-d", "/d", "/d/sub"}, Out: "/d\n/d/sub\n"},
		{Cmd: []string{"ls", "/d/link"}, Out: "/d/link\n"},
		{Cmd: []string{"ls", "/d/sub", "/d/a"}, Out: "/d/a\n\n/d/sub:\n"},
		{Cmd: []string{"ls", "-l", "/d"}, Out: longD},
		{Cmd: []string{"ls", "-l", "/d/a"}, Out: lsLine("-rw-r--r--", 1, 6, date, "/d/a")},
		{Cmd: []string{"ls", "-ld", "/d/sub"}, Out: lsLine("drwxr-x---", 2, 0, date, "/d/sub")},
		{Cmd: []string{"ls", "-l1d", "/d/sub"}, Out: lsLine("drwxr-x---", 2, 0, date, "/d/sub")},
		{Cmd: []string{"ls", "/d", "-d"}, Out: "/d\n"}, // options after operands
		{Cmd: []string{"ls", "--", "-d"}, Err: "ls: -d: no such file or directory\n", Status: 1},
		{Cmd: []string{"ls", "/missing"}, Err: "ls: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"ls", "/d/a", "/missing"}, Out: "/d/a\n", Err: "ls: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"ls", "-x"}, ErrHas: "ls: unknown option -x\nusage: ls [-1adhl] [FILE...]\n", Status: 2},
	})

	// Human sizes.
	b.write("/big", strings.Repeat("x", 1536))
	if err := b.o.Chtimes("/big", old, old); err != nil {
		t.Fatal(err)
	}
	b.check([]tc{{Cmd: []string{"ls", "-lh", "/big", "/d/a"}, Out: fmt.Sprintf("%s %4d %-8d %-8d %9s %s %s\n", "-rw-r--r--", 1, 0, 0, "1.5K", date, "/big") +
		lsLine("-rw-r--r--", 1, 6, date, "/d/a")}})

	// Relative names resolve from the current directory.
	if err := b.o.Chdir("/d"); err != nil {
		t.Fatal(err)
	}
	b.check([]tc{
		{Cmd: []string{"ls"}, Out: "a\nb\nlink\nsub\n"},
		{Cmd: []string{"ls", "sub", ".."}, Out: "..:\nbig\nd\netc\ntmp\n\nsub:\n"}, // etc, tmp: the base tree
	})
	if err := b.o.Chdir("/"); err != nil {
		t.Fatal(err)
	}

	// On a terminal, names go down then across the columns that fit.
	b.vars = []string{"VOS_TTY=1", "COLUMNS=14"}
	b.check([]tc{
		{Cmd: []string{"ls", "/d"}, Out: "a     link\nb     sub\n"},
		{Cmd: []string{"ls", "-1", "/d"}, Out: "a\nb\nlink\nsub\n"},
	})
}

func TestFileCommands(t *testing.T) {
	b := newBox(t)
	if err := b.o.MkdirAll("/src/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	b.write("/src/f", "data\n", "/src/sub/g", "more\n", "/other", "x", "/pfile", "zz")
	if err := b.o.Symlink("f", "/src/lnk"); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Chmod("/src/f", 0o751); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Mkdir("/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/src/f", "/src/sub/g", "/src/sub", "/src"} {
		if err := b.o.Chtimes(n, old, old); err != nil {
			t.Fatal(err)
		}
	}

	b.check([]tc{
		// mkdir
		{Cmd: []string{"mkdir", "/m"}},
		{Cmd: []string{"mkdir", "/m"}, Err: "mkdir: /m: file exists\n", Status: 1},
		{Cmd: []string{"mkdir", "/q/r"}, Err: "mkdir: /q/r: no such file or directory\n", Status: 1},
		{Cmd: []string{"mkdir", "-p", "/m/n/o", "/m"}},
		{Cmd: []string{"mkdir", "-m", "700", "/m7"}},
		{Cmd: []string{"mkdir", "-pm1777", "/p/tmp"}},
		{Cmd: []string{"stat", "-c", "%A %a", "/m7", "/m/n/o", "/p", "/p/tmp"}, Out: "drwx------ 700\ndrwxr-xr-x 755\ndrwxr-xr-x 755\ndrwxrwxrwt 1777\n"},
		{Cmd: []string{"mkdir", "-m", "9", "/x"}, ErrHas: "invalid value \"9\" for flag -m", Status: 2},
		{Cmd: []string{"mkdir"}, Err: "mkdir: usage: mkdir [-p] [-m MODE] DIR...\n", Status: 2},

		// rm
		{Cmd: []string{"rm", "/m"}, Err: "rm: /m: is a directory\n", Status: 1},
		{Cmd: []string{"rm", "/nofile"}, Err: "rm: /nofile: no such file or directory\n", Status: 1},
		{Cmd: []string{"rm", "-f", "/nofile"}},
		{Cmd: []string{"rm", "-f"}},
		{Cmd: []string{"rm"}, Err: "rm: usage: rm [-rf] FILE...\n", Status: 2},
		{Cmd: []string{"rm", "-r", "."}, Err: "rm: refusing to remove \".\"\n", Status: 1},
		{Cmd: []string{"rm", "-rf", "/"}, Err: "rm: refusing to remove \"/\"\n", Status: 1},
		{Cmd: []string{"rm", "-r", "/m", "/nofile"}, Err: "rm: /nofile: no such file or directory\n", Status: 1},
		{Cmd: []string{"ls", "/m"}, Err: "ls: /m: no such file or directory\n", Status: 1},
		{Cmd: []string{"rm", "-Rf", "/m7", "/p"}},

		// cp
		{Cmd: []string{"cp", "/src/f", "/c1"}},
		{Cmd: []string{"cat", "/c1"}, Out: "data\n"},
		{Cmd: []string{"stat", "-c", "%a", "/c1"}, Out: "751\n"}, // the source's mode, not less the umask
		{Cmd: []string{"cp", "/other", "/c1"}},                   // over an existing file: its mode stays
		{Cmd: []string{"stat", "-c", "%a %s", "/c1"}, Out: "751 1\n"},
		{Cmd: []string{"cp", "/src/f", "/other", "/dir"}},
		{Cmd: []string{"ls", "/dir"}, Out: "f\nother\n"},
		{Cmd: []string{"cp", "/src/lnk", "/c2"}}, // follows a symlink without -r
		{Cmd: []string{"stat", "-c", "%F", "/c2"}, Out: "regular file\n"},
		{Cmd: []string{"cp", "/src/f", "/src/f"}, Err: "cp: /src/f and /src/f are the same file\n", Status: 1},
		{Cmd: []string{"cp", "/src/lnk", "/src/f"}, Err: "cp: /src/lnk and /src/f are the same file\n", Status: 1},
		{Cmd: []string{"cat", "/src/f"}, Out: "data\n"},
		{Cmd: []string{"cp", "/src", "/c3"}, Err: "cp: -r not specified; omitting directory /src\n", Status: 1},
		{Cmd: []string{"cp", "/missing", "/c3"}, Err: "cp: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"cp", "/src/f", "/other", "/c1"}, Err: "cp: /c1: not a directory\n", Status: 1},
		{Cmd: []string{"cp", "/src/f"}, Err: "cp: usage: cp [-apr] SOURCE... DEST\n", Status: 2},
		{Cmd: []string{"cp", "-r", "/src", "/copy"}},
		{Cmd: []string{"ls", "-a", "/copy", "/copy/sub"}, Out: "/copy:\n.\n..\nf\nlnk\nsub\n\n/copy/sub:\n.\n..\ng\n"},
		{Cmd: []string{"stat", "-c", "%N %a", "/copy/lnk", "/copy/f", "/copy"}, Out: "/copy/lnk -> f 777\n/copy/f 751\n/copy 755\n"},
		{Cmd: []string{"cat", "/copy/sub/g"}, Out: "more\n"},
		{Cmd: []string{"cp", "-r", "/src", "/copy"}}, // into the existing directory
		{Cmd: []string{"ls", "/copy/src"}, Out: "f\nlnk\nsub\n"},
		{Cmd: []string{"cp", "-r", "/src", "/src/sub/in"}, Err: "cp: cannot copy a directory, /src, into itself, /src/sub/in\n", Status: 1},

		{Cmd: []string{"cp", "-p", "/src/f", "/other", "/pdir"}, Err: "cp: /pdir: no such file or directory\n", Status: 1},
		{Cmd: []string{"cp", "-a", "/src", "/acopy"}},
		{Cmd: []string{"stat", "-c", "%n %a %Y", "/acopy", "/acopy/f", "/acopy/sub/g"},
			Out: fmt.Sprintf("/acopy 755 %d\n/acopy/f 751 %d\n/acopy/sub/g 644 %d\n", old.Unix(), old.Unix(), old.Unix())},
		{Cmd: []string{"cp", "-p", "/src/f", "/pfile"}}, // -p also sets an existing file's mode
		{Cmd: []string{"stat", "-c", "%a %Y %s", "/pfile"}, Out: fmt.Sprintf("751 %d 5\n", old.Unix())},

		// mv
		{Cmd: []string{"mv", "/c1", "/c4"}},
		{Cmd: []string{"mv", "/c4", "/c2", "/dir"}},
		{Cmd: []string{"ls", "/dir"}, Out: "c2\nc4\nf\nother\n"},
		{Cmd: []string{"mv", "/dir/c4", "/dir/other"}}, // replaces
		{Cmd: []string{"cat", "/dir/other"}, Out: "x"},
		{Cmd: []string{"mv", "/missing", "/x"}, Err: "mv: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"mv", "/dir/c2", "/dir/other", "/other"}, Err: "mv: /other: not a directory\n", Status: 1},
		{Cmd: []string{"mv", "/dir", "/dir/sub"}, Err: "mv: /dir -> /dir/sub: invalid argument\n", Status: 1},
		{Cmd: []string{"mv", "/dir"}, Err: "mv: usage: mv [-f] SOURCE... DEST\n", Status: 2},

		// ln
		{Cmd: []string{"ln", "-s", "/src/f", "/s1"}},
		{Cmd: []string{"cat", "/s1"}, Out: "data\n"},
		{Cmd: []string{"ln", "/src/f", "/h1"}},
		{Cmd: []string{"stat", "-c", "%h %F", "/h1"}, Out: "2 regular file\n"},
		{Cmd: []string{"ln", "/other", "/h1"}, Err: "ln: /h1: file exists\n", Status: 1},
		{Cmd: []string{"ln", "-f", "/other", "/h1"}},
		{Cmd: []string{"cat", "/h1"}, Out: "x"},
		{Cmd: []string{"ln", "/missing", "/h2"}, Err: "ln: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"ln", "-s", "dangling", "/s2"}},
		{Cmd: []string{"mkdir", "/lnd"}},
		{Cmd: []string{"ln", "-s", "/src/f", "/other", "/lnd"}},
		{Cmd: []string{"stat", "-c", "%N", "/lnd/f", "/lnd/other", "/s2"}, Out: "/lnd/f -> /src/f\n/lnd/other -> /other\n/s2 -> dangling\n"},
		{Cmd: []string{"ln", "-s", "/src/f", "/lnd"}, Err: "ln: /lnd/f: file exists\n", Status: 1},
		{Cmd: []string{"ln", "-f", "/src/f", "/other", "/lnd"}}, // hard links replace the symlinks
		{Cmd: []string{"stat", "-c", "%N %h", "/lnd/f", "/lnd/other"}, Out: "/lnd/f 2\n/lnd/other 3\n"},
		{Cmd: []string{"ln", "-f", "/other", "/"}, Err: "ln: /other and /other are the same file\n", Status: 1},
		{Cmd: []string{"ln", "-sf", "/src", "/lnd/f"}, Err: "", Status: 0},
		{Cmd: []string{"ln", "/src/f", "/other", "/h1"}, Err: "ln: /h1: not a directory\n", Status: 1},

		// touch
		{Cmd: []string{"touch", "/t1", "/dir/t2"}},
		{Cmd: []string{"stat", "-c", "%F %a", "/t1"}, Out: "regular empty file 644\n"},
		{Cmd: []string{"touch", "-c", "/t3"}},
		{Cmd: []string{"ls", "/t3"}, Err: "ls: /t3: no such file or directory\n", Status: 1},
		{Cmd: []string{"touch", "/nodir/t"}, Err: "touch: /nodir/t: no such file or directory\n", Status: 1},
	})

	// ln TARGET links in the current directory.
	if err := b.o.Chdir("/lnd"); err != nil {
		t.Fatal(err)
	}
	b.check([]tc{
		{Cmd: []string{"ln", "-s", "/src/sub"}},
		{Cmd: []string{"stat", "-c", "%N", "sub"}, Out: "sub -> /src/sub\n"},
		{Cmd: []string{"ls", "sub"}, Out: "g\n"},
	})
	if err := b.o.Chdir("/"); err != nil {
		t.Fatal(err)
	}

	// touch moves an old file's times to now.
	if err := b.o.Chtimes("/other", old, old); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	b.check([]tc{{Cmd: []string{"touch", "/other"}}})
	if fi, err := b.o.Stat("/other"); err != nil || fi.ModTime().Before(before) {
		t.Errorf("touch of an old file: %v %v", fi.ModTime(), err)
	}
}

func TestStatDf(t *testing.T) {
	b := newBox(t)
	b.write("/f", "hello\n")
	if err := b.o.Chtimes("/f", old, old); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Symlink("f", "/l"); err != nil {
		t.Fatal(err)
	}
	fi, err := b.o.Lstat("/f")
	if err != nil {
		t.Fatal(err)
	}
	a := fi.Sys().(*libvos.Attr)
	when := old.Format("2006-01-02 15:04:05.000000000 -0700")
	want := fmt.Sprintf("  File: /f\n  Size: 6         \tBlocks: %-10d regular file\n Inode: %-10d\tLinks: 1\n"+
		"Access: (0644/-rw-r--r--)  Uid: (    0)   Gid: (    0)\nAccess: %s\nModify: %s\n", a.Blocks, a.Ino, when, when)
	out, errb, st := b.run("", "stat", "/f")
	if !strings.HasPrefix(out, want) || !strings.HasPrefix(out[len(want):], "Change: ") || st != 0 {
		t.Errorf("stat /f: %d %q\n%s\nwant it to start with\n%s", st, errb, out, want)
	}
	b.check([]tc{
		{Cmd: []string{"stat", "-c", "%n|%N|%s|%F|%A|%h|%u|%g|%Y|%%|%f", "/l"},
			Out: fmt.Sprintf("/l|/l -> f|1|symbolic link|lrwxrwxrwx|1|0|0|%d|%%|a1ff\n", mustLstat(t, b, "/l").ModTime().Unix())},
		{Cmd: []string{"stat", "-L", "-c", "%n %F %Y %X %f", "/l"}, Out: fmt.Sprintf("/l regular file %d %d 81a4\n", old.Unix(), old.Unix())},
		{Cmd: []string{"stat", "-c", "[%-5s] [%5s] [%04a]", "/f"}, Out: "[6    ] [    6] [0644]\n"},
		{Cmd: []string{"stat", "-c", "%F", "/"}, Out: "directory\n"},
		{Cmd: []string{"stat", "/missing", "/f"}, ErrHas: "stat: /missing: no such file or directory\n", Status: 1, Out: func() string { o, _, _ := b.run("", "stat", "/f"); return o }()},
		{Cmd: []string{"stat"}, Err: "stat: usage: stat [-L] [-c FORMAT] FILE...\n", Status: 2},
	})

	st2, err := b.o.Statfs()
	if err != nil {
		t.Fatal(err)
	}
	out, _, status := b.run("", "df")
	lines := strings.Split(out, "\n")
	if status != 0 || len(lines) != 3 || lines[0] != "Filesystem           1K-blocks      Used Available Use% Mounted on" {
		t.Fatalf("df: %d\n%s", status, out)
	}
	f := strings.Fields(lines[1])
	size := fmt.Sprint(st2.Blocks * uint64(st2.Bsize) / 1024)
	if len(f) != 6 || f[0] != "vos:u" || f[1] != size || f[5] != "/" || !strings.HasSuffix(f[4], "%") {
		t.Errorf("df row: %q (size %s)", lines[1], size)
	}
	out, _, status = b.run("", "df", "-h", "/f")
	if status != 0 || !strings.HasPrefix(out, "Filesystem                Size      Used Available Use% Mounted on\nvos:u    ") {
		t.Errorf("df -h: %d\n%s", status, out)
	}
	b.check([]tc{{Cmd: []string{"df", "/missing"}, Err: "df: /missing: no such file or directory\n", Status: 1}})
}

func mustLstat(t *testing.T, b *box, name string) fs.FileInfo {
	t.Helper()
	fi, err := b.o.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
