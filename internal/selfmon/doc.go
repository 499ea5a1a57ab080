// Package selfmon is dpcops watching itself, beside the collector's count
// of its own failed cycles: it measures the deliveries that are not
// getting through (the self_deliveries_failing source, which the built-in
// alarm dpcops-Deliveries-Failing reads), and it pings the heartbeat, the
// dead man's switch that tells someone outside when dpcops or its host
// dies or can no longer record what it sees.
//
// The heartbeat is sent only while dpcops is well: its store takes writes
// and the engines it owns run. Unwell, it pings notify.heartbeat.fail_url
// instead when there is one, else nothing, and the watcher pages when the
// pings stop. A full disk cannot be paged through the outbox, which lives
// on it: the heartbeat is how that failure reaches a person.
package selfmon
