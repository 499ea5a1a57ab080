package notifytest

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
)

// Sample returns a delivery of Alert-COPY-Error entering ALARM with two
// load errors in its period: the fixture the channel tests render.
func Sample(kind notify.Kind) *notify.Delivery {
	v := 2.0
	return &notify.Delivery{
		ID: 42, Channel: "test", Kind: kind, DedupKey: "dpcops:dpc-learning:prod:Alert-COPY-Error:3", Attempt: 1,
		Message: notify.Message{
			Kind: kind, Platform: "dpc-learning", Environment: "prod", Alarm: "Alert-COPY-Error",
			Description: "A COPY load failed; the batch failed.", Severity: "critical", From: "OK", To: "ALARM",
			Metric: "CopyErrorCount", Namespace: "Custom/DPC", Dimensions: map[string]string{"Environment": "prod"},
			Statistic: "Sum", Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1, PeriodSeconds: 300,
			EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: "notBreaching", Value: &v,
			Reason:       "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (27/11/26 03:00:00)] was greater than or equal to the threshold (1.0).",
			Time:         time.Date(2026, 11, 27, 3, 5, 0, 0, time.UTC),
			Episode:      3,
			DashboardURL: "https://dpcops.example.org/alarms/Alert-COPY-Error",
			AccountID:    "000000000000", Region: "ap-northeast-1",
		},
	}
}

// answerCase is one receiver answer and how every HTTP integration must
// classify it.
type answerCase struct {
	status     int
	header     map[string]string
	wantErr    bool
	wantRetry  bool
	retryAfter time.Duration
}

var answerCases = []answerCase{
	{status: 200},
	{status: 202},
	{status: 400, wantErr: true},
	{status: 401, wantErr: true},
	{status: 403, wantErr: true},
	{status: 404, wantErr: true},
	{status: 410, wantErr: true},
	{status: 422, wantErr: true},
	{status: 408, wantErr: true, wantRetry: true},
	{status: 429, header: map[string]string{"Retry-After": "7"}, wantErr: true, wantRetry: true, retryAfter: 7 * time.Second},
	{status: 500, wantErr: true, wantRetry: true},
	{status: 502, wantErr: true, wantRetry: true},
	{status: 503, wantErr: true, wantRetry: true},
}

// CheckHTTPIntegration checks what every HTTP integration must do with
// its receiver's answers: 2xx delivered; 408, 429 (with Retry-After) and
// 5xx retried; other 4xx failed for good with the receiver's status and
// body; an unreachable or too slow receiver retried. In every case no
// secret may appear in the error or the recorded answer, even when the
// receiver echoes the request back in pieces (see Echo): secrets lists
// every secret and every fragment of one that must not appear. build
// makes the notifier for a receiver at base; kind is the delivery kind to
// send.
func CheckHTTPIntegration(t *testing.T, build func(base string) notify.Notifier, kind notify.Kind, secrets ...string) {
	t.Helper()
	for _, c := range answerCases {
		rc := NewReceiver(t, func(r Request, _ int) Reply {
			return Reply{Status: c.status, Header: c.header, Body: Echo(r)}
		})
		d := Sample(kind)
		retry, err := build(rc.URL).Notify(context.Background(), d)
		if (err != nil) != c.wantErr || retry != c.wantRetry {
			t.Errorf("answer %d: retry=%v err=%v; want retry=%v, error=%v", c.status, retry, err, c.wantRetry, c.wantErr)
		}
		if d.Answer.Status != c.status || d.Answer.RetryAfter != c.retryAfter {
			t.Errorf("answer %d: recorded %+v, want status %d, retry after %v", c.status, d.Answer, c.status, c.retryAfter)
		}
		if c.wantErr && !strings.Contains(err.Error(), strconv.Itoa(c.status)) {
			t.Errorf("answer %d: the error does not give the receiver's status: %v", c.status, err)
		}
		NoSecrets(t, "answer "+strconv.Itoa(c.status), append([]string{d.Answer.Body}, ErrText(err))...)(secrets...)
		if !strings.Contains(d.Answer.Body, "<redacted>") {
			t.Errorf("answer %d: nothing was redacted from the echo %.200q, so the check proves nothing", c.status, d.Answer.Body)
		}
	}

	// Down: nothing listens at the address.
	base := "http://" + FreeAddr(t)
	d := Sample(kind)
	retry, err := build(base).Notify(context.Background(), d)
	if err == nil || !retry {
		t.Errorf("unreachable receiver: retry=%v err=%v; want a retried error", retry, err)
	}
	NoSecrets(t, "unreachable receiver", ErrText(err))(secrets...)

	// Slow: the receiver answers after the attempt's deadline.
	slow := NewReceiver(t, func(Request, int) Reply { return Reply{Status: 200, Delay: 10 * time.Second} })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	d = Sample(kind)
	retry, err = build(slow.URL).Notify(ctx, d)
	if err == nil || !retry || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("slow receiver: retry=%v err=%v; want a retried time-out", retry, err)
	}
	NoSecrets(t, "slow receiver", ErrText(err))(secrets...)
}

// Echo is what a careless receiver answers: the request it was sent,
// secrets and all, whole and in pieces, as receivers do in their error
// messages ("no hook T0001/B0002", "invalid token xyz"). The pieces come
// first, so that the cut of a stored answer does not hide them: each
// path segment, each query value, and each header value with its words
// (a bearer token without "Bearer "); then the path, query and body whole.
func Echo(r Request) string {
	parts := strings.Split(r.Path, "/")
	q, _ := url.ParseQuery(r.Query)
	for _, k := range slices.Sorted(maps.Keys(q)) {
		parts = append(parts, q[k]...)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		for _, v := range r.Header[k] {
			parts = append(parts, v)
			if f := strings.Fields(v); len(f) > 1 {
				parts = append(parts, f...)
			}
		}
	}
	parts = append(parts, r.Path+"?"+r.Query, string(r.Body))
	// A separator no secret holds, so that the pieces do not join up
	// again into the whole value.
	return strings.Join(parts, " | ")
}

// NoSecrets returns a check that none of the secrets appears in texts.
func NoSecrets(t *testing.T, what string, texts ...string) func(secrets ...string) {
	return func(secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			for _, x := range texts {
				if s != "" && strings.Contains(x, s) {
					t.Errorf("%s: secret %q leaked into %.200q", what, s, x)
				}
			}
		}
	}
}

// ErrText is err's message, "" for nil.
func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
