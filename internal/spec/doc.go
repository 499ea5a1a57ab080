// Package spec defines the dpcops ops spec: one YAML file that holds the
// platform's whole operations design (warehouse, capacity, pipeline, metrics,
// alarms, topics, channels, maintenance, query monitoring rules and the
// dashboard), loads it strictly, and checks it.
//
// Loading is strict: an unknown key, a value of the wrong type or a dangling
// reference is an error that names the file, line and column. `${VAR}` in a
// value expands from the environment (`${VAR:-default}` supplies a default,
// `$$` is a literal dollar sign). A part of the spec whose `enabled` key is
// false ignores unset variables; `enabled: if-set` turns a part off when one
// of its variables is unset, so a spec can name a Slack webhook that only
// some environments have.
//
// Besides errors, the checker emits warnings where a spec repeats the
// platform seed's mistakes about AWS (metric names AWS does not publish,
// STL/STV/SVL views on Redshift Serverless, dashboard widgets without a
// region, a log group that does not exist, an auto-pause setting). Warnings
// never fail a load.
package spec
