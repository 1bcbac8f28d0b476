package ipc

// Names of the JetStream assets and of the subjects the kernel keeps for
// itself: like the subject grammar (subject.go), they live only here.

// Cluster state: JetStream KV buckets shared by every node.
const (
	BucketNodes     = "VOS_NODES" // node -> its record, refreshed by its heartbeat
	BucketInstances = "VOS_INST"  // instance -> its record (manifest, state)
	BucketPlacement = "VOS_PLACE" // inst.role -> desired placement
	BucketServers   = "VOS_SRV"   // inst.role -> observed server state
	BucketLease     = "VOS_LEASE" // "leader" -> the node that re-places servers of dead nodes
	BucketIDs       = "VOS_IDS"   // "slot.<k>" -> the instance owning host id range k
	// SnapshotBucket is the object store of server snapshots, object
	// "<inst>/<role>".
	SnapshotBucket = "VOS_SNAP"
)

// JournalStream is the JetStream stream of a server's journal.
func JournalStream(inst, role string) string { return "VOSJ_" + inst + "_" + role }

// BlockBucket is the JetStream KV bucket of an instance's file blocks.
func BlockBucket(inst string) string { return "VOSB_" + inst }

// HeartbeatSubject is where a node publishes its heartbeats (core NATS,
// so they flow while JetStream elects leaders); "*" subscribes to all.
func HeartbeatSubject(node string) string { return subjectRoot + ".ctl.hb." + node }

// JournalSubject is the subject a server's journal records are published on.
func JournalSubject(inst, role string) string { return "vosj." + inst + "." + role }

// SnapshotName is a server's object in SnapshotBucket.
func SnapshotName(inst, role string) string { return inst + "/" + role }

// KVStream is the stream JetStream keeps a KV bucket in, and
// KVSubjectPrefix the prefix of its keys' subjects (JetStream's own
// naming, spelled here so that code reading a bucket's stream directly
// does not spell it).
func KVStream(bucket string) string        { return "KV_" + bucket }
func KVSubjectPrefix(bucket string) string { return "$KV." + bucket + "." }

// Host id ranges: instance k's ids 0–65535 are host ids
// HostIDBase + k*IDRange … + 65535, k in 0 … IDSlots-1; no two instances
// share a range, and every node maps an instance the same way.
const (
	HostIDBase = 1 << 20 // above the ids a host's own users and services take
	IDRange    = 1 << 16
	IDSlots    = 4096
)
