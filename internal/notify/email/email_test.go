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

// TestDisplayNamesAndNonASCIIHeaders: from and to may carry display
// names, also Japanese ones, and alarm names may be Japanese. The
// envelope (MAIL FROM, RCPT TO) gets the bare addresses, and the headers
// stay 7-bit with lines within RFC 5322's 78 characters, decoding back to
// the names, the subject and the dedup key.
func TestDisplayNamesAndNonASCIIHeaders(t *testing.T) {
	tests := []struct {
		name, from string
		to         []string
		fromName   string
		toNames    []string
	}{
		{"ascii display names", "Ops <ops@example.org>", []string{"On Call <oncall@example.org>", "data-team@example.org"},
			"Ops", []string{"On Call", ""}},
		{"japanese display names", "運用チーム <ops@example.org>", []string{`"データ基盤 当番" <oncall@example.org>`, "data-team@example.org"},
			"運用チーム", []string{"データ基盤 当番", ""}},
	}
	// A Japanese alarm name near CloudWatch's 255-byte limit.
	alarmName := "ELT遅延" + strings.Repeat("アラーム", 20)
	for _, tt := range tests {
		srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
		ch := channel(srv.Addr, "none", "")
		ch.From, ch.To = tt.from, tt.to
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d := notifytest.Sample(notify.KindTrigger)
		d.Message.Alarm = alarmName
		d.Message.Description = "夜間バッチの COPY が失敗しました。"
		d.DedupKey = "dpcops:dpc-learning:prod:" + alarmName + ":3"
		retry, err := email.New(ch, nil).Notify(ctx, d)
		cancel()
		if err != nil || retry {
			t.Fatalf("%s: retry=%v err=%v", tt.name, retry, err)
		}
		mails := srv.Mails()
		if len(mails) != 1 {
			t.Fatalf("%s: %d mails", tt.name, len(mails))
		}
		m := mails[0]
		if m.From != "ops@example.org" || strings.Join(m.To, ",") != "oncall@example.org,data-team@example.org" {
			t.Errorf("%s: envelope from %q to %q, want the bare addresses", tt.name, m.From, m.To)
		}
		head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		for i, line := range strings.Split(string(head), "\r\n") {
			if len(line) > 78 || strings.ContainsFunc(line, func(r rune) bool { return r > 0x7e }) {
				t.Errorf("%s: header line %d is not 7-bit within 78 characters: %q", tt.name, i+1, line)
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		if from, err := dec.DecodeHeader(msg.Header.Get("From")); err != nil || !strings.Contains(from, tt.fromName) {
			t.Errorf("%s: From %q decodes to %q (%v), want the name %q", tt.name, msg.Header.Get("From"), from, err, tt.fromName)
		}
		from, err := msg.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Name != tt.fromName || from[0].Address != "ops@example.org" {
			t.Errorf("%s: From %q parses to %v (%v)", tt.name, msg.Header.Get("From"), from, err)
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 2 {
			t.Fatalf("%s: To %q parses to %v (%v)", tt.name, msg.Header.Get("To"), to, err)
		}
		for i, a := range to {
			if a.Name != tt.toNames[i] || a.Address != m.To[i] {
				t.Errorf("%s: To[%d] = %q <%s>, want %q <%s>", tt.name, i, a.Name, a.Address, tt.toNames[i], m.To[i])
			}
		}
		if subject, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != d.Message.Title() {
			t.Errorf("%s: subject decodes to %q (%v), want %q", tt.name, subject, err, d.Message.Title())
		}
		if key, err := dec.DecodeHeader(msg.Header.Get("X-Dpcops-Dedup-Key")); err != nil || key != d.DedupKey {
			t.Errorf("%s: X-Dpcops-Dedup-Key decodes to %q (%v), want %q", tt.name, key, err, d.DedupKey)
		}
	}
}

// TestSpecRefusesUnparsableAddresses: a from or to that net/mail cannot
// parse is refused by validate with its FILE:LINE:COL, so it never
// reaches the SMTP server; display names pass.
func TestSpecRefusesUnparsableAddresses(t *testing.T) {
	const base = "platform: p\nenvironment: e\nwarehouse: {engine: postgres, dsn: \"postgres://h/db\"}\nchannels:\n"
	tests := []struct {
		from, to string
		want     []string
	}{
		{`"Ops <ops@example.org"`, `"oncall@example.org"`, []string{`mail.yaml:5:43: error: "Ops <ops@example.org" is not an email address`}},
		{`"ops@example.org"`, `"a@example.org, b@example.org"`, []string{`mail.yaml:5:67: error: "a@example.org, b@example.org" is not an email address`}},
		{`"運用チーム <ops@example.org>"`, `"On Call <oncall@example.org>"`, nil},
	}
	for _, tt := range tests {
		y := base + "  mail: {type: email, smtp: \"h:25\", from: " + tt.from + ", to: [" + tt.to + "]}\n"
		_, diags := spec.Parse("mail.yaml", []byte(y), spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
		var got []string
		for _, e := range diags.Errors() {
			got = append(got, e.String())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("from %s to %s: errors\n%s\nwant\n%s", tt.from, tt.to, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

// TestUnparsableAddressFailsForGood: a channel built in code (the spec
// refuses it) with an address net/mail cannot parse fails the delivery for
// good, saying which address, without talking to the server.
func TestUnparsableAddressFailsForGood(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
	ch := channel(srv.Addr, "none", "")
	ch.From = "Ops <ops@example.org"
	d, retry, err := send(t, ch, nil, notify.KindTrigger)
	if err == nil || retry || !strings.Contains(err.Error(), `from "Ops <ops@example.org" is not an email address`) {
		t.Errorf("retry=%v err=%v; want a permanent error naming from", retry, err)
	}
	if len(srv.Mails()) != 0 || d.Answer.Status != 0 {
		t.Errorf("mails %d, answer %+v; want nothing sent", len(srv.Mails()), d.Answer)
	}
}
