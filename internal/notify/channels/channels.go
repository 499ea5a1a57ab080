// Package channels builds the notifier of each spec channel: it is the one
// place that knows every integration, so that package notify and the
// integrations need not know each other.
package channels

import (
	"context"
	"crypto/tls"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/email"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/notify/opsgenie"
	"github.com/dpc-learning/dpcops/internal/notify/pagerduty"
	"github.com/dpc-learning/dpcops/internal/notify/slack"
	"github.com/dpc-learning/dpcops/internal/notify/sns"
	"github.com/dpc-learning/dpcops/internal/notify/webhook"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Options configure Build and New.
type Options struct {
	Spec *spec.Spec
	// Store keeps the inbox channels' messages; an inbox channel needs it.
	Store *store.Store
	// TLSConfig is the base TLS configuration of HTTPS and SMTP (nil: the
	// system's roots). Tests pass one that trusts their local servers.
	TLSConfig *tls.Config
	// AWSCredentials replace the default credential chain of sns
	// channels when set.
	AWSCredentials awssdk.CredentialsProvider
}

// Build returns the notifier of every enabled channel, by name.
func Build(ctx context.Context, o Options) (map[string]notify.Notifier, error) {
	out := map[string]notify.Notifier{}
	for i := range o.Spec.Channels {
		ch := &o.Spec.Channels[i]
		if !ch.Enabled.On() {
			continue
		}
		n, err := New(ctx, o, ch)
		if err != nil {
			return nil, err
		}
		out[ch.Name] = n
	}
	return out, nil
}

// New returns the notifier of one channel, enabled or not (`dpcops notify
// test` may try a channel that is off).
func New(ctx context.Context, o Options, ch *spec.Channel) (notify.Notifier, error) {
	timeout := ch.Timeout.D()
	if timeout <= 0 {
		timeout = spec.DefaultChannelTimeout.D()
	}
	source := Source(o.Spec)
	switch ch.Type {
	case spec.ChannelSlack:
		return slack.New(ch, notify.NewHTTPClient(timeout, o.TLSConfig)), nil
	case spec.ChannelPagerDuty:
		return pagerduty.New(ch, source, notify.NewHTTPClient(timeout, o.TLSConfig)), nil
	case spec.ChannelOpsGenie:
		return opsgenie.New(ch, source, notify.NewHTTPClient(timeout, o.TLSConfig)), nil
	case spec.ChannelWebhook:
		return webhook.New(ch, notify.NewHTTPClient(timeout, o.TLSConfig)), nil
	case spec.ChannelEmail:
		return email.New(ch, o.TLSConfig), nil
	case spec.ChannelSNS:
		ep, _ := o.Spec.AWS.Endpoints.Get("sns")
		return sns.New(ctx, ch, sns.Options{Region: o.Spec.AWS.Region, Endpoint: ep, Credentials: o.AWSCredentials,
			Timeout: timeout, TLSConfig: o.TLSConfig})
	case spec.ChannelInbox:
		if o.Store == nil {
			return nil, fmt.Errorf("channel %s: an inbox channel needs the store (--data)", ch.Name)
		}
		return inbox.New(ch.Name, o.Store), nil
	}
	return nil, fmt.Errorf("channel %s: unknown type %q", ch.Name, ch.Type)
}

// Source names this dpcops in PagerDuty and OpsGenie: the workgroup (or
// the platform) and the environment.
func Source(s *spec.Spec) string {
	src := s.Warehouse.Workgroup
	if src == "" {
		src = s.Platform
	}
	if s.Environment != "" {
		src += "/" + s.Environment
	}
	if src == "" {
		src = "dpcops"
	}
	return src
}
