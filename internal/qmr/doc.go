// Package qmr applies the spec's query monitoring rules to the queries
// running on the warehouse: every few seconds it lists them, and for each
// rule a query breaks (execution_time or queue_time over the threshold) it
// logs, notifies through a hook, or cancels the query — once per rule and
// query, and records who, what and why in the store.
//
// Redshift Serverless has no "tag" action and its own limits only abort
// (max_query_execution_time): the seed's "tag and notify at 600 s" needs a
// watcher outside the warehouse, which this is.
package qmr
