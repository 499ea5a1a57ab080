package notify_test

import (
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// TestScrubRule pins the rule docs/notifications.md states: every part of
// a secret that gives it away on its own is removed from a receiver's
// echo, and the plain words of a secret URL stay readable.
func TestScrubRule(t *testing.T) {
	tests := []struct {
		name     string
		ch       spec.Channel
		echo     string
		gone     []string
		readable []string
	}{
		{
			name:     "slack segments",
			ch:       spec.Channel{WebhookURL: "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdEFGH1234abcdEFGH1234"},
			echo:     `no_team: /services/T0123ABCD; hook B0123ABCD token "abcdEFGH1234abcdEFGH1234" at https:\/\/hooks.slack.com\/services\/T0123ABCD`,
			gone:     []string{"T0123ABCD", "B0123ABCD", "abcdEFGH1234abcdEFGH1234"},
			readable: []string{"no_team", "/services/", "hooks.slack.com"},
		},
		{
			name:     "an all-letter hook id",
			ch:       spec.Channel{URL: "https://hooks.zapier.com/hooks/catch/123456/abcdefg/"},
			echo:     "no hook abcdefg under catch/123456",
			gone:     []string{"abcdefg", "123456"},
			readable: []string{"no hook", "catch/"},
		},
		{
			name:     "query values and user info",
			ch:       spec.Channel{URL: "https://bot:pw5ecretPW@hooks.example.org/hooks/dpcops?key=k3yVALUE99&format=json"},
			echo:     "bad key k3yVALUE99 (k3yVALUE99) for user bot, password pw5ecretPW, format json, hooks/dpcops",
			gone:     []string{"k3yVALUE99", "pw5ecretPW"},
			readable: []string{"format json", "hooks/dpcops"},
		},
		{
			name:     "bearer token without its scheme word",
			ch:       spec.Channel{Headers: spec.Labels{{Name: "Authorization", Value: "Bearer lowercasetoken"}}},
			echo:     "invalid token lowercasetoken; expected a Bearer credential",
			gone:     []string{"lowercasetoken"},
			readable: []string{"Bearer credential"},
		},
		{
			name: "basic credentials decoded",
			// dpcops:Pa55word-Basic
			ch:   spec.Channel{Headers: spec.Labels{{Name: "Authorization", Value: "Basic ZHBjb3BzOlBhNTV3b3JkLUJhc2lj"}}},
			echo: "user dpcops, password Pa55word-Basic, credential ZHBjb3BzOlBhNTV3b3JkLUJhc2lj",
			gone: []string{"Pa55word-Basic", "ZHBjb3BzOlBhNTV3b3JkLUJhc2lj"},
		},
		{
			name: "api key sent as GenieKey",
			ch:   spec.Channel{APIKey: "og-KEY-0123456789"},
			echo: "GenieKey og-KEY-0123456789 is not valid",
			gone: []string{"og-KEY-0123456789"},
		},
	}
	for _, tt := range tests {
		got := notify.ScrubString(tt.echo, notify.ChannelSecrets(&tt.ch)...)
		for _, s := range tt.gone {
			if strings.Contains(got, s) {
				t.Errorf("%s: %q survives in %q", tt.name, s, got)
			}
		}
		for _, s := range tt.readable {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %q was scrubbed from %q; it is not a secret", tt.name, s, got)
			}
		}
	}
}
