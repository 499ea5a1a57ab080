// Package sns publishes notifications to an Amazon SNS topic with
// aws-sdk-go-v2 (the awsQuery protocol: a form-encoded POST answered with
// XML). The message is shaped like the JSON CloudWatch publishes for an
// alarm state change, so that subscribers written for CloudWatch alarms
// read it as they are; the message attributes alarm, severity and state
// let SNS subscription filter policies route it as dpcops' own topics do.
// On a FIFO topic the deduplication id is derived from the delivery, so
// SNS drops a resend after a crash that comes within its five-minute
// deduplication window.
package sns

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// maxSubject is SNS's limit on a subject.
const maxSubject = 100

// Options tune the SNS client.
type Options struct {
	// Region defaults to the topic ARN's region, then the spec's.
	Region string
	// Endpoint overrides the SNS endpoint (spec aws.endpoints.sns).
	Endpoint string
	// Credentials replace the default credential chain when set.
	Credentials awssdk.CredentialsProvider
	// Timeout bounds each request (0: the caller's context alone).
	Timeout time.Duration
	// TLSConfig is the base TLS configuration (nil: the system's roots,
	// or AWS_CA_BUNDLE, which the SDK applies itself).
	TLSConfig *tls.Config
}

// Notifier publishes to one SNS topic.
type Notifier struct {
	name     string
	topicARN string
	client   *awssns.Client
}

// New builds the notifier of an sns channel. It does not call AWS. The
// SDK's own retries are off: the worker retries with its backoff, and a
// retry hidden inside one attempt would outlive the channel's timeout.
func New(ctx context.Context, ch *spec.Channel, o Options) (*Notifier, error) {
	region := o.Region
	if r := arnRegion(ch.TopicARN); r != "" {
		region = r
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() awssdk.Retryer { return awssdk.NopRetryer{} }),
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	// A buildable client, not an *http.Client: the SDK must be able to
	// add the roots of AWS_CA_BUNDLE to it.
	hc := awshttp.NewBuildableClient().WithTimeout(o.Timeout).WithTransportOptions(func(tr *http.Transport) {
		if o.TLSConfig != nil {
			tr.TLSClientConfig = o.TLSConfig.Clone()
		}
	})
	opts = append(opts, config.WithHTTPClient(hc))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: aws config: %w", ch.Name, err)
	}
	client := awssns.NewFromConfig(cfg, func(so *awssns.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = awssdk.String(o.Endpoint)
		}
	})
	return &Notifier{name: ch.Name, topicARN: ch.TopicARN, client: client}, nil
}

// arnRegion is the region of arn:aws:sns:REGION:ACCOUNT:NAME.
func arnRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 6 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

// Notify publishes the delivery. Throttling, 5xx and transport failures
// are retried; other refusals (a missing topic, denied access, an invalid
// parameter) fail the delivery.
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	in, err := Input(d, n.topicARN)
	if err != nil {
		return false, fmt.Errorf("%s: %w", n.name, err)
	}
	out, err := n.client.Publish(ctx, in)
	if err == nil {
		d.Answer = notify.Answer{Status: http.StatusOK, Body: "MessageId=" + awssdk.ToString(out.MessageId)}
		return false, nil
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		d.Answer.Status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		d.Answer.Body = notify.Truncate(ae.ErrorCode()+": "+ae.ErrorMessage(), notify.MaxAnswerBody)
		if !retryable(d.Answer.Status, ae.ErrorCode()) {
			return false, fmt.Errorf("%s: publish to %s: %s", n.name, n.topicARN, d.Answer.Body)
		}
		return true, fmt.Errorf("%s: publish to %s: %s", n.name, n.topicARN, d.Answer.Body)
	}
	if d.Answer.Status != 0 && !notify.RetryableStatus(d.Answer.Status) {
		return false, fmt.Errorf("%s: publish to %s: %w", n.name, n.topicARN, err)
	}
	return true, fmt.Errorf("%s: publish to %s: %w", n.name, n.topicARN, err)
}

// retryable reports whether an SNS error may succeed later.
func retryable(status int, code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "KMSThrottling",
		"InternalError", "InternalFailure", "ServiceUnavailable":
		return true
	}
	return status == 0 || notify.RetryableStatus(status)
}

// Input is the Publish request of a delivery.
func Input(d *notify.Delivery, topicARN string) (*awssns.PublishInput, error) {
	body, err := CloudWatchJSON(d)
	if err != nil {
		return nil, err
	}
	m := d.Message
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: awssdk.String("String"), StringValue: awssdk.String(v)}
	}
	attrs := map[string]types.MessageAttributeValue{
		"alarm":     str(m.Alarm),
		"severity":  str(m.Severity),
		"state":     str(m.To),
		"kind":      str(string(d.Kind)),
		"dedup_key": str(d.DedupKey),
	}
	for k, v := range attrs {
		if v.StringValue == nil || *v.StringValue == "" {
			// SNS refuses an attribute with an empty value.
			delete(attrs, k)
		}
	}
	in := &awssns.PublishInput{
		TopicArn:          awssdk.String(topicARN),
		Subject:           awssdk.String(Subject(m.Title())),
		Message:           awssdk.String(string(body)),
		MessageAttributes: attrs,
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		sum := sha256.Sum256([]byte(d.DedupKey + "|" + string(d.Kind) + "|" + strconv.FormatInt(d.ID, 10)))
		in.MessageGroupId = awssdk.String(notify.Truncate(groupID(m.Alarm), 128))
		in.MessageDeduplicationId = awssdk.String(hex.EncodeToString(sum[:]))
	}
	return in, nil
}

// Subject makes a title fit SNS's subject rules: printable ASCII, no line
// breaks, at most 100 characters.
func Subject(title string) string {
	var b strings.Builder
	for _, r := range title {
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > maxSubject {
		// Every byte is ASCII here: cut anywhere, and mark it in ASCII.
		out = out[:maxSubject-3] + "..."
	}
	return out
}

// groupID keeps the characters a FIFO message group id allows.
func groupID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
