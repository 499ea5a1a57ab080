package sns_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/sns"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const (
	topic     = "arn:aws:sns:ap-northeast-1:000000000000:dpc-alerts"
	secretKey = "aws-SECRET-access-key-0000"
)

func notifier(t *testing.T, endpoint, arn string) *sns.Notifier {
	t.Helper()
	n, err := sns.New(context.Background(), &spec.Channel{Name: "sns", Type: spec.ChannelSNS, TopicARN: arn}, sns.Options{
		Region: "us-east-1", Endpoint: endpoint, Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", secretKey, ""),
		Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPublishFieldByField(t *testing.T) {
	srv := notifytest.NewSNS(t, nil)
	d := notifytest.Sample(notify.KindTrigger)
	if retry, err := notifier(t, srv.URL, topic).Notify(context.Background(), d); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if d.Answer.Status != 200 || d.Answer.Body != "MessageId=msg-1" {
		t.Errorf("answer %+v", d.Answer)
	}
	p := srv.Published()
	if len(p) != 1 {
		t.Fatalf("%d published", len(p))
	}
	got := p[0]
	if got.TopicArn != topic || got.Subject != "[ALARM] Alert-COPY-Error (critical) dpc-learning/prod" || !got.Signed {
		t.Errorf("publish %+v", got)
	}
	wantAttrs := map[string]string{"alarm": "Alert-COPY-Error", "severity": "critical", "state": "ALARM", "kind": "trigger",
		"dedup_key": "dpcops:dpc-learning:prod:Alert-COPY-Error:3"}
	for k, v := range wantAttrs {
		if got.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got.Attributes[k], v)
		}
	}
	if got.MessageGroupID != "" || got.MessageDeduplicationID != "" {
		t.Errorf("a standard topic takes no group or deduplication id: %+v", got)
	}
	var m sns.Alarm
	if err := json.Unmarshal([]byte(got.Message), &m); err != nil {
		t.Fatal(err)
	}
	if m.AlarmName != "Alert-COPY-Error" || m.NewStateValue != "ALARM" || m.OldStateValue != "OK" || m.AWSAccountID != "000000000000" ||
		m.Region != "ap-northeast-1" || m.StateChangeTime != "2026-11-27T03:05:00.000+0000" ||
		m.AlarmArn != "arn:aws:cloudwatch:ap-northeast-1:000000000000:alarm:Alert-COPY-Error" {
		t.Errorf("alarm fields %+v", m)
	}
	tr := m.Trigger
	if tr.MetricName != "CopyErrorCount" || tr.Namespace != "Custom/DPC" || tr.Statistic != "SUM" || tr.StatisticType != "Statistic" ||
		tr.Period != 300 || tr.EvaluationPeriods != 1 || tr.ComparisonOperator != "GreaterThanOrEqualToThreshold" || tr.Threshold != 1 ||
		tr.TreatMissingData != "notBreaching" || len(tr.Dimensions) != 1 || tr.Dimensions[0] != (sns.Dimension{Name: "Environment", Value: "prod"}) {
		t.Errorf("trigger %+v", tr)
	}
	if x := m.Dpcops; x.DedupKey != "dpcops:dpc-learning:prod:Alert-COPY-Error:3" || x.Severity != "critical" || *x.Value != 2 || x.Episode != 3 {
		t.Errorf("dpcops fields %+v", x)
	}
}

func TestFIFOTopicDeduplicatesResends(t *testing.T) {
	srv := notifytest.NewSNS(t, nil)
	n := notifier(t, srv.URL, topic+".fifo")
	for range 2 {
		d := notifytest.Sample(notify.KindTrigger)
		d.Resend = true
		if _, err := n.Notify(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	// Another delivery (the resolve of the same episode) is another
	// message: SNS must not drop it as a duplicate.
	other := notifytest.Sample(notify.KindResolve)
	other.ID++
	if _, err := n.Notify(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	p := srv.Published()
	if len(p) != 3 || p[0].MessageGroupID != "Alert-COPY-Error" || p[0].MessageDeduplicationID == "" || p[0].MessageDeduplicationID != p[1].MessageDeduplicationID {
		t.Errorf("a resend must carry the same deduplication id: %+v", p)
	}
	if len(p) == 3 && p[2].MessageDeduplicationID == p[0].MessageDeduplicationID {
		t.Errorf("another delivery must carry another deduplication id: %+v", p)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		status    int
		code      string
		wantRetry bool
	}{
		{400, "InvalidParameter", false},
		{403, "AuthorizationError", false},
		{404, "NotFound", false},
		{400, "Throttling", true},
		{429, "Throttled", true},
		{500, "InternalError", true},
		{503, "ServiceUnavailable", true},
	}
	for _, tt := range tests {
		srv := notifytest.NewSNS(t, func(int) (int, string, string) { return tt.status, tt.code, "refused by test" })
		d := notifytest.Sample(notify.KindTrigger)
		retry, err := notifier(t, srv.URL, topic).Notify(context.Background(), d)
		if err == nil || retry != tt.wantRetry || d.Answer.Status != tt.status || d.Answer.Body != tt.code+": refused by test" {
			t.Errorf("%d %s: retry=%v err=%v answer=%+v; want retry=%v", tt.status, tt.code, retry, err, d.Answer, tt.wantRetry)
		}
		notifytest.NoSecrets(t, tt.code, err.Error())(secretKey)
	}
	down := notifytest.NewSNS(t, nil)
	url := down.URL
	down.Close()
	if retry, err := notifier(t, url, topic).Notify(context.Background(), notifytest.Sample(notify.KindTrigger)); err == nil || !retry {
		t.Errorf("down: retry=%v err=%v", retry, err)
	}
}

func TestSubjectRules(t *testing.T) {
	if got := sns.Subject("[ALARM] 警\tä\nline"); got != "[ALARM] ????line" {
		t.Errorf("Subject = %q", got)
	}
	long := sns.Subject(strings.Repeat("Alert-", 50))
	if len(long) != 100 || !strings.HasSuffix(long, "...") {
		t.Errorf("subject %q: SNS takes at most 100 ASCII characters", long)
	}
}
