// Package manifest parses and validates an instance's YAML manifest. Every
// problem is reported with the file, line, field and reason, all of them at
// once, before anything starts.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vos-os/vos/ipc"
	"go.yaml.in/yaml/v3"
)

// Manifest is a parsed, validated instance description.
type Manifest struct {
	Name       string                `yaml:"name"`
	Nodes      []string              `yaml:"nodes"`
	Servers    map[string]ServerSpec `yaml:"servers"`
	Filesystem Filesystem            `yaml:"filesystem"`
	Memory     Memory                `yaml:"memory"`
	Network    Network               `yaml:"network"`
	Init       []Program             `yaml:"init"`
	Users      []User                `yaml:"users"`
}

// User is an account of the instance, written into its /etc/passwd and
// /etc/group at first boot (root and nobody are always there).
type User struct {
	Name string `yaml:"name"`
	UID  uint32 `yaml:"uid"`
	GID  uint32 `yaml:"gid"`  // default: UID
	Home string `yaml:"home"` // default: /home/NAME
}

// ServerSpec places one server role.
type ServerSpec struct {
	Node string `yaml:"node"` // "" for automatic placement
}

// Filesystem says what the instance's tree starts with.
type Filesystem struct {
	Import string   `yaml:"import"` // host folder copied in at first boot; absolute after Parse
	Host   []string `yaml:"host"`   // host folders bound read-only for confined binaries
}

// Memory is the instance's memory budget.
type Memory struct {
	Limit Size `yaml:"limit"`
}

// Network lists published ports.
type Network struct {
	Publish []Publish `yaml:"publish"`
}

// Program is a program started at boot.
type Program struct {
	Prog string            `yaml:"prog"`
	Args []string          `yaml:"args"`
	Env  map[string]string `yaml:"env"`
	Node string            `yaml:"node"`
}

// Publish maps a host port of a node to a VOS port.
type Publish struct {
	HostPort int
	Port     int
	Proto    string // tcp or udp
}

func (p Publish) String() string {
	return fmt.Sprintf("%d:%d/%s", p.HostPort, p.Port, p.Proto)
}

// Size is a byte count written as 512MiB, 1G, 4096 ...
type Size int64

// Error is one problem in a manifest.
type Error struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Errors is every problem found; Error() lists them one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// schema lists the keys each mapping may have; "*" stands for any key
// (checked elsewhere), as under servers.
var schema = map[string][]string{
	"":           {"name", "nodes", "servers", "filesystem", "memory", "network", "init", "users"},
	"servers":    {"*"},
	"servers.*":  {"node"},
	"filesystem": {"import", "host"},
	"memory":     {"limit"},
	"network":    {"publish"},
	"init[]":     {"prog", "args", "env", "node"},
	"init[].env": {"*"},
	"users[]":    {"name", "uid", "gid", "home"},
}

// scalars validates the scalar fields with a syntax of their own, so that
// every bad one is reported, not only the first the decoder meets.
var scalars = map[string]func(string) error{
	"memory.limit":      func(s string) error { _, err := ParseSize(s); return err },
	"network.publish[]": func(s string) error { _, err := ParsePublish(s); return err },
}

// checker collects errors with line numbers while walking the YAML tree.
type checker struct {
	file  string
	lines map[string]int // field path -> line
	errs  Errors
}

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.lineOf(field), Field: field, Reason: fmt.Sprintf(format, args...)})
}

// lineOf finds the line of field, or of its nearest parent.
func (c *checker) lineOf(field string) int {
	for f := field; ; {
		if l, ok := c.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			return c.lines[""]
		}
		f = f[:i]
	}
}

// walk records lines and rejects unknown keys. path is the field path
// ("servers.fs"), shape the schema key ("servers.*").
func (c *checker) walk(n *yaml.Node, path, shape string) {
	c.lines[path] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		allowed, known := schema[shape]
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			child := key
			if path != "" {
				child = path + "." + key
			}
			c.lines[child] = k.Line
			if seen[key] {
				c.add(child, "duplicate key")
				continue
			}
			seen[key] = true
			childShape := key
			if shape != "" {
				childShape = shape + "." + key
			}
			if known {
				switch {
				case slices.Contains(allowed, "*"):
					childShape = shape + ".*"
				case !slices.Contains(allowed, key):
					c.add(child, "unknown key (want one of %s)", strings.Join(allowed, ", "))
					continue
				}
			}
			c.walk(v, child, childShape)
		}
	case yaml.ScalarNode:
		if check := scalars[shape]; check != nil {
			if err := check(n.Value); err != nil {
				c.add(path, "%v", err)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			c.walk(item, fmt.Sprintf("%s[%d]", path, i), shape+"[]")
		}
	}
}

// Parse reads and validates a manifest file. Relative paths in it are
// resolved against the file's folder.
func Parse(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return ParseBytes(data, path, true)
}

// ParseBytes validates a manifest held in memory; file names it in errors
// and anchors relative paths. With local, host paths (filesystem.import)
// are checked on this machine; a node parsing a manifest sent from
// elsewhere leaves that to the sender.
func ParseBytes(data []byte, file string, local bool) (*Manifest, error) {
	c := &checker{file: file, lines: map[string]int{}}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Reason: "empty manifest"}}
		}
		return nil, Errors{{File: file, Reason: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: doc.Line, Reason: "a manifest is a mapping of keys (name, servers, ...)"}}
	}
	c.walk(doc, "", "")
	var m Manifest
	if err := doc.Decode(&m); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, e := range te.Errors {
				c.errs = append(c.errs, &Error{File: file, Reason: strings.TrimPrefix(e, "yaml: ")})
			}
		case len(c.errs) == 0: // otherwise the walk already said it
			c.add("", "%v", err)
		}
		return nil, c.errs
	}
	m.check(c, filepath.Dir(file), local)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return &m, nil
}

// check validates fields that stand alone (no cluster knowledge).
func (m *Manifest) check(c *checker, dir string, local bool) {
	if m.Name == "" {
		c.add("name", "missing: every instance needs a name")
	} else if err := ipc.CheckName("instance", m.Name); err != nil {
		c.add("name", "%v", err)
	}
	seen := map[string]bool{}
	for i, n := range m.Nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		if err := ipc.CheckName("node", n); err != nil {
			c.add(f, "%v", err)
		} else if seen[n] {
			c.add(f, "duplicate node %q", n)
		}
		seen[n] = true
	}
	for _, role := range sortedKeys(m.Servers) {
		f := "servers." + role
		if !ipc.IsRole(role) {
			c.add(f, "unknown role %q (want one of %s)", role, strings.Join(ipc.Roles, ", "))
			continue
		}
		if n := m.Servers[role].Node; n != "" && len(m.Nodes) > 0 && !seen[n] {
			c.add(f+".node", "node %q is not in the instance's nodes %v", n, m.Nodes)
		}
	}
	if m.Filesystem.Import != "" {
		p := m.Filesystem.Import
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m.Filesystem.Import = p
		if local {
			if st, err := os.Stat(p); err != nil {
				c.add("filesystem.import", "cannot read %s: %v", p, errors.Unwrap(err))
			} else if !st.IsDir() {
				c.add("filesystem.import", "%s is not a folder", p)
			}
		}
	}
	for i, h := range m.Filesystem.Host {
		if !filepath.IsAbs(h) || filepath.Clean(h) != h {
			c.add(fmt.Sprintf("filesystem.host[%d]", i), "%q must be a clean absolute path", h)
		}
	}
	if m.Memory.Limit < 0 {
		c.add("memory.limit", "must not be negative")
	}
	hostPorts := map[string]bool{}
	for i, p := range m.Network.Publish {
		if p.Port == 0 {
			continue // unparsable: reported by the walk
		}
		k := fmt.Sprintf("%d/%s", p.HostPort, p.Proto)
		if hostPorts[k] {
			c.add(fmt.Sprintf("network.publish[%d]", i), "host port %s is published twice", k)
		}
		hostPorts[k] = true
	}
	for i, p := range m.Init {
		f := fmt.Sprintf("init[%d]", i)
		if strings.TrimSpace(p.Prog) == "" {
			c.add(f+".prog", "missing: name the program to start")
		}
		if p.Node != "" && len(m.Nodes) > 0 && !seen[p.Node] {
			c.add(f+".node", "node %q is not in the instance's nodes %v", p.Node, m.Nodes)
		}
	}
	names, uids := map[string]bool{"root": true, "nobody": true}, map[uint32]bool{0: true, 65534: true}
	for i := range m.Users {
		u := &m.Users[i]
		f := fmt.Sprintf("users[%d]", i)
		if !validUserName(u.Name) {
			c.add(f+".name", "%q: want 1-32 of [a-z0-9_-], starting with a letter or _", u.Name)
		} else if names[u.Name] {
			c.add(f+".name", "%q is taken", u.Name)
		}
		names[u.Name] = true
		if u.UID == 0 || u.UID >= 65534 {
			c.add(f+".uid", "%d: want 1 to 65533 (0 is root, 65534 nobody)", u.UID)
		} else if uids[u.UID] {
			c.add(f+".uid", "%d is taken", u.UID)
		}
		uids[u.UID] = true
		if u.GID == 0 {
			u.GID = u.UID
		}
		if u.GID >= 65536 {
			c.add(f+".gid", "%d: want 1 to 65535", u.GID)
		}
		if u.Home == "" {
			u.Home = "/home/" + u.Name
		} else if !strings.HasPrefix(u.Home, "/") {
			c.add(f+".home", "%q is not an absolute path", u.Home)
		}
	}
}

func validUserName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// CheckNodes validates the manifest against the cluster's nodes: every
// node it names must exist.
func (m *Manifest) CheckNodes(known []string) error {
	set := map[string]bool{}
	for _, n := range known {
		set[n] = true
	}
	var errs Errors
	unknown := func(field, n string) {
		errs = append(errs, &Error{Field: field, Reason: fmt.Sprintf("unknown node %q (the cluster has %s)", n, strings.Join(known, ", "))})
	}
	for i, n := range m.Nodes {
		if !set[n] {
			unknown(fmt.Sprintf("nodes[%d]", i), n)
		}
	}
	for _, role := range sortedKeys(m.Servers) {
		if n := m.Servers[role].Node; n != "" && !set[n] {
			unknown("servers."+role+".node", n)
		}
	}
	for i, p := range m.Init {
		if p.Node != "" && !set[p.Node] {
			unknown(fmt.Sprintf("init[%d].node", i), p.Node)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var units = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"k", 1 << 10}, {"B", 1},
}

// ParseSize reads 512MiB, 1G, 4096 (bytes).
func ParseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || num == "" || n < 0 {
		return 0, fmt.Errorf("bad size %q (want a whole number of bytes with an optional unit: 512MiB, 2G)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(n * mult), nil
}

// UnmarshalYAML implements yaml.Unmarshaler. A bad value decodes as 0
// without an error: Parse has reported it already with its line (an error
// here would stop the decoder at the first one).
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	*s, _ = ParseSize(n.Value)
	return nil
}

// ParsePublish reads "8080:80" or "8080:80/udp".
func ParsePublish(s string) (Publish, error) {
	p := Publish{Proto: "tcp"}
	spec := s
	if i := strings.IndexByte(spec, '/'); i >= 0 {
		p.Proto = spec[i+1:]
		spec = spec[:i]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return p, fmt.Errorf("bad protocol in %q (want tcp or udp)", s)
		}
	}
	hp, vp, ok := strings.Cut(spec, ":")
	if !ok {
		return p, fmt.Errorf("bad port mapping %q (want HOSTPORT:PORT, as 8080:80)", s)
	}
	var err error
	if p.HostPort, err = port(hp); err != nil {
		return p, fmt.Errorf("host port in %q: %v", s, err)
	}
	if p.Port, err = port(vp); err != nil {
		return p, fmt.Errorf("VOS port in %q: %v", s, err)
	}
	return p, nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return n, nil
}

// UnmarshalYAML implements yaml.Unmarshaler; as Size's, it leaves errors
// to Parse.
func (p *Publish) UnmarshalYAML(n *yaml.Node) error {
	*p, _ = ParsePublish(n.Value)
	return nil
}
