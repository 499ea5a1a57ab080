package webhook_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/webhook"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const (
	signingSecret = "hmac-SIGNING-secret-4242"
	headerToken   = "Bearer header-TOKEN-secret-77"
)

func channel(base string) *spec.Channel {
	return &spec.Channel{Name: "hook", Type: spec.ChannelWebhook, URL: spec.Secret(base + "/hooks/dpcops?token=url-TOKEN-secret"),
		Secret: signingSecret, Headers: spec.Labels{{Name: "Authorization", Value: headerToken}, {Name: "X-Team", Value: "data"}}}
}

func build(base string) notify.Notifier {
	return webhook.New(channel(base), notify.NewHTTPClient(0, nil))
}

func TestBodySignatureAndHeaders(t *testing.T) {
	rc := notifytest.NewReceiver(t, notifytest.Always(204, ""))
	d := notifytest.Sample(notify.KindTrigger)
	d.Attempt = 2
	if retry, err := build(rc.URL).Notify(context.Background(), d); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	r := rc.Requests()[0]
	if r.Path != "/hooks/dpcops" || r.Query != "token=url-TOKEN-secret" {
		t.Errorf("sent to %s?%s", r.Path, r.Query)
	}
	if !webhook.Verify(r.Body, signingSecret, r.Header.Get(webhook.HeaderSignature)) {
		t.Errorf("signature %q does not verify the body", r.Header.Get(webhook.HeaderSignature))
	}
	if webhook.Verify(append(r.Body, ' '), signingSecret, r.Header.Get(webhook.HeaderSignature)) {
		t.Error("a changed body must not verify")
	}
	wantHeaders := map[string]string{"Authorization": headerToken, "X-Team": "data", "Content-Type": "application/json",
		webhook.HeaderDelivery: "42", webhook.HeaderDedupKey: "dpcops:dpc-learning:prod:Alert-COPY-Error:3", webhook.HeaderAttempt: "2"}
	for k, v := range wantHeaders {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	var b struct {
		Version  string         `json:"version"`
		ID       int64          `json:"id"`
		Kind     string         `json:"kind"`
		DedupKey string         `json:"dedup_key"`
		Title    string         `json:"title"`
		Summary  string         `json:"summary"`
		Message  notify.Message `json:"message"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Version != "1" || b.ID != 42 || b.Kind != "trigger" || b.DedupKey != "dpcops:dpc-learning:prod:Alert-COPY-Error:3" ||
		b.Title != "[ALARM] Alert-COPY-Error (critical) dpc-learning/prod" {
		t.Errorf("body %+v", b)
	}
	m := b.Message
	if m.Alarm != "Alert-COPY-Error" || m.To != "ALARM" || *m.Value != 2 || m.Threshold != 1 || m.Episode != 3 || m.Metric != "CopyErrorCount" {
		t.Errorf("message %+v", m)
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	rc := notifytest.NewReceiver(t, notifytest.Always(200, ""))
	ch := channel(rc.URL)
	ch.Secret = ""
	if _, err := webhook.New(ch, notify.NewHTTPClient(0, nil)).Notify(context.Background(), notifytest.Sample(notify.KindTrigger)); err != nil {
		t.Fatal(err)
	}
	if sig := rc.Requests()[0].Header.Get(webhook.HeaderSignature); sig != "" {
		t.Errorf("signature %q without a secret", sig)
	}
}

func TestSignKnownValue(t *testing.T) {
	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	got := webhook.Sign([]byte("The quick brown fox jumps over the lazy dog"), "key")
	if got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s", got)
	}
}

func TestAnswersAndSecrets(t *testing.T) {
	notifytest.CheckHTTPIntegration(t, build, notify.KindTrigger, signingSecret, headerToken, "url-TOKEN-secret")
}
