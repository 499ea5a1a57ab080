// Package capacity reports compute use against the budget: RPU-hours and
// cost month to date from the stored compute series (ComputeSeconds and
// ComputeCapacity on Redshift Serverless, optionally SYS_SERVERLESS_USAGE;
// active backends on PostgreSQL), the forecast to month end against the
// usage limit, and an answer to the seed's open question "is 32 RPU
// right?": how often use was at max capacity, whether queries queued, and
// what other max values would have cost.
//
// It also tells other packages whether the warehouse is awake (Busy), so
// that they send SQL to a serverless workgroup only when it is.
package capacity
