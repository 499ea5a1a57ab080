package spec

import (
	"slices"
	"time"
)

// Spec is the whole operations design of one platform. Its YAML keys are the
// interface users write against: extend them, never rename them.
type Spec struct {
	// Platform names the platform; it prefixes rendered resource names.
	Platform string `yaml:"platform"`
	// Environment is the deployment stage (prod, stg, dev, demo).
	Environment string `yaml:"environment"`
	// Timezone is the IANA zone for schedules and reports (default Asia/Tokyo).
	Timezone string `yaml:"timezone"`

	AWS       AWS       `yaml:"aws"`
	Warehouse Warehouse `yaml:"warehouse"`
	Capacity  Capacity  `yaml:"capacity"`
	Pipeline  Pipeline  `yaml:"pipeline"`
	ELTDelay  ELTDelay  `yaml:"elt_delay"`
	DBT       DBT       `yaml:"dbt"`
	Collect   Collect   `yaml:"collect"`
	Store     Store     `yaml:"store"`

	Metrics  []Metric  `yaml:"metrics"`
	Alarms   []Alarm   `yaml:"alarms"`
	Topics   []Topic   `yaml:"topics"`
	Channels []Channel `yaml:"channels"`
	Notify   Notify    `yaml:"notify"`

	Maintenance []Job `yaml:"maintenance"`
	// Windows are recurring maintenance windows: the chosen alarms' pages
	// are held back while one is open.
	Windows   []Window  `yaml:"maintenance_windows"`
	QMR       []QMRRule `yaml:"qmr"`
	Dashboard Dashboard `yaml:"dashboard"`
	Serve     Serve     `yaml:"serve"`

	// src remembers where each value came from, for diagnostics.
	src *source
}

// AWS holds the account and region the platform runs in.
type AWS struct {
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// Endpoints override the AWS service endpoints, for local emulators and
	// tests. Keys: cloudwatch, logs, stepfunctions, sns, redshift_serverless,
	// redshift_data.
	Endpoints Labels `yaml:"endpoints"`
}

// Engine names.
const (
	EngineRedshiftServerless = "redshift-serverless"
	EnginePostgres           = "postgres"
)

// Warehouse is the database dpcops watches.
type Warehouse struct {
	// Engine is redshift-serverless or postgres.
	Engine    string `yaml:"engine"`
	Workgroup string `yaml:"workgroup"`
	Namespace string `yaml:"namespace"`
	Database  string `yaml:"database"`
	// DSN is a PostgreSQL connection string (Redshift speaks the same
	// protocol). It is a secret: take it from the environment.
	DSN     Secret `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// LeaderLease is the lease the leading serve renews on a PostgreSQL
	// store (default 10s): a follower takes over within it and a poll
	// (a fifth of it) of the leader's death.
	LeaderLease Duration `yaml:"leader_lease"`
	// ConnectTimeout bounds each connection attempt (default 5s).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// StatementTimeout bounds each monitoring query (default 10s).
	StatementTimeout Duration `yaml:"statement_timeout"`
	// LogFile is the PostgreSQL server's jsonlog file (postgres engine),
	// read for ERROR lines.
	LogFile string `yaml:"log_file"`
	// LogGroup is the CloudWatch Logs group with the workgroup's user
	// activity log (default /aws/redshift/<namespace>/useractivitylog).
	LogGroup string `yaml:"log_group"`
}

// Capacity is the compute and storage budget of the warehouse.
type Capacity struct {
	// BaseRPU is the workgroup's base capacity (8 to 512 in steps of 8; 4 is
	// also accepted by AWS).
	BaseRPU int `yaml:"base_rpu"`
	// MaxRPU is the workgroup's max capacity.
	MaxRPU int `yaml:"max_rpu"`
	// PricePerRPUHour is the compute price in USD (ap-northeast-1: 0.494).
	PricePerRPUHour float64 `yaml:"price_per_rpu_hour"`
	// StorageQuotaGB is the storage budget that storage percent is measured
	// against; Redshift Serverless storage itself has no capacity.
	StorageQuotaGB float64     `yaml:"storage_quota_gb"`
	UsageLimit     *UsageLimit `yaml:"usage_limit"`
	// Lease lets the pipeline raise the workgroup's max capacity for a
	// large dbt run, and has dpcops lower it again.
	Lease *Lease `yaml:"lease"`
	// AutoPause is accepted only to warn: Redshift Serverless has no
	// auto-pause setting.
	AutoPause *Duration `yaml:"auto_pause"`
}

// UsageLimit is the workgroup's compute usage limit.
type UsageLimit struct {
	RPUHours float64 `yaml:"rpu_hours"`
	// Period is daily, weekly or monthly.
	Period string `yaml:"period"`
	// NotifyAtPercent raises the usage alarm at this share of the limit.
	NotifyAtPercent float64 `yaml:"notify_at_percent"`
	// BreachAction is log, emit-metric or deactivate.
	BreachAction string `yaml:"breach_action"`
}

// Lease is the capacity lease: the workgroup runs at NormalMaxRPU and may
// be raised to BatchMaxRPU by the listed pipelines for at most MaxDuration.
type Lease struct {
	// NormalMaxRPU is the max capacity outside leases (default base_rpu).
	NormalMaxRPU int `yaml:"normal_max_rpu"`
	// BatchMaxRPU is the most a lease may raise it to (default max_rpu).
	BatchMaxRPU int `yaml:"batch_max_rpu"`
	// MaxDuration is the longest a lease may last (default 4h).
	MaxDuration Duration `yaml:"max_duration"`
	// Pipelines may ask for a lease (default: pipeline.name).
	Pipelines []string `yaml:"pipelines"`
	// Silence names the alarms (or globs) a raised capacity is expected
	// to set off (RPU-Spike): a window holds them back while a lease is
	// open.
	Silence []string `yaml:"silence"`
}

// Pipeline kinds.
const (
	PipelineStepFunctions = "stepfunctions"
	PipelineLedger        = "ledger"
)

// Pipeline is the ELT pipeline that feeds the warehouse.
type Pipeline struct {
	// Kind is stepfunctions or ledger (the ops.pipeline_runs table).
	Kind string `yaml:"kind"`
	// Name identifies the pipeline in ops.pipeline_runs and in messages.
	Name            string `yaml:"name"`
	StateMachineARN string `yaml:"state_machine_arn"`
	// Rerun allows dpcops to re-run the pipeline (action rerun-pipeline).
	Rerun bool `yaml:"rerun"`
	// RerunCommand is the local command that re-runs a ledger pipeline.
	RerunCommand []string `yaml:"rerun_command"`
	// RerunInput is the JSON input of a Step Functions re-run.
	RerunInput string `yaml:"rerun_input"`
}

// ELT delay methods.
const (
	DelayPipelineCompletion = "pipeline_completion"
	DelayMartUpdated        = "mart_updated"
	DelayBoth               = "both"
)

// ELTDelay says how ELTExecutionDelay is computed: minutes since the
// pipeline's last success, since the marts' last update, or both.
type ELTDelay struct {
	Method string `yaml:"method"`
	// MartQuery returns one timestamp: when the marts were last updated.
	MartQuery string `yaml:"mart_query"`
}

// DBT locates dbt's artifacts.
type DBT struct {
	// RunResults is the path of dbt's run_results.json.
	RunResults string `yaml:"run_results"`
	ProjectDir string `yaml:"project_dir"`
}

// Collect tunes the collectors.
type Collect struct {
	// Interval is the default collection interval (default 1m).
	Interval Duration `yaml:"interval"`
	// IdleSQLInterval is how often SQL may wake an idle serverless
	// workgroup (default 6h).
	IdleSQLInterval Duration `yaml:"idle_sql_interval"`
	// Retention is how long datapoints are kept (default 15d).
	Retention Duration `yaml:"retention"`
	// Publish sends dpcops' computed metrics to CloudWatch (namespace
	// Custom/DPC) so CloudWatch alarms can use them.
	Publish bool `yaml:"publish"`
	// Publisher says what feeds the CloudWatch form's Custom/DPC metrics
	// and error events: lambda (the module's function, default) or serve
	// (a running dpcops serve with publish on).
	Publisher string `yaml:"publisher"`
}

// Publishers of the CloudWatch form.
const (
	PublisherLambda = "lambda"
	PublisherServe  = "serve"
)

// Store configures dpcops' own state.
type Store struct {
	// DSN, when set, keeps the state in a PostgreSQL database (Amazon RDS
	// or Aurora) instead of --data's SQLite file: a secret.
	DSN     Secret `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// LeaderLease is the lease the leading serve renews on a PostgreSQL
	// store (default 10s): a follower takes over within it and a poll
	// (a fifth of it) of the leader's death.
	LeaderLease Duration `yaml:"leader_lease"`
	// Retention says how long finished records are kept; datapoints and
	// log lines follow collect.retention.
	Retention Retention `yaml:"retention"`
}

// Retention is how long each kind of finished record is kept. Nothing
// unfinished is pruned: a pending delivery, an open incident, an open
// lease or a running job stays whatever its age.
type Retention struct {
	// Notifications: delivered, failed and expired outbox rows and the
	// inbox (default 30d).
	Notifications Duration `yaml:"notifications"`
	// History: alarm history, query-rule actions, maintenance runs and
	// closed capacity leases with their events (default 90d).
	History Duration `yaml:"history"`
	// Incidents: closed incidents and their timelines (default 400d),
	// kept longest, since post-incident reviews look back a year.
	Incidents Duration `yaml:"incidents"`
}

// Metric is a logical metric: a name alarms and widgets refer to, bound to
// a source that is implemented for each engine.
type Metric struct {
	Name string `yaml:"name"`
	// Source is a built-in source (see Sources) or "sql" for a custom query.
	Source string `yaml:"source"`
	// SQL is the query of a custom metric: it returns one numeric column
	// named value, and optionally text columns that become dimensions.
	SQL string `yaml:"sql"`
	// Unit is a CloudWatch unit (Count, Percent, Seconds, Megabytes, None...).
	Unit        string `yaml:"unit"`
	Description string `yaml:"description"`
	// Namespace is the metric's CloudWatch namespace: AWS/Redshift-Serverless
	// for metrics AWS publishes, Custom/DPC for those dpcops computes.
	Namespace  string `yaml:"namespace"`
	Dimensions Labels `yaml:"dimensions"`
	// Interval overrides collect.interval for this metric.
	Interval Duration `yaml:"interval"`
	// Window is the look-back of derived rates (query_failure_rate: 1h).
	Window Duration `yaml:"window"`
}

// Alarm is a CloudWatch-style alarm on a metric or a metric math expression.
type Alarm struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Enabled     Enabled `yaml:"enabled"`
	// Metric names a spec metric; Expression is metric math over them. One of
	// the two is required.
	Metric     string `yaml:"metric"`
	Expression string `yaml:"expression"`
	// Dimensions select the series of the metric the alarm watches; empty
	// means the metric's own dimensions.
	Dimensions        Labels   `yaml:"dimensions"`
	Statistic         string   `yaml:"statistic"`
	Period            Duration `yaml:"period"`
	EvaluationPeriods int      `yaml:"evaluation_periods"`
	// DatapointsToAlarm defaults to EvaluationPeriods.
	DatapointsToAlarm int      `yaml:"datapoints_to_alarm"`
	Comparison        string   `yaml:"comparison"`
	Threshold         *float64 `yaml:"threshold"`
	// TreatMissingData is missing (default), ignore, breaching or notBreaching.
	TreatMissingData string `yaml:"treat_missing_data"`
	// Severity is critical, error, warning or info.
	Severity string   `yaml:"severity"`
	Topics   []string `yaml:"topics"`
	// Actions run on the transition to ALARM (rerun-pipeline).
	Actions []string `yaml:"actions"`
	// RepeatInterval re-notifies while the alarm stays in ALARM (0: never).
	RepeatInterval Duration `yaml:"repeat_interval"`
}

// Topic is an SNS-style topic: every message published to it goes to each
// subscription whose filter matches.
type Topic struct {
	Name          string         `yaml:",key"`
	Subscriptions []Subscription `yaml:"subscriptions"`
}

// Subscription delivers a topic's messages to a channel. Written as a bare
// channel name or as {channel, filter}.
type Subscription struct {
	Channel string
	// Filter works like an SNS filter policy over the message attributes
	// alarm, severity and state: every key must match one of its values.
	Filter []Filter
	pos    Pos
}

// Filter is one key of a subscription filter.
type Filter struct {
	Key    string
	Values []string
}

// Channel types.
const (
	ChannelSlack     = "slack"
	ChannelPagerDuty = "pagerduty"
	ChannelOpsGenie  = "opsgenie"
	ChannelEmail     = "email"
	ChannelWebhook   = "webhook"
	ChannelSNS       = "sns"
	ChannelInbox     = "inbox"
)

// Channel is a notification receiver. Which keys apply depends on Type.
type Channel struct {
	Name    string  `yaml:",key"`
	Type    string  `yaml:"type"`
	Enabled Enabled `yaml:"enabled"`

	// slack
	WebhookURL     Secret `yaml:"webhook_url"`
	WebhookURLFile string `yaml:"webhook_url_file"`
	Channel        string `yaml:"channel"`
	Username       string `yaml:"username"`

	// pagerduty, opsgenie and webhook: URL replaces the default endpoint
	// (pagerduty, opsgenie) or is the target (webhook).
	URL            Secret `yaml:"url"`
	RoutingKey     Secret `yaml:"routing_key"`
	RoutingKeyFile string `yaml:"routing_key_file"`
	APIKey         Secret `yaml:"api_key"`
	APIKeyFile     string `yaml:"api_key_file"`
	// Region is us or eu (opsgenie).
	Region string `yaml:"region"`

	// email
	SMTP         string   `yaml:"smtp"`
	TLS          string   `yaml:"tls"`
	Password     Secret   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`

	// webhook: Secret signs the body with HMAC-SHA256.
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	Headers    Labels `yaml:"headers"`

	// sns
	TopicARN string `yaml:"topic_arn"`

	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `yaml:"timeout"`
	// Concurrency is the number of deliveries in flight (default 4).
	Concurrency int `yaml:"concurrency"`
	// SendResolved sends the return to OK (default true where the receiver
	// can resolve).
	SendResolved *bool `yaml:"send_resolved"`
}

// Notify tunes delivery.
type Notify struct {
	// MaxAge expires a delivery that could not be made (default 24h).
	MaxAge Duration `yaml:"max_age"`
	// Backoff is the first retry delay (default 1s); it doubles up to
	// MaxBackoff (default 5m), with jitter.
	Backoff    Duration `yaml:"backoff"`
	MaxBackoff Duration `yaml:"max_backoff"`
	// FailingAttempts is the number of attempts after which a delivery
	// still retrying counts as failing for dpcops-Deliveries-Failing
	// (default 5).
	FailingAttempts int `yaml:"failing_attempts"`
	// Heartbeat is the dead man's switch; nil: none.
	Heartbeat *Heartbeat `yaml:"heartbeat"`
	// Inhibit holds back the pages of some alarms while others are in
	// ALARM: the noise behind the one that matters.
	Inhibit []InhibitRule `yaml:"inhibit"`
}

// InhibitRule holds back the notifications of the Target alarms while
// any Source alarm is in ALARM. A held notification goes out when no
// source is in ALARM any more, if its alarm still is.
type InhibitRule struct {
	// Name labels the rule in messages (default: its place).
	Name string `yaml:"name"`
	// Source names alarms.
	Source []string `yaml:"source"`
	// Target names alarms, or globs of names (Review-*).
	Target []string `yaml:"target"`
}

// Heartbeat pings a URL every interval while dpcops is well (its store
// takes writes and its engines run), so that a service watching for the
// pings (healthchecks.io, Dead Man's Snitch, Cronitor, a CloudWatch
// alarm on the published Heartbeat metric) pages when they stop: when
// dpcops or its host dies.
type Heartbeat struct {
	Enabled Enabled `yaml:"enabled"`
	// URL is pinged with GET; it usually holds a token: a secret.
	URL     Secret `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// FailURL, when set, is pinged instead while dpcops is unwell (as
	// healthchecks.io's URL/fail), so the watcher pages at once rather
	// than after its grace time.
	FailURL Secret `yaml:"fail_url"`
	// Interval between pings (default 1m); Timeout of one (default 10s).
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

// Maintenance actions.
const (
	ActionAnalyze            = "analyze"
	ActionVacuum             = "vacuum"
	ActionVacuumFull         = "vacuum_full"
	ActionVacuumSortOnly     = "vacuum_sort_only"
	ActionVacuumDeleteOnly   = "vacuum_delete_only"
	ActionAnalyzeCompression = "analyze_compression"
	ActionCapacityReview     = "capacity_review"
)

// Job is a maintenance job: run on a cron schedule, after an event, or
// when a condition holds, in auto mode, or only recommended (manual).
type Job struct {
	Name    string  `yaml:"name"`
	Enabled Enabled `yaml:"enabled"`
	Action  string  `yaml:"action"`
	// Schedule is a cron expression (5 fields, or @daily and the like).
	Schedule string `yaml:"schedule"`
	// Timezone of Schedule (default: the spec's timezone).
	Timezone string `yaml:"timezone"`
	// After names an event: pipeline_success.
	After string `yaml:"after"`
	// When limits the job to tables (or, for capacity_review, months) that
	// meet a condition.
	When *Condition `yaml:"when"`
	// Mode is auto (default) or manual: a manual job is planned and shown,
	// and runs only when asked.
	Mode string `yaml:"mode"`
	// Tables and ExcludeTables are schema.table glob patterns.
	Tables        []string `yaml:"tables"`
	ExcludeTables []string `yaml:"exclude_tables"`
	// CatchUp runs a schedule missed while dpcops was down if dpcops comes
	// back within this long (default 1h).
	CatchUp Duration `yaml:"catch_up"`
	// Timeout bounds each statement (default 2h).
	Timeout Duration `yaml:"timeout"`
	// AllowExclusiveLock lets VACUUM FULL take its exclusive lock on
	// PostgreSQL.
	AllowExclusiveLock bool `yaml:"allow_exclusive_lock"`
	// Silence names the alarms (or globs) whose pages the job's work is
	// expected to raise (Storage-High during a VACUUM FULL): a window
	// holds them back while it runs.
	Silence []string `yaml:"silence"`
}

// Window is a recurring maintenance window: from each firing of Schedule
// (a cron in Timezone) for Duration, the Alarms' pages are held back as
// by a silence, and still recorded.
type Window struct {
	Name     string   `yaml:"name"`
	Schedule string   `yaml:"schedule"`
	Timezone string   `yaml:"timezone"`
	Duration Duration `yaml:"duration"`
	// Alarms names alarms, or globs of names.
	Alarms  []string `yaml:"alarms"`
	Comment string   `yaml:"comment"`
}

// Condition is a threshold on a per-table or capacity figure.
type Condition struct {
	// Metric is one of ConditionMetrics.
	Metric     string  `yaml:"metric"`
	Comparison string  `yaml:"comparison"`
	Threshold  float64 `yaml:"threshold"`
}

// QMRRule is a query monitoring rule evaluated over running queries.
type QMRRule struct {
	Name    string  `yaml:"name"`
	Enabled Enabled `yaml:"enabled"`
	// Metric is execution_time or queue_time.
	Metric string `yaml:"metric"`
	// Threshold in seconds.
	Threshold float64 `yaml:"threshold"`
	// Action is log, notify or abort.
	Action             string   `yaml:"action"`
	ExcludeUsers       []string `yaml:"exclude_users"`
	ExcludeQueryLabels []string `yaml:"exclude_query_labels"`
	Topics             []string `yaml:"topics"`
}

// Dashboard is a CloudWatch-shaped dashboard: dpcops serves it and renders
// it as a CloudWatch dashboard body.
type Dashboard struct {
	Name    string   `yaml:"name"`
	Widgets []Widget `yaml:"widgets"`
}

// Widget is one CloudWatch dashboard widget on the 24-column grid.
type Widget struct {
	// Type is metric, log, text or alarm.
	Type       string           `yaml:"type"`
	X          int              `yaml:"x"`
	Y          int              `yaml:"y"`
	Width      int              `yaml:"width"`
	Height     int              `yaml:"height"`
	Properties WidgetProperties `yaml:"properties"`
}

// WidgetProperties are a widget's properties, as CloudWatch names them.
type WidgetProperties struct {
	Title   string     `yaml:"title"`
	Region  string     `yaml:"region"`
	View    string     `yaml:"view"`
	Stacked bool       `yaml:"stacked"`
	Period  Duration   `yaml:"period"`
	Stat    string     `yaml:"stat"`
	Metrics MetricRows `yaml:"metrics"`
	// Query is a CloudWatch Logs Insights query (log widgets).
	Query string `yaml:"query"`
	// Markdown is the text of a text widget.
	Markdown string `yaml:"markdown"`
	// Alarms names spec alarms (alarm widgets).
	Alarms []string `yaml:"alarms"`
}

// Serve configures `dpcops serve`.
type Serve struct {
	// Listen is the HTTP address (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// Token authorises actions (API, web forms). Without it, serve makes
	// one at first start and keeps it in --data/token.
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// ExternalURL is the dashboard's address, used in notification links.
	// Its host name is answered as if it were in AllowedHosts.
	ExternalURL string `yaml:"external_url"`
	// AllowedHosts are the host names (Host header, port aside) serve
	// answers for, beyond IP addresses and localhost: a defence against
	// DNS rebinding.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Metric returns the spec metric with the given name.
func (s *Spec) Metric(name string) (*Metric, bool) {
	for i := range s.Metrics {
		if s.Metrics[i].Name == name {
			return &s.Metrics[i], true
		}
	}
	return nil, false
}

// Alarm returns the spec alarm with the given name.
func (s *Spec) Alarm(name string) (*Alarm, bool) {
	for i := range s.Alarms {
		if s.Alarms[i].Name == name {
			return &s.Alarms[i], true
		}
	}
	return nil, false
}

// Topic returns the topic with the given name.
func (s *Spec) Topic(name string) (*Topic, bool) {
	for i := range s.Topics {
		if s.Topics[i].Name == name {
			return &s.Topics[i], true
		}
	}
	return nil, false
}

// Channel returns the channel with the given name.
func (s *Spec) Channel(name string) (*Channel, bool) {
	for i := range s.Channels {
		if s.Channels[i].Name == name {
			return &s.Channels[i], true
		}
	}
	return nil, false
}

// Job returns the maintenance job with the given name.
func (s *Spec) Job(name string) (*Job, bool) {
	for i := range s.Maintenance {
		if s.Maintenance[i].Name == name {
			return &s.Maintenance[i], true
		}
	}
	return nil, false
}

// Location returns the spec's time zone; UTC if it does not load (a
// validated spec always loads).
func (s *Spec) Location() *time.Location {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Matches reports whether a message with the given attributes passes the
// subscription's filter, as an SNS filter policy does: every filter key
// must be present with one of its values.
func (sub Subscription) Matches(attrs map[string]string) bool {
	for _, f := range sub.Filter {
		v, ok := attrs[f.Key]
		if !ok || !slices.Contains(f.Values, v) {
			return false
		}
	}
	return true
}
