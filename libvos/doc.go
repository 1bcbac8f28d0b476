// Package libvos is the POSIX-ish client library that VOS programs link.
// Every OS service is a message to one of the instance's servers: a Stat is
// an fs.lookup to the FS server, a Write an fs.write, so a program runs the
// same on whichever node hosts it.
//
// The API is shaped like Go's os and io/fs packages so ordinary Go code
// ports by changing an import:
//
//	o := libvos.New(conn, "web")
//	f, err := o.Create("/tmp/hello")
//	...
//	data, err := o.ReadFile("/etc/motd")
//	fs.WalkDir(o.FS(), ".", fn)
//
// Errors are *fs.PathError (or *os.LinkError for two-name operations)
// wrapping the server's ipc.Errno, so errors.Is(err, fs.ErrNotExist) and
// errors.Is(err, syscall.ENOENT) work as they do with the os package; a
// failure of the transport (no FS server, a timeout) is the *ipc.CallError.
//
// Names resolve as Linux resolves them: an absolute name from the
// instance's root, a relative one from the current directory, which libvos
// sends as an inode (the At of ipc.FSLookupReq) with the raw name, so the
// server, not the client, interprets "..", symlinks and permissions.
//
// Data moves in ipc.MaxIO messages, several in flight at once; a
// sequential reader reads ahead. Read-ahead data is dropped as soon as
// anything written through the same OS could have changed it, so a process
// always reads its own writes; another process's write that lands while a
// read-ahead chunk is waiting to be consumed is seen from the next chunk on
// (close-to-open consistency, as NFS gives).
package libvos
