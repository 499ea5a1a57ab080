// Package store is dpcops' embedded state: an SQLite database (pure Go,
// modernc.org/sqlite) in WAL mode, or with Options.DSN a PostgreSQL
// database, that holds datapoints, alarm state and transition history,
// the notification outbox, collector health, maintenance runs and
// incidents.
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
//
// # Table ownership
//
// Every table the migrations create has one owner, the package whose SQL
// writes it. Only the owner writes a table, and only the owner's SQL names
// it: another package reads it through the owner's functions (such as
// alarm.StateIn, alarm.TransitionsBetween, notify.DeliveriesOf,
// notify.Waiting, maintain.RunsBetween and Store.FirstDatapointBefore),
// which take a Querier so that the caller can run them inside its own
// transaction. A change to a table's columns or meaning is then made in one
// package, beside every statement that depends on it, and no statement
// elsewhere can step around the guarantees its owner keeps (locks,
// compare-and-set, the order of its writes). TestTableOwnership reads the
// two lists below and enforces them on the SQL in every non-test Go file.
//
//	TABLE                    OWNER
//	series                   internal/store
//	datapoints               internal/store
//	collector_health         internal/store
//	collector_state          internal/store
//	log_lines                internal/store
//	pipeline_runs            internal/store
//	alarm_state              internal/alarm
//	alarm_history            internal/alarm
//	outbox                   internal/notify
//	notify_open              internal/notify
//	silences                 internal/notify
//	held                     internal/notify
//	inbox                    internal/notify/inbox
//	maintenance_runs         internal/maintain
//	maintenance_schedule     internal/maintain
//	maintenance_compression  internal/maintain
//	incidents                internal/runbook
//	incident_events          internal/runbook
//	qmr_actions              internal/qmr
//	capacity_leases          internal/lease
//	capacity_lease_events    internal/lease
//	leader_lease             internal/leader
//
// The store writes the collector's tables itself: WriteCycle commits a
// collection cycle's datapoints, health, state and log lines in one
// transaction. A subpackage is a package of its own: internal/notify/inbox owns inbox,
// and internal/notify reads it only where listed below. The store's own
// bookkeeping tables on PostgreSQL (dpcops_schema, dpcops_holder) are
// created in Go, not by the migrations, and no other package names them.
//
// A few reads cross the line, each listed with the one file that makes
// it:
//
//	FILE                        READS          WHY
//	internal/alarm/persist.go   outbox         PruneHistory keeps a transition a delivery refers to
//	internal/notify/prune.go    alarm_history  Prune reads a delivery's transition, for Keep (incident timelines)
//	internal/notify/prune.go    inbox          Prune keeps a delivery the inbox refers to
//	internal/store/fence.go     leader_lease   the fence checks a write's epoch inside its transaction
//	internal/store/postgres.go  leader_lease   an exclusive open refuses a store a live leader uses
//
// They are of two kinds:
//
//   - Pruning's integrity joins. A prune keeps the rows another table still
//     refers to (outbox.transition_id to alarm_history, inbox.outbox_id to
//     outbox) or still needs (a delivery's transition, for an incident's
//     timeline). That condition belongs in the candidate query of the
//     prune's own DELETE transaction: the rows chosen and the references
//     checked are then one snapshot, and the database answers it with an
//     index per candidate, where a call into the other package would fetch
//     that package's keys into Go on every batch.
//   - The leadership fence. The fence is the store's (every fenced write
//     checks, inside its transaction, that its epoch still leads), but the
//     lease is the leader's: internal/leader alone writes leader_lease.
//     An exclusive open of a PostgreSQL store reads it too, to refuse a
//     store that a live leader is using.
//
// SQL that runs on the warehouse, not on the store, is not bound by the
// lists: its tables are system views (SYS_*, SVV_*, pg_*) or
// schema-qualified (ops.*, staging.*, mart.*), and most of it is kept in
// internal/backend/*/sql/*.sql, which the check does not read. The check
// reads only Go string literals, so prose in a comment is never taken for
// SQL. Should a warehouse query in Go ever name a table the store also has,
// it is listed above as an exception, with "warehouse" as its reason,
// rather than the check be loosened for every package.
package store
