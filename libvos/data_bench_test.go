package libvos_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

// BenchmarkData times the data path of one File against a real FS server
// (blocks in its cache: the client and the messages are what is measured).
func BenchmarkData(b *testing.B) {
	_, c := vostest.Instance(b, inst)
	o := libvos.New(c, inst)
	const size = 16 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	f, err := o.Create("/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		b.Fatal(err)
	}
	// run does op on the block at a moving offset, wrapping at size.
	run := func(name string, block int, op func(p []byte, off int64) (int, error)) {
		b.Run(name, func(b *testing.B) {
			p := make([]byte, block)
			b.SetBytes(int64(block))
			b.ReportAllocs()
			off := int64(0)
			for b.Loop() {
				if off+int64(block) > size {
					off = 0
				}
				if n, err := op(p, off); n != block || err != nil {
					b.Fatalf("%d at %d: %d, %v", block, off, n, err)
				}
				off += int64(block)
			}
		})
	}
	seq := func(p []byte, off int64) (int, error) {
		if off == 0 {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return 0, err
			}
		}
		return f.Read(p)
	}
	run("WriteAt-1MiB", ipc.MaxIO, func(p []byte, off int64) (int, error) { return f.WriteAt(p, off) })
	run("WriteAt-8MiB", 8*ipc.MaxIO, func(p []byte, off int64) (int, error) { return f.WriteAt(p, off) })
	run("ReadAt-1MiB", ipc.MaxIO, f.ReadAt)
	run("ReadAt-8MiB", 8*ipc.MaxIO, f.ReadAt)
	run("Read-1MiB", ipc.MaxIO, seq)
	run("Read-32KiB", 32<<10, seq) // served by read-ahead
	b.Run("WriteTo-16MiB", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if n, err := f.WriteTo(io.Discard); n != size || err != nil {
				b.Fatalf("WriteTo: %d, %v", n, err)
			}
		}
	})
	b.Run("ReadFrom-16MiB", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if n, err := f.ReadFrom(bytes.NewReader(data)); n != size || err != nil {
				b.Fatalf("ReadFrom: %d, %v", n, err)
			}
		}
	})
}
