package fs

import (
	"testing"

	"github.com/vos-os/vos/ipc"
)

// TestLegacyBlocks: a tree made before size records said which blocks
// they store (version 0) counts its files as dense, from a snapshot and
// from its old records alike; a new tree trusts its records.
func TestLegacyBlocks(t *testing.T) {
	old := New(Options{})
	old.st.Inodes[5] = &inode{Ino: 5, Mode: ipc.S_IFREG | 0o644, Nlink: 1, Size: 300 << 10}
	snap, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	if err := s.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if b := s.st.Inodes[5].attr().Blocks; b != 600 {
		t.Errorf("a version-0 file of 300 KiB from a snapshot: %d blocks, want 600", b)
	}
	if err := s.Apply(recSize, &sizeRec{Ino: 5, Size: 400 << 10}); err != nil {
		t.Fatal(err)
	}
	if b := s.st.Inodes[5].attr().Blocks; b != 800 {
		t.Errorf("after an old write record to 400 KiB: %d blocks, want 800", b)
	}
	s.st.Version = stateVersion
	if err := s.Apply(recSize, &sizeRec{Ino: 5, Size: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	if b := s.st.Inodes[5].attr().Blocks; b != 800 {
		t.Errorf("a new tree's record storing nothing: %d blocks, want 800", b)
	}
}
