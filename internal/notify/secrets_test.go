package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
)

// echo answers with everything the receiver was sent, secrets included,
// as some receivers do in their error messages.
func echo(status int) func(notifytest.Request, int) notifytest.Reply {
	return func(r notifytest.Request, _ int) notifytest.Reply {
		return notifytest.Reply{Status: status, Body: r.Path + "?" + r.Query + " " + r.Header.Get("Authorization") + " " + string(r.Body)}
	}
}

// TestNoSecretInLogsOrErrors makes every channel fail in every way it can
// (refusals and server errors that echo the request, receivers down,
// wrong credentials) and then scans everything dpcops wrote: the logs, and
// every stored error and answer. No secret may appear.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	r := newRig(t, rigOptions{pdAddr: notifytest.FreeAddr(t),
		edit: func(y string) string {
			// Wrong credentials for OpsGenie and SMTP; SNS on a closed port.
			y = strings.Replace(y, `api_key: "${OG_KEY}"`, `api_key: "${OG_KEY}-wrong"`, 1)
			y = strings.Replace(y, `password: "${SMTP_PASSWORD}"`, `password: "${SMTP_PASSWORD}-wrong"`, 1)
			return y
		}})
	r.slack.SetRespond(echo(400))
	r.hook.SetRespond(echo(500))
	r.sns.Close()
	for _, a := range []string{"Alert-ELT-Delay", "Alert-COPY-Error", "Alert-Storage-High", "Alert-RPU-Spike"} {
		r.transition(a, ok, alm, 1)
	}
	for i := 0; i < 3; i++ {
		r.deliver()
		r.clock.Advance(time.Minute)
	}
	r.slack.SetRespond(echo(500))
	r.transition("Alert-COPY-Error", alm, ok, 1)
	r.deliver()

	texts := []string{r.logs.String()}
	rows, err := r.st.Reader().QueryContext(r.ctx, `SELECT last_error, response, state FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	failures := 0
	for rows.Next() {
		var lastErr, resp, state string
		if err := rows.Scan(&lastErr, &resp, &state); err != nil {
			t.Fatal(err)
		}
		if state != "sent" {
			failures++
		}
		texts = append(texts, lastErr, resp)
	}
	if failures < 7 {
		t.Fatalf("only %d deliveries failed; the scan would prove little", failures)
	}
	for _, x := range texts {
		for _, s := range allSecrets {
			if strings.Contains(x, s) {
				t.Errorf("secret %q found in %.300q", s, x)
			}
		}
	}
	if !strings.Contains(r.logs.String(), "<redacted>") {
		t.Error("no redaction happened: the echoing receivers did not echo")
	}
}

// TestNoSecretFragmentInStoreOrList: every HTTP channel's receiver refuses
// with an answer that echoes the request in pieces (each path segment,
// query value and header token on its own, as receivers do in "no such
// hook T0…" or "invalid token …"). No piece of a secret may reach the
// stored outbox rows, `notify list` (notify.List) or the logs, while the
// plain words of a secret URL ("services") stay readable.
func TestNoSecretFragmentInStoreOrList(t *testing.T) {
	const (
		hookPath   = "hookPATHtoken77"
		hookQuery  = "hookQUERYtoken55"
		hookBearer = "hookBEARERtoken31"
	)
	r := newRig(t, rigOptions{edit: func(y string) string {
		return strings.Replace(y, `hook: {type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}"}`,
			`hook: {type: webhook, url: "${HOOK_URL}/`+hookPath+`?token=`+hookQuery+`", secret: "${HOOK_SECRET}",
          headers: {Authorization: "Bearer `+hookBearer+`"}}`, 1)
	}})
	echo := func(status int) func(notifytest.Request, int) notifytest.Reply {
		return func(req notifytest.Request, _ int) notifytest.Reply {
			return notifytest.Reply{Status: status, Body: notifytest.Echo(req)}
		}
	}
	r.slack.SetRespond(echo(404))
	r.pd.SetRespond(echo(400))
	r.og.SetRespond(echo(500))
	r.hook.SetRespond(echo(401))
	for _, a := range []string{"Alert-ELT-Delay", "Alert-COPY-Error", "Alert-RPU-Spike"} {
		r.transition(a, ok, alm, 1)
	}
	r.deliver()

	fragments := append([]string{"T0SLACK", "B0SLACK", hookPath, hookQuery, hookBearer}, allSecrets...)
	texts := []string{r.logs.String()}
	failed := map[string]bool{}
	for _, rec := range r.rows(notify.Query{}) {
		texts = append(texts, rec.Response, rec.LastError)
		if rec.State != "sent" && rec.Response != "" {
			failed[rec.Channel] = true
		}
		if rec.Channel == "slack" && (!strings.Contains(rec.Response, "services") || !strings.Contains(rec.Response, "<redacted>")) {
			t.Errorf("slack's stored answer %.200q: want the plain word services kept and the token redacted", rec.Response)
		}
	}
	for _, ch := range []string{"slack", "pagerduty", "opsgenie", "hook"} {
		if !failed[ch] {
			t.Errorf("channel %s has no refused delivery with an answer; the scan would prove little", ch)
		}
	}
	// The rows as stored, not only as List reads them.
	rows, err := r.st.Reader().QueryContext(r.ctx, `SELECT last_error, response FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var lastErr, resp string
		if err := rows.Scan(&lastErr, &resp); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, lastErr, resp)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, x := range texts {
		for _, s := range fragments {
			if strings.Contains(x, s) {
				t.Errorf("secret fragment %q found in %.300q", s, x)
			}
		}
	}
}
