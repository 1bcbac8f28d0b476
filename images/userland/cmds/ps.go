package cmds

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("ps", ps) }

// ps lists the instance's processes, one a line in pid order: PID, parent,
// process group, user id, node, state (R running, Z zombie), TIME and the
// command line. PM records no CPU time, so TIME is the time since the
// process started ([[DD-]HH:]MM:SS, as ps -o etime). Every process is
// always listed, so the options of other ps (-e, -f, -A, aux…) are
// accepted and change nothing.
func ps(e *Env, args ...string) error {
	f := newFlags(e, "ps", "[-aefxA]")
	for _, c := range "aefxAlwu" {
		f.Bool(string(c), false, "accepted; every process is listed")
	}
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	for _, a := range rest { // BSD style: ps aux
		if strings.Trim(a, "aexuwfl") != "" {
			return usage("ps [-aefxA]")
		}
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	procs, err := o.Processes()
	if err != nil {
		return err
	}
	slices.SortFunc(procs, func(a, b libvos.ProcInfo) int { return a.PID - b.PID })
	now := time.Now()
	rows := [][]string{{"PID", "PPID", "PGID", "UID", "NODE", "STAT", "TIME", "COMMAND"}}
	for _, p := range procs {
		node := p.Node
		if node == "" {
			node = "-" // init, which PM runs itself
		}
		rows = append(rows, []string{strconv.Itoa(p.PID), strconv.Itoa(p.PPID), strconv.Itoa(p.PGID),
			strconv.FormatUint(uint64(p.UID), 10), node, p.State, elapsed(p.Started, now), commandLine(&p)})
	}
	w := bufio.NewWriter(e.Stdout)
	table(w, rows, []bool{true, true, true, true, false, false, true, false})
	return w.Flush()
}

// commandLine is a process's argv as ps shows it; a zombie's is its
// program's name in brackets, marked defunct.
func commandLine(p *libvos.ProcInfo) string {
	if p.State == libvos.ProcZombie {
		return "[" + base(p.Prog) + "] <defunct>"
	}
	return strings.Join(append([]string{p.Prog}, p.Args...), " ")
}

// elapsed is the time since start as ps -o etime shows it: MM:SS,
// HH:MM:SS, or DD-HH:MM:SS; "-" if unknown.
func elapsed(start, now time.Time) string {
	if start.IsZero() {
		return "-"
	}
	s := max(int64(now.Sub(start)/time.Second), 0)
	d, h, m := s/86400, s/3600%24, s/60%60
	s %= 60
	switch {
	case d > 0:
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	case h > 0:
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

// table writes rows in columns one space apart, each as wide as its
// widest cell, right-aligned where right says; the last column is not
// padded.
func table(w io.Writer, rows [][]string, right []bool) {
	if len(rows) == 0 {
		return
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var sb strings.Builder
	for _, r := range rows {
		sb.Reset()
		for i, c := range r {
			if i > 0 {
				sb.WriteByte(' ')
			}
			pad := strings.Repeat(" ", widths[i]-len(c))
			switch {
			case i == len(r)-1:
				if right[i] {
					sb.WriteString(pad)
				}
				sb.WriteString(c)
			case right[i]:
				sb.WriteString(pad + c)
			default:
				sb.WriteString(c + pad)
			}
		}
		sb.WriteByte('\n')
		io.WriteString(w, sb.String())
	}
}
