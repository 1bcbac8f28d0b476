// Package kernel is the node agent that vosd runs: it embeds nats-server
// with JetStream (or joins an existing NATS), registers the node with a
// heartbeat, keeps instances and their placement in JetStream KV, and
// reconciles: it starts the servers placed on this node, stops the ones no
// longer placed, and restarts a crashed one with back-off (the kubelet
// pattern, and MINIX's reincarnation server). It also serves the control
// plane that the vos tool talks to and the node's system task.
//
// Servers run as goroutines of vosd, each with its own NATS connection,
// journal and lifecycle, so one can be stopped, killed and restarted alone.
package kernel
