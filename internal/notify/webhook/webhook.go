// Package webhook delivers notifications as a JSON POST to any HTTP
// endpoint. With a secret, the body is signed: X-Dpcops-Signature is
// "sha256=" and the hex HMAC-SHA256 of the exact body bytes under the
// secret, so the receiver can check that dpcops sent it. Custom headers
// are added as configured. 2xx is delivered; 408, 425, 429 and 5xx are
// retried; other answers fail the delivery.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Header names of a delivery.
const (
	HeaderSignature = "X-Dpcops-Signature"
	HeaderDelivery  = "X-Dpcops-Delivery"
	HeaderDedupKey  = "X-Dpcops-Dedup-Key"
	HeaderAttempt   = "X-Dpcops-Attempt"
)

// Notifier posts to one webhook.
type Notifier struct {
	name    string
	url     spec.Secret
	secret  spec.Secret
	headers spec.Labels
	client  *http.Client
	secrets []string
}

// New returns the notifier of a webhook channel.
func New(ch *spec.Channel, client *http.Client) *Notifier {
	return &Notifier{name: ch.Name, url: ch.URL, secret: ch.Secret, headers: ch.Headers, client: client,
		secrets: notify.ChannelSecrets(ch)}
}

// Body is the JSON a webhook receives.
type Body struct {
	Version string `json:"version"`
	// ID is the delivery (outbox row); the same across retries and
	// resends, so a receiver can drop duplicates by it.
	ID       int64          `json:"id"`
	Kind     notify.Kind    `json:"kind"`
	DedupKey string         `json:"dedup_key"`
	Resend   bool           `json:"resend,omitempty"`
	Title    string         `json:"title"`
	Summary  string         `json:"summary"`
	Message  notify.Message `json:"message"`
}

// Notify posts the delivery.
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	body, err := json.Marshal(Body{Version: "1", ID: d.ID, Kind: d.Kind, DedupKey: d.DedupKey, Resend: d.Resend,
		Title: d.Message.Title(), Summary: d.Message.Summary(), Message: d.Message})
	if err != nil {
		return false, fmt.Errorf("%s: encode body: %w", n.name, err)
	}
	h := http.Header{}
	for _, x := range n.headers {
		h.Set(x.Name, x.Value)
	}
	h.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	h.Set(HeaderDedupKey, d.DedupKey)
	h.Set(HeaderAttempt, strconv.Itoa(d.Attempt))
	if n.secret.IsSet() {
		h.Set(HeaderSignature, Sign(body, n.secret.Reveal()))
	}
	return notify.PostJSON(ctx, n.client, d, n.name, "url", n.url.Reveal(), body, h, n.secrets...)
}

// Sign returns the signature header of body: "sha256=" and the hex
// HMAC-SHA256 of body under secret.
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is body's signature under secret, in
// constant time: what a receiver written in Go would do.
func Verify(body []byte, secret, signature string) bool {
	return hmac.Equal([]byte(Sign(body, secret)), []byte(signature))
}
