package spec

import (
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// FilterKeys are the message attributes a subscription filter may test.
var FilterKeys = []string{"alarm", "severity", "state"}

// ChannelTypes lists the channel types.
var ChannelTypes = []string{ChannelSlack, ChannelPagerDuty, ChannelOpsGenie, ChannelEmail, ChannelWebhook, ChannelSNS, ChannelInbox}

// channelKeys are the keys each channel type takes besides the common ones.
var channelKeys = map[string][]string{
	ChannelSlack:     {"webhook_url", "webhook_url_file", "channel", "username"},
	ChannelPagerDuty: {"routing_key", "routing_key_file", "url"},
	ChannelOpsGenie:  {"api_key", "api_key_file", "url", "region"},
	ChannelEmail:     {"smtp", "tls", "username", "password", "password_file", "from", "to"},
	ChannelWebhook:   {"url", "secret", "secret_file", "headers"},
	ChannelSNS:       {"topic_arn"},
	ChannelInbox:     {},
}

var commonChannelKeys = []string{"type", "enabled", "timeout", "concurrency", "send_resolved"}

func (c *checker) checkTopics() {
	for _, t := range c.s.Topics {
		p := "topics." + t.Name
		if len(t.Subscriptions) == 0 {
			c.warnf(p, "topic %s has no subscriptions: messages published to it go nowhere", t.Name)
		}
		for j, sub := range t.Subscriptions {
			sp := fmt.Sprintf("%s.subscriptions[%d]", p, j)
			if !c.required(sp, "subscription channel", sub.Channel) {
				continue
			}
			if _, ok := c.s.Channel(sub.Channel); !ok {
				c.errorf(sp, "topic %s subscribes channel %q, which is not defined in channels%s", t.Name, sub.Channel, suggest(sub.Channel, c.channelNames()))
			}
			for _, f := range sub.Filter {
				fp := sp + ".filter." + f.Key
				if !c.enum(fp, "filter attribute", f.Key, FilterKeys) {
					continue
				}
				c.checkFilterValues(fp, f)
			}
		}
	}
}

func (c *checker) checkFilterValues(path string, f Filter) {
	if len(f.Values) == 0 {
		c.errorf(path, "filter %s lists no values", f.Key)
	}
	for _, v := range f.Values {
		switch f.Key {
		case "alarm":
			if _, ok := c.s.Alarm(v); !ok {
				c.errorf(path, "filter names alarm %q, which is not defined in alarms%s", v, suggest(v, c.alarmNames()))
			}
		case "severity":
			c.enum(path, "severity", v, Severities)
		case "state":
			c.enum(path, "state", v, []string{"ALARM", "OK", "INSUFFICIENT_DATA"})
		}
	}
}

func (c *checker) channelNames() []string {
	out := make([]string, len(c.s.Channels))
	for i, ch := range c.s.Channels {
		out[i] = ch.Name
	}
	return out
}

func (c *checker) alarmNames() []string {
	out := make([]string, len(c.s.Alarms))
	for i, a := range c.s.Alarms {
		out[i] = a.Name
	}
	return out
}

func (c *checker) checkChannels() {
	for i := range c.s.Channels {
		ch := &c.s.Channels[i]
		p := "channels." + ch.Name
		if !c.enum(p+".type", "channel type", ch.Type, ChannelTypes) {
			continue
		}
		c.checkChannelKeys(p, ch)
		if ch.Concurrency < 1 {
			c.errorf(p+".concurrency", "concurrency must be at least 1")
		}
		if ch.Timeout.D() < 100*time.Millisecond {
			c.errorf(p+".timeout", "timeout must be at least 100ms")
		}
		if !ch.Enabled.On() {
			continue
		}
		c.checkChannelValues(p, ch)
	}
}

// checkChannelKeys refuses keys that do not apply to the channel's type.
func (c *checker) checkChannelKeys(p string, ch *Channel) {
	allowed := append(slices.Clone(commonChannelKeys), channelKeys[ch.Type]...)
	for _, name := range c.channelKeyNames() {
		if c.src.has(p+"."+name) && !slices.Contains(allowed, name) {
			c.errorf(p+"."+name, "key %s does not apply to a %s channel (it takes %s)", name, ch.Type, oneOf(channelKeys[ch.Type]))
		}
	}
}

func (c *checker) channelKeyNames() []string {
	var all []string
	for _, keys := range channelKeys {
		for _, k := range keys {
			all = appendUnique(all, k)
		}
	}
	slices.Sort(all)
	return all
}

func (c *checker) checkChannelValues(p string, ch *Channel) {
	switch ch.Type {
	case ChannelSlack:
		c.secretURL(p, "webhook_url", ch.WebhookURL)
	case ChannelPagerDuty:
		c.requiredSecret(p, "routing_key", ch.RoutingKey)
		c.optionalURL(p, "url", ch.URL)
	case ChannelOpsGenie:
		c.requiredSecret(p, "api_key", ch.APIKey)
		c.optionalURL(p, "url", ch.URL)
		c.enum(p+".region", "OpsGenie region", ch.Region, []string{"us", "eu"})
	case ChannelEmail:
		if c.required(p, "smtp (host:port of the mail server)", ch.SMTP) {
			if _, port, err := net.SplitHostPort(ch.SMTP); err != nil || port == "" {
				c.errorf(p+".smtp", "smtp must be host:port, got %q", ch.SMTP)
			}
		}
		c.enum(p+".tls", "tls mode", ch.TLS, []string{"starttls", "tls", "none"})
		if c.required(p, "from", ch.From) {
			c.address(p+".from", ch.From)
		}
		if len(ch.To) == 0 {
			c.errorf(p, "an email channel needs at least one address in to")
		}
		for j, to := range ch.To {
			c.address(fmt.Sprintf("%s.to[%d]", p, j), to)
		}
		if ch.Password.IsSet() && ch.Username == "" {
			c.errorf(p+".password", "password needs username")
		}
	case ChannelWebhook:
		c.secretURL(p, "url", ch.URL)
	case ChannelSNS:
		if c.required(p, "topic_arn", ch.TopicARN) && !strings.HasPrefix(ch.TopicARN, "arn:aws:sns:") {
			c.errorf(p+".topic_arn", "topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
		}
	}
}

func (c *checker) address(path, addr string) {
	if _, err := mail.ParseAddress(addr); err != nil {
		c.errorf(path, "%q is not an email address", addr)
	}
}

// reported says whether a missing value was reported already: it used an
// unset variable, or its *_file could not be read.
func (c *checker) reported(p, key string) bool {
	return c.unset[p+"."+key] || c.src.has(p+"."+key+"_file")
}

func (c *checker) requiredSecret(p, key string, v Secret) {
	if !v.IsSet() && !c.reported(p, key) {
		c.errorf(p, "%s is required (from the environment: %s: ${VAR}, or %s_file)", key, key, key)
	}
}

// secretURL checks a URL that carries a secret without ever printing it.
func (c *checker) secretURL(p, key string, v Secret) {
	if !v.IsSet() {
		if c.reported(p, key) {
			return
		}
		c.errorf(p, "%s is required (from the environment: %s: ${VAR}, or %s_file)", key, key, key)
		return
	}
	c.optionalURL(p, key, v)
}

func (c *checker) optionalURL(p, key string, v Secret) {
	if !v.IsSet() {
		return
	}
	u, err := url.Parse(v.Reveal())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.errorf(p+"."+key, "%s is not an http(s) URL", key)
	}
}

// checkInhibit refuses rules that name alarms the spec lacks, a target
// glob that matches none, an alarm inhibiting itself, and rules that
// inhibit in a circle (A holds back B, B holds back A: when both fire,
// nobody is paged).
func (c *checker) checkInhibit() {
	names := map[string]bool{}
	for _, a := range c.s.Alarms {
		names[a.Name] = true
	}
	edges := map[string][]string{}
	for i, r := range c.s.Notify.Inhibit {
		p := fmt.Sprintf("notify.inhibit[%d]", i)
		if len(r.Source) == 0 || len(r.Target) == 0 {
			c.errorf(p, "an inhibit rule needs source (the alarms that hold back) and target (the alarms held back)")
			continue
		}
		for j, s := range r.Source {
			if !names[s] {
				c.errorf(fmt.Sprintf("%s.source[%d]", p, j), "inhibit source %q is not an alarm of the spec", s)
			}
		}
		for j, tg := range r.Target {
			matched := AlarmsMatching(c.s, tg)
			if len(matched) == 0 {
				c.errorf(fmt.Sprintf("%s.target[%d]", p, j), "inhibit target %q matches no alarm of the spec", tg)
			}
			for _, m := range matched {
				if slices.Contains(r.Source, m) {
					c.errorf(fmt.Sprintf("%s.target[%d]", p, j), "alarm %s would inhibit itself", m)
					continue
				}
				for _, s := range r.Source {
					edges[s] = append(edges[s], m)
				}
			}
		}
	}
	if cycle := findCycle(edges); cycle != nil {
		c.errorf("notify.inhibit", "inhibit rules hold back each other in a circle (%s): when all fire, nobody is paged", strings.Join(cycle, " → "))
	}
}

// AlarmsMatching are the names of the spec's alarms that patterns (alarm
// names, or globs of them) select, in spec order, each once: the targets
// of inhibit rules, maintenance windows, jobs' and leases' silence lists.
func AlarmsMatching(s *Spec, patterns ...string) []string {
	var out []string
	for _, a := range s.Alarms {
		for _, p := range patterns {
			if ok, _ := path.Match(p, a.Name); ok {
				out = append(out, a.Name)
				break
			}
		}
	}
	return out
}

// findCycle returns a circle of the graph (its first node repeated at
// the end), or nil.
func findCycle(edges map[string][]string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = onPath
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch state[m] {
			case onPath:
				i := slices.Index(stack, m)
				return append(slices.Clone(stack[i:]), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(edges)) {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

func (c *checker) checkNotify() {
	n := &c.s.Notify
	c.checkInhibit()
	if n.MaxBackoff < n.Backoff {
		c.errorf("notify.max_backoff", "max_backoff must be at least backoff")
	}
	if n.FailingAttempts < 1 {
		c.errorf("notify.failing_attempts", "failing_attempts must be at least 1")
	}
	hb := n.Heartbeat
	if hb == nil || !hb.Enabled.On() {
		return
	}
	if !hb.URL.IsSet() {
		c.errorf("notify.heartbeat", "heartbeat needs url (or url_file): the address the watcher expects pings at")
	}
	for _, u := range []struct {
		key string
		v   Secret
	}{{"url", hb.URL}, {"fail_url", hb.FailURL}} {
		if !u.v.IsSet() {
			continue
		}
		if p, err := url.Parse(u.v.Reveal()); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			// The URL holds the watcher's token: never quote it.
			c.errorf("notify.heartbeat."+u.key, "heartbeat %s must be an http:// or https:// address", u.key)
		}
	}
	if hb.Interval.D() < 10*time.Second {
		c.errorf("notify.heartbeat.interval", "heartbeat interval must be at least 10s")
	}
	if hb.Timeout.D() <= 0 || hb.Timeout.D() >= hb.Interval.D() {
		c.errorf("notify.heartbeat.timeout", "heartbeat timeout must be more than 0 and less than its interval (%s)", hb.Interval)
	}
}

// resolveFiles reads the *_file secrets of the enabled parts.
func (c *checker) resolveFiles() {
	w := &c.s.Warehouse
	c.readSecret("warehouse.dsn_file", w.DSNFile, &w.DSN)
	c.readSecret("serve.token_file", c.s.Serve.TokenFile, &c.s.Serve.Token)
	c.readSecret("store.dsn_file", c.s.Store.DSNFile, &c.s.Store.DSN)
	if hb := c.s.Notify.Heartbeat; hb != nil && hb.Enabled.On() {
		c.readSecret("notify.heartbeat.url_file", hb.URLFile, &hb.URL)
	}
	for i := range c.s.Channels {
		ch := &c.s.Channels[i]
		if !ch.Enabled.On() {
			continue
		}
		p := "channels." + ch.Name
		c.readSecret(p+".webhook_url_file", ch.WebhookURLFile, &ch.WebhookURL)
		c.readSecret(p+".routing_key_file", ch.RoutingKeyFile, &ch.RoutingKey)
		c.readSecret(p+".api_key_file", ch.APIKeyFile, &ch.APIKey)
		c.readSecret(p+".password_file", ch.PasswordFile, &ch.Password)
		c.readSecret(p+".secret_file", ch.SecretFile, &ch.Secret)
	}
}

func (c *checker) readSecret(path, file string, dst *Secret) {
	if file == "" {
		return
	}
	key := path[strings.LastIndexByte(path, '.')+1:]
	if dst.IsSet() {
		c.errorf(path, "set one of %s and %s, not both", strings.TrimSuffix(key, "_file"), key)
		return
	}
	v, err := secretFile(c.readFile, file)
	if err != nil {
		c.errorf(path, "cannot read %s: %v", key, err)
		return
	}
	if !v.IsSet() {
		c.errorf(path, "%s %s is empty", key, file)
	}
	*dst = v
}
