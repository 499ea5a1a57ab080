// Package store is dpcops' embedded state: an SQLite database (pure Go,
// modernc.org/sqlite) in WAL mode that holds datapoints, alarm state and
// transition history, the notification outbox, collector health,
// maintenance runs and incidents.
//
// All writes go through one connection, so they are serialised inside the
// process; reads use a pool of read-only connections that WAL lets run
// beside the writer. The schema is versioned by migrations that run at
// open; a store written by a newer dpcops refuses to open rather than be
// misread. Every commit is synchronous (synchronous=FULL): a write the
// store has acknowledged survives a crash of the process or the machine.
//
// One process runs the engines on a store: serve (and demo, collect
// --once) opens it with Options.Exclusive, a flock on dpcops.lock that the
// kernel releases however the process ends; the CLI's other commands
// open it beside serve without the lock. Each package that owns a table prunes it with
// PruneRows, in batches of PruneBatch rows, each its own transaction, so
// that a prune never holds the single writer for long.
package store
