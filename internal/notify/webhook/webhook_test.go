package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/webhook"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const (
	signingSecret = "hmac-SIGNING-secret-4242"
	headerToken   = "Bearer header-TOKEN-secret-77"
	// pathToken is the secret segment of the webhook's URL.
	pathToken = "pathTOKENsecret55"
)

func channel(base string) *spec.Channel {
	return &spec.Channel{Name: "hook", Type: spec.ChannelWebhook, URL: spec.Secret(base + "/hooks/dpcops/" + pathToken + "?token=url-TOKEN-secret"),
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
	if r.Path != "/hooks/dpcops/"+pathToken || r.Query != "token=url-TOKEN-secret" {
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

// TestAnswersAndSecrets also checks the parts of secrets: the URL's
// path token and query value, and the header's token without "Bearer ".
func TestAnswersAndSecrets(t *testing.T) {
	notifytest.CheckHTTPIntegration(t, build, notify.KindTrigger, signingSecret, headerToken, "header-TOKEN-secret-77",
		pathToken, "url-TOKEN-secret")
}

// TestSecretCutByTheAnswerLimit: a receiver echoes the request with the
// URL token right across the 1024-byte cut of the stored answer; no part
// of the token may survive.
func TestSecretCutByTheAnswerLimit(t *testing.T) {
	for _, pad := range []int{1024 - len("url-TOKEN-secret")/2, 1024 - 3, 1024 - 10} {
		rc := notifytest.NewReceiver(t, func(r notifytest.Request, _ int) notifytest.Reply {
			return notifytest.Reply{Status: 400, Body: strings.Repeat("x", pad) + r.Query}
		})
		d := notifytest.Sample(notify.KindTrigger)
		_, err := build(rc.URL).Notify(context.Background(), d)
		for _, text := range []string{d.Answer.Body, fmt.Sprint(err)} {
			if strings.Contains(text, "token=") { // only the secret query has it
				t.Errorf("pad %d: part of the token survived: %q", pad, text[max(0, len(text)-40):])
			}
		}
	}
}

// TestConcurrentSends: the worker sends a channel's deliveries at once
// (concurrency 4); a notifier must be safe for that (run with -race), and
// header tokens stay out of every error.
func TestConcurrentSends(t *testing.T) {
	rc := notifytest.NewReceiver(t, func(r notifytest.Request, _ int) notifytest.Reply {
		return notifytest.Reply{Status: 500, Body: r.Header.Get("Authorization")}
	})
	n := build(rc.URL)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = n.Notify(context.Background(), notifytest.Sample(notify.KindTrigger))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), "header-TOKEN") {
			t.Errorf("error %v", err)
		}
	}
}
