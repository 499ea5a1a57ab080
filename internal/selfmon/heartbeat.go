package selfmon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// HeartbeatMetric is the metric the heartbeat publishes to CloudWatch
// (namespace Custom/DPC, dimension Environment), whose rendered alarm
// treats missing data as breaching.
const HeartbeatMetric = "Heartbeat"

// beatState is what the last heartbeat said.
type beatState int

const (
	beatNone beatState = iota
	beatWell
	beatUnwell
	beatUndelivered
)

// Beat sends one heartbeat: to url while dpcops is well, to fail_url (if
// any) while it is not, and publishes the Heartbeat metric when well. It
// returns what stopped the ping, if anything; the state is logged when it
// changes.
func (m *Monitor) Beat(ctx context.Context) error {
	hb := m.o.Spec.Notify.Heartbeat
	if hb == nil || !hb.Enabled.On() {
		return nil
	}
	unwell := error(nil)
	if m.o.Healthy != nil {
		unwell = m.o.Healthy(ctx)
	}
	state, url, body := beatWell, hb.URL, "dpcops is well"
	if unwell != nil {
		state, url, body = beatUnwell, hb.FailURL, "dpcops is unwell: "+unwell.Error()
	}
	var err error
	if url.IsSet() {
		err = m.ping(ctx, hb, url.Reveal(), body)
	}
	if unwell == nil {
		m.publish(ctx)
	}
	if err != nil {
		state = beatUndelivered
	}
	m.logChange(state, unwell, err)
	if unwell != nil {
		return unwell
	}
	return err
}

// logChange logs the heartbeat's state when it changes.
func (m *Monitor) logChange(state beatState, unwell, err error) {
	if state == m.beat {
		return
	}
	prev := m.beat
	m.beat = state
	switch state {
	case beatWell:
		if prev != beatNone {
			m.log.Info("heartbeat: dpcops is well again, pinging")
		}
	case beatUnwell:
		m.log.Error("heartbeat withheld: dpcops is unwell", "why", unwell)
	case beatUndelivered:
		m.log.Warn("heartbeat not delivered", "err", err)
	}
}

// ping POSTs body to url within the heartbeat's timeout. Its error never
// holds the URL's secret parts.
func (m *Monitor) ping(ctx context.Context, hb *spec.Heartbeat, url, body string) error {
	ctx, cancel := context.WithTimeout(ctx, hb.Timeout.D())
	defer cancel()
	secrets := notify.URLSecrets(url)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return errors.New(notify.ScrubString("heartbeat: "+err.Error(), secrets...))
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "dpcops")
	resp, err := m.o.Client.Do(req)
	if err != nil {
		return errors.New(notify.ScrubString("heartbeat: "+err.Error(), secrets...))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("heartbeat: the watcher answered %d", resp.StatusCode)
	}
	return nil
}

// publish sends the Heartbeat metric to CloudWatch when collect.publish
// is on: the CloudWatch form's alarm on it pages when it stops.
func (m *Monitor) publish(ctx context.Context) {
	if m.o.Publisher == nil || !m.o.Spec.Collect.Publish {
		return
	}
	d := aws.Datum{MetricName: HeartbeatMetric, Dimensions: map[string]string{"Environment": m.o.Spec.Environment},
		Unit: "Count", Time: m.o.Now(), Value: 1}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := m.o.Publisher.PutMetricData(ctx, spec.DefaultCustomNamespace, []aws.Datum{d})
	switch {
	case err != nil && !m.publishErr:
		m.log.Warn("heartbeat metric not published to CloudWatch", "err", err)
	case err == nil && m.publishErr:
		m.log.Info("heartbeat metric published to CloudWatch again")
	}
	m.publishErr = err != nil
}
