package spec

import (
	"strings"
	"time"
)

// Defaults that docs/spec.md documents; keep the two in step.
const (
	DefaultTimezone          = "Asia/Tokyo"
	DefaultEnvironment       = "prod"
	DefaultListen            = "127.0.0.1:8080"
	DefaultConnectTimeout    = Duration(5 * time.Second)
	DefaultStatementTimeout  = Duration(10 * time.Second)
	DefaultInterval          = Duration(time.Minute)
	DefaultIdleSQLInterval   = Duration(6 * time.Hour)
	DefaultRetention         = Duration(15 * 24 * time.Hour)
	DefaultKeepNotifications = Duration(30 * 24 * time.Hour)
	DefaultKeepHistory       = Duration(90 * 24 * time.Hour)
	DefaultKeepIncidents     = Duration(400 * 24 * time.Hour)
	DefaultWindow            = Duration(time.Hour)
	DefaultAlarmPeriod       = Duration(5 * time.Minute)
	DefaultChannelTimeout    = Duration(10 * time.Second)
	DefaultConcurrency       = 4
	DefaultMaxAge            = Duration(24 * time.Hour)
	DefaultBackoff           = Duration(time.Second)
	DefaultMaxBackoff        = Duration(5 * time.Minute)
	DefaultFailingAttempts   = 5
	DefaultLeaderLease       = Duration(10 * time.Second)
	DefaultHeartbeatInterval = Duration(time.Minute)
	DefaultCatchUp           = Duration(time.Hour)
	DefaultJobTimeout        = Duration(2 * time.Hour)
	DefaultCustomNamespace   = "Custom/DPC"
	DefaultLeaseDuration     = Duration(4 * time.Hour)
	ServerlessNamespace      = "AWS/Redshift-Serverless"
)

// pricePerRPUHour is the on-demand compute price of the regions whose
// price we know (aws-facts §5); elsewhere the spec must say.
var pricePerRPUHour = map[string]float64{
	"us-east-1":      0.375,
	"ap-northeast-1": 0.494,
}

// applyDefaults fills every value the spec left out. Defaults carry no
// position: diagnostics about them point at the enclosing part.
func (s *Spec) applyDefaults() {
	setString(&s.Timezone, DefaultTimezone)
	setString(&s.Environment, DefaultEnvironment)

	w := &s.Warehouse
	setString(&w.Engine, EngineRedshiftServerless)
	if w.Engine == EngineRedshiftServerless {
		setString(&w.Database, "dev")
		if w.Namespace != "" {
			setString(&w.LogGroup, "/aws/redshift/"+w.Namespace+"/useractivitylog")
		}
	}
	setDuration(&w.ConnectTimeout, DefaultConnectTimeout)
	setDuration(&w.StatementTimeout, DefaultStatementTimeout)

	c := &s.Capacity
	if c.BaseRPU == 0 {
		c.BaseRPU = 8
	}
	if c.MaxRPU == 0 {
		c.MaxRPU = max(32, c.BaseRPU)
	}
	if c.PricePerRPUHour == 0 {
		c.PricePerRPUHour = pricePerRPUHour[s.AWS.Region]
	}
	if u := c.UsageLimit; u != nil {
		setString(&u.Period, "monthly")
		setString(&u.BreachAction, "emit-metric")
		if u.NotifyAtPercent == 0 {
			u.NotifyAtPercent = 80
		}
	}

	if l := c.Lease; l != nil {
		if l.NormalMaxRPU == 0 {
			l.NormalMaxRPU = c.BaseRPU
		}
		if l.BatchMaxRPU == 0 {
			l.BatchMaxRPU = c.MaxRPU
		}
		setDuration(&l.MaxDuration, DefaultLeaseDuration)
	}
	p := &s.Pipeline
	if p.Kind == "" {
		p.Kind = PipelineLedger
		if w.Engine == EngineRedshiftServerless && p.StateMachineARN != "" {
			p.Kind = PipelineStepFunctions
		}
	}
	setString(&p.Name, s.Platform)
	if l := c.Lease; l != nil && len(l.Pipelines) == 0 {
		l.Pipelines = []string{p.Name}
	}
	setString(&s.ELTDelay.Method, DelayPipelineCompletion)

	setDuration(&s.Collect.Interval, DefaultInterval)
	setDuration(&s.Collect.IdleSQLInterval, DefaultIdleSQLInterval)
	setDuration(&s.Collect.Retention, DefaultRetention)
	setString(&s.Collect.Publisher, PublisherLambda)
	setDuration(&s.Store.LeaderLease, DefaultLeaderLease)
	setDuration(&s.Store.Retention.Notifications, DefaultKeepNotifications)
	setDuration(&s.Store.Retention.History, DefaultKeepHistory)
	setDuration(&s.Store.Retention.Incidents, DefaultKeepIncidents)

	for i := range s.Metrics {
		m := &s.Metrics[i]
		if info, ok := Source(m.Source); ok {
			setString(&m.Unit, info.Unit)
		}
		setString(&m.Unit, "None")
		setString(&m.Namespace, DefaultCustomNamespace)
		setDuration(&m.Interval, s.Collect.Interval)
		if m.Source == "query_failure_rate" {
			setDuration(&m.Window, DefaultWindow)
		}
	}
	for i := range s.Alarms {
		a := &s.Alarms[i]
		setString(&a.Statistic, "Average")
		setDuration(&a.Period, DefaultAlarmPeriod)
		if a.EvaluationPeriods == 0 {
			a.EvaluationPeriods = 1
		}
		if a.DatapointsToAlarm == 0 {
			a.DatapointsToAlarm = a.EvaluationPeriods
		}
		setString(&a.TreatMissingData, "missing")
		setString(&a.Severity, "warning")
	}
	for i := range s.Channels {
		ch := &s.Channels[i]
		setDuration(&ch.Timeout, DefaultChannelTimeout)
		if ch.Concurrency == 0 {
			ch.Concurrency = DefaultConcurrency
		}
		switch ch.Type {
		case ChannelOpsGenie:
			setString(&ch.Region, "us")
		case ChannelEmail:
			if strings.HasSuffix(ch.SMTP, ":465") {
				setString(&ch.TLS, "tls")
			}
			setString(&ch.TLS, "starttls")
		}
	}
	setDuration(&s.Notify.MaxAge, DefaultMaxAge)
	setDuration(&s.Notify.Backoff, DefaultBackoff)
	setDuration(&s.Notify.MaxBackoff, DefaultMaxBackoff)
	if s.Notify.FailingAttempts == 0 {
		s.Notify.FailingAttempts = DefaultFailingAttempts
	}
	if hb := s.Notify.Heartbeat; hb != nil {
		setDuration(&hb.Interval, DefaultHeartbeatInterval)
		setDuration(&hb.Timeout, DefaultChannelTimeout)
	}

	for i := range s.Maintenance {
		j := &s.Maintenance[i]
		setString(&j.Mode, "auto")
		setString(&j.Timezone, s.Timezone)
		setDuration(&j.CatchUp, DefaultCatchUp)
		setDuration(&j.Timeout, DefaultJobTimeout)
	}
	for i := range s.Windows {
		setString(&s.Windows[i].Timezone, s.Timezone)
	}
	for i := range s.QMR {
		setString(&s.QMR[i].Metric, "execution_time")
	}
	setString(&s.Dashboard.Name, s.Platform)
	for i := range s.Dashboard.Widgets {
		wd := &s.Dashboard.Widgets[i]
		if wd.Width == 0 {
			wd.Width = 6
		}
		if wd.Height == 0 {
			wd.Height = 6
		}
	}
	setString(&s.Serve.Listen, DefaultListen)
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setDuration(p *Duration, v Duration) {
	if *p == 0 {
		*p = v
	}
}
