// Package redshift is the Redshift Serverless dialect of the warehouse
// backend. It reads only what Serverless lets you query — the SYS_*
// monitoring views and SVV_TABLE_INFO, never STL/STV/SVL — and needs the
// sys:monitor role (or superuser for SYS_SERVERLESS_USAGE).
package redshift
