package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// The secrets of the rig's channels: no log line, error or stored answer
// may contain one.
const (
	slackToken   = "T0SLACK/B0SLACK/slackWEBHOOKsecret"
	pdKey        = "pagerdutyROUTINGsecret0123"
	ogKey        = "opsgenie-API-KEY-secret-456"
	smtpPassword = "smtp-PASSWORD-secret-789"
	hookSecret   = "webhook-HMAC-secret-012"
	awsSecretKey = "aws-SECRET-access-KEY-345"
)

var allSecrets = []string{slackToken, "T0SLACK", "B0SLACK", "slackWEBHOOKsecret", pdKey, ogKey, smtpPassword, hookSecret, awsSecretKey}

// rigSpec routes like examples/dpc-learning.yaml (every alarm to inbox and
// Slack, ELT delay to PagerDuty, COPY errors to OpsGenie, storage to
// email) and adds a second topic for RPU spikes: a webhook that asks for
// every state, and SNS.
const rigSpec = `platform: dpc-learning
environment: prod
aws: {region: ap-northeast-1, account_id: "000000000000", endpoints: {sns: "${SNS_URL}"}}
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: CopyErrorCount, source: load_errors}
  - {name: ELTExecutionDelay, source: elt_delay}
  - {name: DataStorage, source: data_storage}
  - {name: ComputeCapacity, source: compute_capacity}
alarms:
  - {name: Alert-ELT-Delay, metric: ELTExecutionDelay, statistic: Maximum, period: 5m, evaluation_periods: 2,
     comparison: GreaterThanThreshold, threshold: 90, severity: critical, topics: [dpc-alerts], repeat_interval: 1h}
  - {name: Alert-COPY-Error, metric: CopyErrorCount, statistic: Sum, period: 5m, comparison: GreaterThanOrEqualToThreshold,
     threshold: 1, severity: critical, topics: [dpc-alerts]}
  - {name: Alert-Storage-High, metric: DataStorage, statistic: Maximum, period: 1h, comparison: GreaterThanOrEqualToThreshold,
     threshold: 90, severity: error, topics: [dpc-alerts]}
  - {name: Alert-RPU-Spike, metric: ComputeCapacity, statistic: Average, period: 1m, evaluation_periods: 5,
     comparison: GreaterThanThreshold, threshold: 28, severity: warning, topics: [dpc-alerts, ops-hooks]}
topics:
  dpc-alerts:
    subscriptions:
      - inbox
      - slack
      - off
      - {channel: pagerduty, filter: {alarm: [Alert-ELT-Delay]}}
      - {channel: opsgenie, filter: {alarm: [Alert-COPY-Error]}}
      - {channel: email, filter: {alarm: [Alert-Storage-High]}}
  ops-hooks:
    subscriptions:
      - {channel: hook, filter: {state: [ALARM, OK, INSUFFICIENT_DATA]}}
      - sns
channels:
  inbox: {type: inbox}
  slack: {type: slack, webhook_url: "${SLACK_URL}", channel: "#dpc-alerts", timeout: 400ms, concurrency: 2}
  off: {type: slack, enabled: if-set, webhook_url: "${UNSET_WEBHOOK}"}
  pagerduty: {type: pagerduty, routing_key: "${PD_KEY}", url: "${PD_URL}"}
  opsgenie: {type: opsgenie, api_key: "${OG_KEY}", url: "${OG_URL}"}
  email: {type: email, smtp: "${SMTP_ADDR}", username: dpcops, password: "${SMTP_PASSWORD}", from: dpcops@example.org,
          to: [oncall@example.org], send_resolved: false}
  hook: {type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}"}
  sns: {type: sns, topic_arn: "arn:aws:sns:ap-northeast-1:000000000000:dpc-alerts"}
notify: {max_age: 1h, backoff: 1s, max_backoff: 1m}
serve: {external_url: "https://dpcops.example.org"}
`

// t0 is when every rig test starts.
var t0 = time.Date(2026, 11, 27, 3, 5, 0, 0, time.UTC)

// rig is a store, an outbox and a worker wired to real local receivers
// of every channel type, on a clock the test moves.
type rig struct {
	t      *testing.T
	ctx    context.Context
	s      *spec.Spec
	st     *store.Store
	clock  *notifytest.Clock
	outbox *notify.Outbox
	worker *notify.Worker
	reg    *prometheus.Registry
	logs   *syncBuffer

	slack *notifytest.Receiver
	pd    *notifytest.PagerDuty
	og    *notifytest.OpsGenie
	hook  *notifytest.Receiver
	smtp  *notifytest.SMTP
	sns   *notifytest.SNS
}

// rigOptions change the rig.
type rigOptions struct {
	// pdAddr, when set, is PagerDuty's address (a receiver that is down).
	pdAddr string
	// edit changes the spec YAML before it is parsed.
	edit func(string) string
	// dir is the store's directory (default: a new temporary one).
	dir string
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	srvTLS, cliTLS := notifytest.TLSPair(t)
	r := &rig{t: t, ctx: context.Background(), clock: notifytest.NewClock(t0), logs: &syncBuffer{}}
	r.slack = notifytest.NewReceiver(t, notifytest.Always(200, "ok"))
	r.pd = notifytest.NewPagerDuty(t, pdKey)
	r.og = notifytest.NewOpsGenie(t, ogKey)
	r.hook = notifytest.NewReceiver(t, notifytest.Always(200, ""))
	r.smtp = notifytest.NewSMTP(t, notifytest.SMTPOptions{TLS: srvTLS, Username: "dpcops", Password: smtpPassword})
	r.sns = notifytest.NewSNS(t, nil)
	pdURL := r.pd.URL
	if o.pdAddr != "" {
		pdURL = "http://" + o.pdAddr
	}
	env := map[string]string{
		"SLACK_URL": r.slack.URL + "/services/" + slackToken, "PD_KEY": pdKey, "PD_URL": pdURL,
		"OG_KEY": ogKey, "OG_URL": r.og.URL, "SMTP_ADDR": r.smtp.Addr, "SMTP_PASSWORD": smtpPassword,
		"HOOK_URL": r.hook.URL + "/dpcops", "HOOK_SECRET": hookSecret, "SNS_URL": r.sns.URL,
	}
	yaml := rigSpec
	if o.edit != nil {
		yaml = o.edit(yaml)
	}
	s, diags := spec.Parse("rig.yaml", []byte(yaml), spec.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	r.s = s
	var st *store.Store
	if o.dir == "" {
		// Either store, as DPCOPS_TEST_STORE says.
		st = storetest.Open(t)
	} else {
		var err error
		if st, err = store.Open(r.ctx, o.dir, store.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	r.st = st
	log := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.outbox = notify.NewOutbox(notify.OutboxOptions{Spec: s, Logger: log, Clock: r.clock})
	ns, err := channels.Build(r.ctx, channels.Options{Spec: s, Store: st, TLSConfig: cliTLS,
		AWSCredentials: credentials.NewStaticCredentialsProvider("AKIDTEST", awsSecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	r.reg = prometheus.NewRegistry()
	r.worker, err = notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Outbox: r.outbox, Logger: log,
		Clock: r.clock, Registerer: r.reg, Jitter: func(d time.Duration) time.Duration { return d }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// transition commits a transition as the alarm engine does: its history
// row, the alarm's new state and the outbox rows, in one transaction.
func (r *rig) transition(name string, from, to alarm.State, episode int64) alarm.Transition {
	r.t.Helper()
	tr := alarm.Transition{Alarm: name, Time: r.clock.Now(), From: from, To: to, Episode: episode,
		Reason:     "Threshold Crossed: test transition " + string(from) + " -> " + string(to) + ".",
		ReasonData: json.RawMessage(`{"evaluatedDatapoints":[{"timestamp":"2026-11-27T03:00:00Z","value":95,"breaching":true}]}`)}
	if err := commitTransition(r.ctx, r.st, r.outbox.OnTransition, &tr); err != nil {
		r.t.Fatal(err)
	}
	return tr
}

func commitTransition(ctx context.Context, st *store.Store, hook func(context.Context, *sql.Tx, alarm.Transition) error, tr *alarm.Transition) error {
	at := store.Millis(tr.Time)
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, reason_data, episode)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, tr.Alarm, at, tr.From, tr.To, tr.Reason, string(tr.ReasonData), tr.Episode).Scan(&tr.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO alarm_state (alarm, state, reason, reason_data, episode, evaluated_at, changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alarm) DO UPDATE SET state = excluded.state, reason = excluded.reason,
			reason_data = excluded.reason_data, episode = excluded.episode, evaluated_at = excluded.evaluated_at, changed_at = excluded.changed_at`,
			tr.Alarm, tr.To, tr.Reason, string(tr.ReasonData), tr.Episode, at, at)
		if err != nil {
			return err
		}
		return hook(ctx, tx, *tr)
	})
}

// deliver makes every due attempt.
func (r *rig) deliver() notify.Stats {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, time.Minute)
	defer cancel()
	stats, err := r.worker.DeliverDue(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return stats
}

// rows lists outbox rows, oldest first.
func (r *rig) rows(q notify.Query) []notify.Record {
	r.t.Helper()
	q.Limit = 100000
	recs, err := notify.List(r.ctx, r.st.Reader(), q)
	if err != nil {
		r.t.Fatal(err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	return recs
}

// row returns the only outbox row of a channel.
func (r *rig) row(channel string) notify.Record {
	r.t.Helper()
	recs := r.rows(notify.Query{Channel: channel})
	if len(recs) != 1 {
		r.t.Fatalf("%d rows for %s, want 1: %+v", len(recs), channel, recs)
	}
	return recs[0]
}

// routed is "channel:kind:dedup key" of every row, oldest first.
func routed(recs []notify.Record) []string {
	out := make([]string, len(recs))
	for i, rec := range recs {
		out[i] = rec.Channel + ":" + rec.Kind + ":" + rec.DedupKey
	}
	return out
}

func key(alarmName string, episode int) string {
	return notify.DedupKey(&spec.Spec{Platform: "dpc-learning", Environment: "prod"}, alarmName, int64(episode))
}

// syncBuffer is a log sink safe for the worker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// count is how many times s occurs in the logs.
func (b *syncBuffer) count(s string) int { return strings.Count(b.String(), s) }
