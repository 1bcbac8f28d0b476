package cmds

import (
	"fmt"
	"math"
	"strconv"
)

func init() { Register("df", df) }

// df reports the space of the instance's filesystem, mounted on /: df [-hk]
// [FILE...]: its size, the space used and available in 1K blocks (-h: in
// powers of 1024 with a unit, as 1.5G), and the percentage used. There is
// one filesystem, so a FILE only has to exist.
func df(e *Env, args ...string) error {
	f := newFlags(e, "df", "[-hk] [FILE...]")
	human := f.Bool("h", false, "sizes in powers of 1024 (K, M, G…)")
	f.Bool("k", false, "sizes in 1K blocks (the default)")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad, found := false, len(names) == 0
	for _, name := range names {
		if _, err := o.Stat(name); err != nil {
			warn(e, "df", err)
			bad = true
		} else {
			found = true
		}
	}
	if !found {
		return failed(bad)
	}
	st, err := o.Statfs()
	if err != nil {
		return err
	}
	bs := uint64(max(st.Bsize, 0))
	size, avail := st.Blocks*bs, min(st.Bfree, st.Blocks)*bs
	used := size - avail
	pct := 0
	if used+avail > 0 {
		pct = int(math.Ceil(float64(used) * 100 / float64(used+avail)))
	}
	row, head := func(n uint64) string { return strconv.FormatUint(n/1024, 10) }, "1K-blocks"
	if *human {
		row, head = humanSize, "Size"
	}
	_, err = fmt.Fprintf(e.Stdout, "%-20s %9s %9s %9s %4s %s\n%-20s %9s %9s %9s %3d%% %s\n",
		"Filesystem", head, "Used", "Available", "Use%", "Mounted on",
		"vos:"+o.Instance(), row(size), row(used), row(avail), pct, "/")
	if err != nil {
		return err
	}
	return failed(bad)
}

// humanSize is a number of bytes as df -h shows it: rounded up, with one
// decimal below 10 of its unit ("1.5G", "12M", "512").
func humanSize(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10)
	}
	v, u := float64(n)/1024, 0
	for {
		if v < 10 && math.Ceil(v*10)/10 < 10 {
			return fmt.Sprintf("%.1f%c", math.Ceil(v*10)/10, units[u])
		}
		if c := math.Ceil(v); c < 1024 || u == len(units)-1 {
			return fmt.Sprintf("%.0f%c", c, units[u])
		}
		v /= 1024
		u++
	}
}
