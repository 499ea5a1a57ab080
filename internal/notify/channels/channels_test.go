package channels_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const specYAML = `platform: dpc-learning
environment: prod
warehouse: {engine: postgres, workgroup: dpc-wg, dsn: "postgres://h/db"}
metrics:
  - {name: M, source: load_errors}
topics:
  t: {subscriptions: [slack]}
channels:
  slack: {type: slack, webhook_url: "${HOOK}"}
  pagerduty: {type: pagerduty, routing_key: "${KEY}"}
  opsgenie: {type: opsgenie, api_key: "${KEY}", region: eu}
  email: {type: email, smtp: "127.0.0.1:2525", tls: none, from: a@example.org, to: [b@example.org]}
  hook: {type: webhook, url: "${HOOK}"}
  sns: {type: sns, topic_arn: "arn:aws:sns:ap-northeast-1:000000000000:t"}
  off: {type: slack, enabled: false}
  inbox: {type: inbox}
`

func parse(t *testing.T) *spec.Spec {
	t.Helper()
	env := map[string]string{"HOOK": "https://hooks.example.org/x", "KEY": "k"}
	s, diags := spec.Parse("c.yaml", []byte(specYAML), spec.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	return s
}

func TestBuildMakesEveryEnabledChannel(t *testing.T) {
	s := parse(t)
	_, err := channels.Build(context.Background(), channels.Options{Spec: s})
	if err == nil || !strings.Contains(err.Error(), "inbox channel needs the store") {
		t.Fatalf("an inbox without a store: %v", err)
	}
	s.Channels = s.Channels[:len(s.Channels)-1] // drop the inbox
	ns, err := channels.Build(context.Background(), channels.Options{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range ns {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "email,hook,opsgenie,pagerduty,slack,sns" {
		t.Errorf("built %s; the channel that is off must be left out", got)
	}
	if got := channels.Source(s); got != "dpc-wg/prod" {
		t.Errorf("Source = %q", got)
	}
}
