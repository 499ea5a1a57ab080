package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/email"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const password = "smtp-PASSWORD-secret-99"

func channel(addr, mode, user string) *spec.Channel {
	ch := &spec.Channel{Name: "email", Type: spec.ChannelEmail, SMTP: addr, TLS: mode, From: "dpcops@example.org",
		To: []string{"oncall@example.org", "data-team@example.org"}}
	if user != "" {
		ch.Username, ch.Password = user, password
	}
	return ch
}

func send(t *testing.T, ch *spec.Channel, clientTLS *tls.Config, kind notify.Kind) (*notify.Delivery, bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := notifytest.Sample(kind)
	retry, err := email.New(ch, clientTLS).Notify(ctx, d)
	return d, retry, err
}

func TestStartTLSWithAuth(t *testing.T) {
	srvTLS, cliTLS := notifytest.TLSPair(t)
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{TLS: srvTLS, Username: "dpcops", Password: password})
	d, retry, err := send(t, channel(srv.Addr, "starttls", "dpcops"), cliTLS, notify.KindTrigger)
	if err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if d.Answer.Status != 250 {
		t.Errorf("answer %+v", d.Answer)
	}
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := mails[0]
	if !m.TLS || m.User != "dpcops" || m.From != "dpcops@example.org" || strings.Join(m.To, ",") != "oncall@example.org,data-team@example.org" {
		t.Errorf("envelope: tls=%v user=%q from=%q to=%v", m.TLS, m.User, m.From, m.To)
	}
	checkMessage(t, m.Data)
}

// checkMessage parses the mail and checks its headers and both parts.
func checkMessage(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "[ALARM] Alert-COPY-Error (critical) dpc-learning/prod" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if h.Get("From") != "dpcops@example.org" || h.Get("To") != "oncall@example.org, data-team@example.org" {
		t.Errorf("from %q to %q", h.Get("From"), h.Get("To"))
	}
	if !strings.HasPrefix(h.Get("Message-Id"), "<dpcops.42.") || !strings.HasSuffix(h.Get("Message-Id"), "@example.org>") ||
		!strings.HasPrefix(h.Get("References"), "<dpcops.") || h.Get("X-Dpcops-Dedup-Key") != "dpcops:dpc-learning:prod:Alert-COPY-Error:3" {
		t.Errorf("ids: message-id %q references %q", h.Get("Message-Id"), h.Get("References"))
	}
	if _, err := mail.ParseDate(h.Get("Date")); err != nil {
		t.Errorf("date %q: %v", h.Get("Date"), err)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q", h.Get("Content-Type"))
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(b)
	}
	for _, want := range []string{"Alarm:     Alert-COPY-Error", "State:     OK -> ALARM", "Value:     2", "Condition: Sum of CopyErrorCount >= 1",
		"Reason:    Threshold Crossed", "Dashboard: https://dpcops.example.org/alarms/Alert-COPY-Error", "A COPY load failed"} {
		if !strings.Contains(parts["text/plain"], want) {
			t.Errorf("plain text lacks %q:\n%s", want, parts["text/plain"])
		}
	}
	for _, want := range []string{"<h2>[ALARM] Alert-COPY-Error (critical) dpc-learning/prod</h2>", "<th align=\"left\">Value</th><td>2</td>",
		"Sum of CopyErrorCount &gt;= 1", `<a href="https://dpcops.example.org/alarms/Alert-COPY-Error">`} {
		if !strings.Contains(parts["text/html"], want) {
			t.Errorf("html lacks %q:\n%s", want, parts["text/html"])
		}
	}
}

func TestImplicitTLSAndPlain(t *testing.T) {
	srvTLS, cliTLS := notifytest.TLSPair(t)
	tests := []struct {
		name string
		opts notifytest.SMTPOptions
		mode string
		tls  bool
	}{
		{"implicit tls", notifytest.SMTPOptions{TLS: srvTLS, Implicit: true}, "tls", true},
		{"no tls", notifytest.SMTPOptions{}, "none", false},
	}
	for _, tt := range tests {
		srv := notifytest.NewSMTP(t, tt.opts)
		if _, retry, err := send(t, channel(srv.Addr, tt.mode, ""), cliTLS, notify.KindResolve); err != nil || retry {
			t.Fatalf("%s: retry=%v err=%v", tt.name, retry, err)
		}
		if m := srv.Mails(); len(m) != 1 || m[0].TLS != tt.tls {
			t.Errorf("%s: mails %+v", tt.name, m)
		}
	}
}

func TestFailures(t *testing.T) {
	srvTLS, cliTLS := notifytest.TLSPair(t)
	tests := []struct {
		name      string
		opts      notifytest.SMTPOptions
		mode      string
		user      string
		wantRetry bool
		status    int
	}{
		{"starttls required but not offered", notifytest.SMTPOptions{}, "starttls", "", false, 0},
		{"wrong password", notifytest.SMTPOptions{TLS: srvTLS, Username: "dpcops", Password: "other"}, "starttls", "dpcops", false, 535},
		{"temporary failure", notifytest.SMTPOptions{Reject: func(int) error { return notifytest.TempFail }}, "none", "", true, 451},
		{"permanent failure", notifytest.SMTPOptions{Reject: func(int) error { return notifytest.PermFail }}, "none", "", false, 554},
	}
	for _, tt := range tests {
		srv := notifytest.NewSMTP(t, tt.opts)
		d, retry, err := send(t, channel(srv.Addr, tt.mode, tt.user), cliTLS, notify.KindTrigger)
		if err == nil || retry != tt.wantRetry || d.Answer.Status != tt.status {
			t.Errorf("%s: retry=%v err=%v answer=%+v; want retry=%v status %d", tt.name, retry, err, d.Answer, tt.wantRetry, tt.status)
		}
		notifytest.NoSecrets(t, tt.name, notifytest.ErrText(err), d.Answer.Body)(password)
	}
}

func TestUnreachableAndSlowServers(t *testing.T) {
	closed := notifytest.FreeAddr(t)
	_, retry, err := send(t, channel(closed, "none", ""), nil, notify.KindTrigger)
	if err == nil || !retry {
		t.Errorf("down: retry=%v err=%v", retry, err)
	}

	// A server that accepts the connection and never greets.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	retry, err = email.New(channel(silent.Addr().String(), "none", "dpcops"), nil).Notify(ctx, notifytest.Sample(notify.KindTrigger))
	if err == nil || !retry {
		t.Errorf("silent server: retry=%v err=%v; want a retried time-out", retry, err)
	}
	notifytest.NoSecrets(t, "silent server", notifytest.ErrText(err))(password)
}
