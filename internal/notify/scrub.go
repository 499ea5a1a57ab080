package notify

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// redacted replaces a secret in errors and answers.
const redacted = "<redacted>"

// minSecret is the length in bytes below which a value is not scrubbed:
// it cannot be a secret worth the name, and replacing it would shred the
// text.
const minSecret = 4

// apiWords are the path segments and query values of secret URLs that
// name an API rather than a secret, and stay readable in answers: a fixed
// list, because a short all-letter token (some hook ids are) looks like a
// word to any rule.
var apiWords = map[string]bool{
	"alert": true, "alerts": true, "api": true, "apis": true, "catch": true, "channel": true, "dpcops": true,
	"enqueue": true, "event": true, "events": true, "hook": true, "hooks": true, "incoming": true,
	"integration": true, "integrations": true, "json": true, "message": true, "messages": true,
	"notifications": true, "notify": true, "send": true, "services": true, "trigger": true, "triggers": true,
	"webhook": true, "webhooks": true,
}

// ScrubString removes every secret from s, also in its URL-escaped and
// JSON-escaped forms. The longest secrets go first, so that a whole URL
// reads as one <redacted> rather than as its parts. Values shorter than
// minSecret bytes are ignored.
func ScrubString(s string, secrets ...string) string {
	sorted := slices.Clone(secrets)
	slices.SortStableFunc(sorted, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, sec := range sorted {
		if len(sec) < minSecret {
			continue
		}
		for _, form := range forms(sec) {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}

// forms are the ways a receiver may echo a secret: as sent, URL-escaped,
// and escaped inside a JSON string (Go's escaping of <, > and &, and the
// \/ of other encoders).
func forms(sec string) []string {
	out := []string{sec, url.QueryEscape(sec), url.PathEscape(sec), strings.ReplaceAll(sec, "/", `\/`)}
	if b, err := json.Marshal(sec); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	return out
}

// Scrub returns err with every secret removed from its message. The
// result does not wrap err, so that no caller can reach the original
// message through errors.Unwrap.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return errors.New(ScrubString(err.Error(), secrets...))
}

// ChannelSecrets lists what must be scrubbed from a channel's errors and
// answers: each secret value whole, and each part of it that gives it
// away on its own (see secretParts), because a receiver may echo one path
// segment or a token without its scheme word. A webhook's custom header
// values count too: they often carry tokens.
func ChannelSecrets(ch *spec.Channel) []string {
	var out []string
	for _, h := range ch.Headers {
		out = append(out, secretParts(h.Value)...)
	}
	for _, s := range []spec.Secret{ch.WebhookURL, ch.URL, ch.RoutingKey, ch.APIKey, ch.Password, ch.Secret} {
		if s.IsSet() {
			out = append(out, secretParts(s.Reveal())...)
		}
	}
	return out
}

// secretParts returns a secret value and its significant parts: for a
// credential with a scheme word ("Bearer TOKEN", "GenieKey KEY", "Basic
// BASE64"), the token without the word (and a Basic credential's decoded
// user:password and password); for a URL, its path, query and user info
// whole, and each path segment, query value, user name, password and
// fragment that is significant.
func secretParts(v string) []string {
	out := append([]string{v}, credentialParts(v)...)
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		out = append(out, urlParts(u)...)
	}
	return out
}

// credentialParts returns the token of an Authorization-style value, "SCHEME
// TOKEN", and its significant words; nil for a value without a scheme word.
func credentialParts(v string) []string {
	fields := strings.Fields(v)
	if len(fields) < 2 || !isSchemeWord(fields[0]) {
		return nil
	}
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), fields[0]))
	// The token is a credential whatever it looks like, so it is kept
	// whole; its words only when they are significant.
	out := []string{token}
	for _, f := range fields[1:] {
		if significant(f) {
			out = append(out, f)
		}
	}
	if strings.EqualFold(fields[0], "Basic") {
		if b, err := base64.StdEncoding.DecodeString(token); err == nil {
			out = append(out, string(b))
			if _, pass, ok := strings.Cut(string(b), ":"); ok {
				out = append(out, pass)
			}
		}
	}
	return out
}

// isSchemeWord reports whether s is an authentication scheme's name:
// ASCII letters only, such as Bearer, Basic or GenieKey.
func isSchemeWord(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}

// urlParts returns the parts of a secret URL a receiver may echo: its
// path and query whole when they hold a significant piece, the user info,
// and every significant path segment, query value, user name, password
// and fragment, each as sent and unescaped. The scheme and host are not
// secret: errors name them on purpose.
func urlParts(u *url.URL) []string {
	var segs []string
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		segs = append(segs, pieces(seg)...)
	}
	if len(segs) > 0 {
		segs = append(segs, u.EscapedPath(), u.Path)
	}
	var vals []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		_, v, _ := strings.Cut(kv, "=")
		vals = append(vals, pieces(v)...)
	}
	if len(vals) > 0 {
		vals = append(vals, u.RawQuery)
	}
	out := append(segs, vals...)
	out = append(out, pieces(u.EscapedFragment())...)
	if u.User != nil {
		out = append(out, u.User.String())
		out = append(out, pieces(u.User.Username())...)
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	return out
}

// pieces returns a raw piece of a URL and its unescaped forms (as a path
// and as a query unescapes it: they differ on "+"), each if it is
// significant.
func pieces(raw string) []string {
	var out []string
	if significant(raw) {
		out = append(out, raw)
	}
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if un, err := unescape(raw); err == nil && un != raw && significant(un) {
			out = append(out, un)
		}
	}
	return out
}

// significant reports whether a part of a secret is secret on its own:
// at least minSecret bytes long and not one of apiWords.
func significant(s string) bool {
	return len(s) >= minSecret && !apiWords[s]
}
