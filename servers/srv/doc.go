// Package srv is the server framework every VOS server is built on.
//
// A server is a dispatch table (op -> handler, with a support level per
// row, as gVisor's syscall tables) plus a state machine. Handlers validate
// a request and Commit journal records; a committed record is applied to
// memory at once, through the same Apply that replays it at start-up, and
// published to the server's JetStream stream. The reply leaves only after
// JetStream acknowledged every record the call committed ("journaled before
// the reply"). Many calls' records are in flight at once, so the acks of
// concurrent calls share round trips.
//
// On start a server restores its latest snapshot and replays the journal
// after it, so it can be stopped, killed or moved and come back with its
// state. Snapshots are taken in the background every SnapshotEvery records
// and the journal before them is purged, which bounds the replay time.
//
// Publishing with an expected last sequence fences a server: if a second
// copy (a stale one after a failover) ever appends to the same stream, the
// loser's append fails and it stops instead of forking the state.
//
// Lock order: the state lock (Server.Lock/RLock) before anything inside
// the journal; handlers never hold it across a call to another server.
package srv
