// Package ipc is the message layer every VOS part shares: the msgpack
// envelope, Linux errno values, op codes with a base per server, one named
// request and reply type per op (checked in a registry at start-up), the
// subject grammar, and the NATS primitives call, send, notify and serve.
//
// A server's message types live here, as MINIX keeps them in shared headers,
// so that libvos and the kernel talk to a server without importing it.
//
// The layering is strict: ipc imports NATS and msgpack and nothing of VOS.
package ipc
