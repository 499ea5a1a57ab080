package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// fakeMetrics are metric names the platform seed used that AWS does not
// publish, with what to use instead (aws-facts §1).
var fakeMetrics = map[string]string{
	"RPUConsumption":           "ComputeCapacity (RPU) or ComputeSeconds (RPU-seconds) in AWS/Redshift-Serverless",
	"RPUCapacity":              "the workgroup's max_capacity setting (capacity.max_rpu); it is not a metric",
	"SuccessfulQueryCount":     "QueriesSucceeded in AWS/Redshift-Serverless",
	"FailedQueryCount":         "QueriesFailed in AWS/Redshift-Serverless",
	"TotalQueryCount":          "metric math: QueriesSucceeded + QueriesFailed",
	"UsedStorage":              "DataStorage (MB) in AWS/Redshift-Serverless, as a percent of capacity.storage_quota_gb",
	"ServerlessDatabaseStatus": "idle share derived from ComputeSeconds == 0 (source idle_percent); there is no PAUSED status",
}

// systemViews maps the provisioned-cluster views Redshift Serverless does
// not let you query to their replacements (aws-facts §2).
var systemViews = map[string]string{
	"STL_LOAD_ERRORS":         "SYS_LOAD_ERROR_DETAIL",
	"STL_LOADERROR_DETAIL":    "SYS_LOAD_ERROR_DETAIL",
	"STL_QUERY":               "SYS_QUERY_HISTORY",
	"SVL_QLOG":                "SYS_QUERY_HISTORY",
	"STV_RECENTS":             "SYS_QUERY_HISTORY",
	"STL_LOAD_COMMITS":        "SYS_LOAD_HISTORY",
	"STL_VACUUM":              "SYS_VACUUM_HISTORY",
	"STL_ANALYZE":             "SYS_ANALYZE_HISTORY",
	"STL_ANALYZE_COMPRESSION": "SYS_ANALYZE_COMPRESSION_HISTORY",
	"STV_BLOCKLIST":           "SVV_TABLE_INFO (unused share = 1 − estimated_visible_rows ÷ tbl_rows)",
}

var provisionedViewRE = regexp.MustCompile(`(?i)\b(STL|STV|SVL|SVCS)_[A-Z0-9_]+\b`)

// serverlessLogGroupRE matches the log group the seed invented.
var serverlessLogGroupRE = regexp.MustCompile(`/aws/redshift-serverless/[^\s'"|]*`)

// checkAWS warns where the spec repeats the seed's mistakes about AWS.
// Warnings never fail a load.
func (c *checker) checkAWS() {
	s := c.s
	serverless := s.Warehouse.Engine == EngineRedshiftServerless
	for i, m := range s.Metrics {
		p := fmt.Sprintf("metrics[%d]", i)
		if isAWSNamespace(m.Namespace) {
			c.fakeMetric(p+".name", m.Name)
			c.legacyNamespace(p+".namespace", m.Namespace, serverless)
		}
		if serverless {
			c.provisionedViews(p+".sql", m.SQL)
		}
	}
	if serverless {
		c.provisionedViews("elt_delay.mart_query", s.ELTDelay.MartQuery)
	}
	c.seedLogGroup("warehouse.log_group", s.Warehouse.LogGroup, s.Warehouse.Namespace)
	if s.Capacity.AutoPause != nil {
		c.warnf("capacity.auto_pause", "Redshift Serverless has no auto-pause setting: it bills no compute while no query runs. dpcops watches the idle share instead (source idle_percent); drop auto_pause")
	}
	for i, w := range s.Dashboard.Widgets {
		p := fmt.Sprintf("dashboard.widgets[%d]", i)
		if (w.Type == "metric" || w.Type == "log") && w.Properties.Region == "" {
			c.warnf(p+".properties", "CloudWatch requires region on %s widgets and rejects the dashboard without it; add region: %s", w.Type, regionOr(s.AWS.Region))
		}
		for j, r := range w.Properties.Metrics {
			rp := fmt.Sprintf("%s.properties.metrics[%d]", p, j)
			if isAWSNamespace(r.Namespace) {
				c.fakeMetric(rp, r.MetricName)
				c.legacyNamespace(rp, r.Namespace, serverless)
			}
		}
		c.seedLogGroup(p+".properties.query", w.Properties.Query, s.Warehouse.Namespace)
	}
}

func isAWSNamespace(ns string) bool {
	return ns == "AWS/Redshift" || ns == ServerlessNamespace
}

func regionOr(r string) string {
	if r == "" {
		return "ap-northeast-1"
	}
	return r
}

func (c *checker) fakeMetric(path, name string) {
	if real, ok := fakeMetrics[name]; ok {
		c.warnf(path, "AWS does not publish a metric named %s; use %s", name, real)
	}
}

func (c *checker) legacyNamespace(path, ns string, serverless bool) {
	if ns == "AWS/Redshift" && serverless {
		c.warnf(path, "Redshift Serverless publishes its metrics under %s, not AWS/Redshift", ServerlessNamespace)
	}
}

func (c *checker) provisionedViews(path, sql string) {
	seen := map[string]bool{}
	for _, v := range provisionedViewRE.FindAllString(sql, -1) {
		up := strings.ToUpper(v)
		if seen[up] {
			continue
		}
		seen[up] = true
		msg := fmt.Sprintf("Redshift Serverless does not let you query %s (STL, STV, SVL and SVCS views are provisioned-only)", up)
		if repl, ok := systemViews[up]; ok {
			msg += "; use " + repl
		} else {
			msg += "; use the SYS_* monitoring views"
		}
		c.warnf(path, "%s", msg)
	}
}

func (c *checker) seedLogGroup(path, text, namespace string) {
	if g := serverlessLogGroupRE.FindString(text); g != "" {
		if namespace == "" {
			namespace = "<namespace>"
		}
		c.warnf(path, "log group %s does not exist: Redshift Serverless exports logs to /aws/redshift/%s/useractivitylog (and connectionlog, userlog)", g, namespace)
	}
}
