package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
)

// Compose renders a delivery as an RFC 5322 message: headers, then
// multipart/alternative with a plain-text and an HTML part, both
// quoted-printable UTF-8. The headers are 7-bit ASCII, as a server without
// SMTPUTF8 needs them: display names, the subject and the dedup key are
// RFC 2047 encoded words when they are not ASCII (alarm names and display
// names may be Japanese), and long lines are folded.
func Compose(d *notify.Delivery, from *mail.Address, to []*mail.Address, now time.Time) ([]byte, error) {
	m := d.Message
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	domain := "dpcops.invalid"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 && isASCII(from.Address[i+1:]) {
		domain = from.Address[i+1:]
	}
	recipients := make([]string, len(to))
	for i, a := range to {
		recipients[i] = headerAddress(a)
	}
	thread := keyHash(d.DedupKey)
	msgID := fmt.Sprintf("<dpcops.%d.%s@%s>", d.ID, thread, domain)
	if d.ID == 0 {
		msgID = fmt.Sprintf("<dpcops.test.%d@%s>", now.UnixNano(), domain)
	}
	h := []string{
		"From: " + headerAddress(from),
		"To: " + strings.Join(recipients, ", "),
		"Subject: " + mime.QEncoding.Encode("utf-8", m.Title()),
		"Date: " + now.UTC().Format(time.RFC1123Z),
		"Message-ID: " + msgID,
		// One thread per alarm episode: trigger, repeats and resolve.
		"References: " + fmt.Sprintf("<dpcops.%s@%s>", thread, domain),
		"MIME-Version: 1.0",
		"Content-Type: multipart/alternative; boundary=" + mw.Boundary(),
		"Auto-Submitted: auto-generated",
		"X-Dpcops-Dedup-Key: " + mime.QEncoding.Encode("utf-8", d.DedupKey),
	}
	var out bytes.Buffer
	for _, line := range h {
		out.WriteString(fold(line) + "\r\n")
	}
	out.WriteString("\r\n")
	if err := part(mw, "text/plain; charset=utf-8", PlainText(m)); err != nil {
		return nil, err
	}
	html, err := HTML(m)
	if err != nil {
		return nil, err
	}
	if err := part(mw, "text/html; charset=utf-8", html); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	out.Write(b.Bytes())
	return out.Bytes(), nil
}

// headerAddress is an address as the From and To headers show it: bare
// without a display name, else the name (quoted, or RFC 2047 encoded
// when it is not ASCII) and the address in angle brackets.
func headerAddress(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}

// maxLine is the length RFC 5322 asks header lines to keep to.
const maxLine = 78

// fold folds a header line longer than maxLine before its spaces (RFC
// 5322 section 2.2.3); a reader unfolds it by removing the line breaks,
// so the value does not change. Encoded words are at most 75 characters,
// so a line of them folds within the limit; a longer run without a space
// is left whole.
func fold(line string) string {
	var b strings.Builder
	for len(line) > maxLine {
		// Never at index 0: that space is the previous fold's.
		i := strings.LastIndexByte(line[1:maxLine+1], ' ') + 1
		if i <= 0 {
			j := strings.IndexByte(line[maxLine+1:], ' ')
			if j < 0 {
				break
			}
			i = maxLine + 1 + j
		}
		b.WriteString(line[:i] + "\r\n")
		line = line[i:]
	}
	b.WriteString(line)
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func keyHash(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:8])
}

func part(mw *multipart.Writer, contentType, body string) error {
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	qw := quotedprintable.NewWriter(pw)
	if _, err := qw.Write([]byte(body)); err != nil {
		return err
	}
	return qw.Close()
}

// rows are the label/value lines both parts show.
func rows(m notify.Message) [][2]string {
	r := [][2]string{
		{"Alarm", m.Alarm},
		{"State", m.From + " -> " + m.To},
		{"Severity", m.Severity},
		{"Metric", m.Watched()},
		{"Value", m.ValueText()},
		{"Condition", m.Condition()},
		{"Time", m.Time.UTC().Format(time.RFC3339)},
		{"Reason", m.Reason},
	}
	if m.Episode > 0 {
		r = append(r, [2]string{"Episode", fmt.Sprint(m.Episode)})
	}
	if m.DashboardURL != "" {
		r = append(r, [2]string{"Dashboard", m.DashboardURL})
	}
	return r
}

// PlainText is the text/plain part.
func PlainText(m notify.Message) string {
	var b strings.Builder
	b.WriteString(m.Title() + "\n\n")
	if m.Description != "" {
		b.WriteString(m.Description + "\n\n")
	}
	for _, r := range rows(m) {
		fmt.Fprintf(&b, "%-10s %s\n", r[0]+":", r[1])
	}
	b.WriteString("\n-- \ndpcops, " + m.Platform + "/" + m.Environment + "\n")
	return b.String()
}

var htmlTmpl = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.M.Title}}</h2>
{{if .M.Description}}<p>{{.M.Description}}</p>{{end}}
<table cellpadding="4">
{{range .Rows}}<tr><th align="left">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{if .M.DashboardURL}}<p><a href="{{.M.DashboardURL}}">Open the alarm in dpcops</a></p>{{end}}
<p style="color:#666">dpcops, {{.M.Platform}}/{{.M.Environment}}</p>
</body></html>
`))

// HTML is the text/html part; every value is escaped.
func HTML(m notify.Message) (string, error) {
	var b strings.Builder
	err := htmlTmpl.Execute(&b, struct {
		M    notify.Message
		Rows [][2]string
	}{m, rows(m)})
	return b.String(), err
}
