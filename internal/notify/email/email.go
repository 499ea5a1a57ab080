// Package email delivers notifications over SMTP: one message per
// delivery to every address in the channel's to, as multipart/alternative
// plain text and HTML. tls is starttls (upgrade the connection, refusing
// a server that cannot), tls (implicit TLS, port 465) or none; with a
// username it authenticates with AUTH PLAIN, which net/smtp refuses over
// an unencrypted connection to anything but localhost.
//
// from and to may carry display names ("Ops <ops@example.org>"): the SMTP
// envelope takes the bare addresses, and the headers the names, RFC 2047
// encoded when they are not ASCII.
//
// SMTP answers 4xx for a temporary failure (retried) and 5xx for a
// permanent one (failed). The Message-ID is derived from the delivery, so
// a resend after a crash carries the same one and mail systems that
// deduplicate by Message-ID drop it.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Notifier sends mail through one SMTP server.
type Notifier struct {
	name     string
	addr     string
	host     string
	mode     string
	username string
	password spec.Secret
	// from and to are parsed once: the envelope takes their bare
	// addresses, the headers their display names too. addrErr is why
	// they could not be (the spec refuses such addresses, so only a
	// channel built in code gets here).
	from    *mail.Address
	to      []*mail.Address
	addrErr error
	tls     *tls.Config
	now     func() time.Time
}

// New returns the notifier of an email channel. tlsConfig, when not nil,
// is the base TLS configuration (tests pass their CA); its ServerName is
// set to the SMTP host.
func New(ch *spec.Channel, tlsConfig *tls.Config) *Notifier {
	host, _, _ := net.SplitHostPort(ch.SMTP)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	cfg.ServerName = host
	mode := ch.TLS
	if mode == "" {
		mode = "starttls"
	}
	n := &Notifier{name: ch.Name, addr: ch.SMTP, host: host, mode: mode, username: ch.Username, password: ch.Password,
		tls: cfg, now: time.Now}
	n.from, n.to, n.addrErr = parseAddresses(ch.From, ch.To)
	return n
}

// parseAddresses parses from and each of to as RFC 5322 addresses, such
// as "ops@example.org" or "Ops <ops@example.org>".
func parseAddresses(from string, to []string) (*mail.Address, []*mail.Address, error) {
	f, err := mail.ParseAddress(from)
	if err != nil {
		return nil, nil, fmt.Errorf("from %q is not an email address", from)
	}
	var out []*mail.Address
	for _, s := range to {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("to %q is not an email address", s)
		}
		out = append(out, a)
	}
	return f, out, nil
}

// envelope is an address as SMTP's MAIL FROM and RCPT TO take it: the
// bare addr-spec, without display name or angle brackets, its local part
// quoted if it needs to be.
func envelope(a *mail.Address) string {
	s := (&mail.Address{Address: a.Address}).String()
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// Notify sends the message. A connection or timeout failure and a 4xx
// answer are retried; a 5xx answer, a server without STARTTLS when it is
// required, and refused authentication are not.
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	if n.addrErr != nil {
		return false, fmt.Errorf("%s: %w", n.name, n.addrErr)
	}
	msg, err := Compose(d, n.from, n.to, n.now())
	if err != nil {
		return false, fmt.Errorf("%s: compose: %w", n.name, err)
	}
	retry, err := n.send(ctx, msg, d)
	if err != nil {
		return retry, notify.Scrub(err, n.password.Reveal())
	}
	return false, nil
}

// permanent marks an error no retry can fix.
type permanent struct{ error }

func (n *Notifier) send(ctx context.Context, msg []byte, d *notify.Delivery) (bool, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return true, fmt.Errorf("%s: connect to %s: %w", n.name, n.addr, err)
	}
	// The context bounds the whole conversation, not just the dial.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	err = n.converse(conn, msg)
	var pe permanent
	var te *textproto.Error
	switch {
	case err == nil:
		d.Answer = notify.Answer{Status: 250, Body: "message accepted"}
		return false, nil
	case errors.As(err, &te):
		d.Answer = notify.Answer{Status: te.Code, Body: notify.ScrubString(te.Msg, n.password.Reveal())}
		return te.Code < 500, fmt.Errorf("%s: smtp %s: %w", n.name, n.addr, err)
	case errors.As(err, &pe):
		return false, fmt.Errorf("%s: smtp %s: %w", n.name, n.addr, pe.error)
	case ctx.Err() != nil:
		return true, fmt.Errorf("%s: smtp %s: timed out", n.name, n.addr)
	}
	return true, fmt.Errorf("%s: smtp %s: %w", n.name, n.addr, err)
}

// converse runs the SMTP conversation on conn and closes it.
func (n *Notifier) converse(conn net.Conn, msg []byte) error {
	if n.mode == "tls" {
		conn = tls.Client(conn, n.tls)
	}
	c, err := smtp.NewClient(conn, n.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("dpcops"); err != nil {
		return err
	}
	if n.mode == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return permanent{errors.New("the server does not offer STARTTLS (set tls: none to send in clear)")}
		}
		if err := c.StartTLS(n.tls); err != nil {
			return err
		}
	}
	if n.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return permanent{errors.New("the server does not offer AUTH, and a username is configured")}
		}
		if err := c.Auth(smtp.PlainAuth("", n.username, n.password.Reveal(), n.host)); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) {
				return err
			}
			return permanent{fmt.Errorf("authentication: %w", err)}
		}
	}
	if err := c.Mail(envelope(n.from)); err != nil {
		return err
	}
	for _, to := range n.to {
		if err := c.Rcpt(envelope(to)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
