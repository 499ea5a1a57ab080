// Package demo runs dpcops' demo: a synthetic DPC learning warehouse on a
// throwaway PostgreSQL, with an ELT pipeline that loads generated hospital
// files (some with malformed rows), an analyst workload with failing and
// long queries, table churn that makes maintenance necessary, and a
// scenario that, within fifteen minutes, makes each of the seed's alerts
// fire and resolve. All data is generated here; none of it is real.
package demo
