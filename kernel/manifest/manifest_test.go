package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `name: web
nodes: [n1, n2]
servers:
  pm:  {node: n1}
  fs:  {node: n2}
  mm:  {}
  net: {}
filesystem:
  import: ./rootfs
  host: [/bin, /lib, /usr]
memory: {limit: 512MiB}
network:
  publish: ["8080:80", "5353:53/udp"]
init:
  - {prog: httpd, args: ["-p", "80"], env: {MODE: prod}}
`

func writeManifest(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notadir"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseGood(t *testing.T) {
	p := writeManifest(t, good)
	m, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "web" || len(m.Nodes) != 2 || m.Servers["fs"].Node != "n2" || m.Servers["mm"].Node != "" {
		t.Errorf("parsed %+v", m)
	}
	if m.Memory.Limit != 512<<20 {
		t.Errorf("limit %d", m.Memory.Limit)
	}
	if m.Filesystem.Import != filepath.Join(filepath.Dir(p), "rootfs") {
		t.Errorf("import not resolved against the manifest: %s", m.Filesystem.Import)
	}
	want := []Publish{{8080, 80, "tcp"}, {5353, 53, "udp"}}
	for i, w := range want {
		if m.Network.Publish[i] != w {
			t.Errorf("publish[%d] = %v, want %v", i, m.Network.Publish[i], w)
		}
	}
	if m.Init[0].Prog != "httpd" || m.Init[0].Args[1] != "80" || m.Init[0].Env["MODE"] != "prod" {
		t.Errorf("init %+v", m.Init)
	}
	if err := m.CheckNodes([]string{"n1", "n2", "n3"}); err != nil {
		t.Errorf("known nodes rejected: %v", err)
	}
	if err := m.CheckNodes([]string{"n1"}); err == nil || !strings.Contains(err.Error(), `unknown node "n2"`) ||
		!strings.Contains(err.Error(), "servers.fs.node") {
		t.Errorf("unknown node: %v", err)
	}
}

func TestMinimal(t *testing.T) {
	m, err := ParseBytes([]byte("name: a1\n"), "a.yaml", true)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "a1" || m.Memory.Limit != 0 || len(m.Servers) != 0 {
		t.Errorf("%+v", m)
	}
}

// TestErrors: every bad field is named, with its line and the reason.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // substrings of the error, each must appear
	}{
		{"empty", "", []string{"empty manifest"}},
		{"not yaml", "name: [oops\n", []string{"not valid YAML"}},
		{"not a mapping", "- a\n- b\n", []string{"a mapping of keys"}},
		{"missing name", "nodes: [n1]\n", []string{"name: missing"}},
		{"bad name", "name: Web_1\n", []string{":1: name:", "lowercase"}},
		{"reserved name", "name: ctl\n", []string{"reserved"}},
		{"long name", "name: " + strings.Repeat("a", 40) + "\n", []string{"longer than 32"}},
		{"unknown key", "name: w\ncolour: blue\n", []string{":2: colour: unknown key"}},
		{"unknown nested key", "name: w\nmemory: {limit: 1G, swap: 2G}\n", []string{"memory.swap: unknown key"}},
		{"unknown server key", "name: w\nservers:\n  fs: {node: n1, replicas: 3}\n", []string{":3: servers.fs.replicas: unknown key"}},
		{"unknown role", "name: w\nservers:\n  dns: {}\n", []string{":3: servers.dns: unknown role \"dns\""}},
		{"duplicate key", "name: w\nname: v\n", []string{"name: duplicate key"}},
		{"duplicate node", "name: w\nnodes: [n1, n1]\n", []string{"nodes[1]: duplicate node"}},
		{"bad node name", "name: w\nnodes: [N1]\n", []string{"nodes[0]:", "lowercase"}},
		{"server node not in nodes", "name: w\nnodes: [n1]\nservers:\n  fs: {node: n9}\n", []string{"servers.fs.node: node \"n9\" is not in"}},
		{"bad size", "name: w\nmemory: {limit: lots}\n", []string{":2: memory.limit: bad size \"lots\""}},
		{"negative size", "name: w\nmemory: {limit: -5M}\n", []string{"memory.limit: bad size"}},
		{"huge size", "name: w\nmemory: {limit: 99999999999TiB}\n", []string{"too large"}},
		{"bad publish", "name: w\nnetwork:\n  publish: [\"8080\"]\n", []string{":3: network.publish[0]: bad port mapping"}},
		{"bad port", "name: w\nnetwork:\n  publish: [\"8080:70000\"]\n", []string{"not a port"}},
		{"bad proto", "name: w\nnetwork:\n  publish: [\"80:80/sctp\"]\n", []string{"bad protocol"}},
		{"duplicate publish", "name: w\nnetwork:\n  publish: [\"80:80\", \"80:81\"]\n", []string{"network.publish[1]: host port 80/tcp is published twice"}},
		{"missing import", "name: w\nfilesystem: {import: ./nope}\n", []string{"filesystem.import: cannot read"}},
		{"import not a folder", "name: w\nfilesystem: {import: notadir}\n", []string{"is not a folder"}},
		{"relative host bind", "name: w\nfilesystem: {host: [usr/lib]}\n", []string{"filesystem.host[0]", "absolute"}},
		{"init without prog", "name: w\ninit:\n  - {args: [x]}\n", []string{"init[0].prog: missing"}},
		{"init unknown key", "name: w\ninit:\n  - {prog: sh, user: bob}\n", []string{"init[0].user: unknown key"}},
		{"wrong type", "name: w\nnodes: 5\n", []string{"cannot unmarshal"}},
		{"several at once", "name: W\ncolour: x\nmemory: {limit: zz}\n", []string{"name:", "colour:", "memory.limit:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeManifest(t, tc.text)
			_, err := Parse(p)
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.text)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, not manifest.Errors", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p) {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]Size{"0": 0, "4096": 4096, "1k": 1024, "2KiB": 2048, "512MiB": 512 << 20,
		"1G": 1 << 30, "1GB": 1e9, "3 MiB": 3 << 20, "7B": 7}
	for in, want := range cases {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "1.5G", "1X", "-1", "0x10"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// TestUsers: the manifest's users are checked and given defaults.
func TestUsers(t *testing.T) {
	m, err := ParseBytes([]byte("name: u\nusers:\n  - {name: alice, uid: 1000}\n  - {name: bob, uid: 1001, gid: 100, home: /srv/bob}\n"), "u.yaml", false)
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Users[0]; a.GID != 1000 || a.Home != "/home/alice" {
		t.Errorf("defaults: %+v", a)
	}
	if b := m.Users[1]; b.GID != 100 || b.Home != "/srv/bob" {
		t.Errorf("given: %+v", b)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"users: [{name: root, uid: 7}]", "users[0].name"},
		{"users: [{name: Alice, uid: 7}]", "users[0].name"},
		{"users: [{name: a, uid: 0}]", "users[0].uid"},
		{"users: [{name: a, uid: 65534}]", "users[0].uid"},
		{"users: [{name: a, uid: 7}, {name: b, uid: 7}]", "users[1].uid"},
		{"users: [{name: a, uid: 7, home: rel}]", "users[0].home"},
		{"users: [{name: a, uid: 7, shell: /bin/sh}]", "users[0].shell"},
	} {
		_, err := ParseBytes([]byte("name: u\n"+bad.yaml+"\n"), "u.yaml", false)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: got %v, want an error naming %s", bad.yaml, err, bad.want)
		}
	}
}
