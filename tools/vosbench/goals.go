package main

import (
	"fmt"
	"runtime"
	"strings"
)

func goVersion() string { return runtime.Version() }

func runtimeCPUs() int { return runtime.NumCPU() }

// goal is a target an issue set, checked against this run.
type goal struct {
	text  string
	check func(find func(group, name string) *result) (ok bool, got string, known bool)
}

var goals = []goal{
	{"framework overhead at most 20% over raw NATS (in-process, 1 caller, time/op)", func(find func(string, string) *result) (bool, string, bool) {
		return overhead(find, "in-process, 1 caller", 0.20)
	}},
	{"framework overhead at most 20% over raw NATS (loopback TCP, 1 caller, time/op)", func(find func(string, string) *result) (bool, string, bool) {
		return overhead(find, "loopback TCP, 1 caller", 0.20)
	}},
	{"at least 50k calls/s with 16 callers (in-process)", func(find func(string, string) *result) (bool, string, bool) {
		r := find("in-process, 16 caller", "VOS call (ping")
		if r == nil {
			return false, "", false
		}
		return r.perSec >= 50000, fmt.Sprintf("%.0f calls/s", r.perSec), true
	}},
}

func overhead(find func(string, string) *result, group string, max float64) (bool, string, bool) {
	raw, vos := find(group, "raw NATS"), find(group, "VOS call (ping")
	if raw == nil || vos == nil {
		return false, "", false
	}
	o := vos.nsPerOp/raw.nsPerOp - 1
	return o <= max, fmt.Sprintf("%+.0f%%", 100*o), true
}

func printGoals(rs []result) {
	find := func(group, name string) *result {
		for i := range rs {
			if strings.Contains(rs[i].c.Group, group) && strings.Contains(rs[i].c.Name, name) {
				return &rs[i]
			}
		}
		return nil
	}
	fmt.Println("== Goals")
	for _, g := range goals {
		ok, got, known := g.check(find)
		switch {
		case !known:
			fmt.Printf("  %-88s not measured in this run\n", g.text)
		case ok:
			fmt.Printf("  %-88s met     (%s)\n", g.text, got)
		default:
			fmt.Printf("  %-88s MISSED  (%s)\n", g.text, got)
		}
	}
}
