// Package collect runs the collectors: each cycle it works out which spec
// metrics are due, asks the backends for what they need — all SQL of a
// cycle in one round trip, CloudWatch in one call — turns the answers into
// readings (including the derived ones: failure rate, storage percent, idle
// share, usage against the limit, per-table health), and stores them with
// the collector's health in one transaction.
//
// On Redshift Serverless SQL is billed and keeps the workgroup from idling,
// so the collector reads CloudWatch first and sends SQL only when the
// workgroup is already busy, right after a pipeline run, or once every
// collect.idle_sql_interval; it counts the statements it sent and the idle
// periods it broke.
//
// A value the collector cannot read is missing, never zero: the cycle
// skips it, says why in the collector's health, and tries again next cycle.
package collect
