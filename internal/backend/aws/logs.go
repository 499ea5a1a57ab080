package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// PutLogEvents' limits (CloudWatch Logs API reference): a batch holds at
// most 10,000 events and 1,048,576 bytes, each event counted as its UTF-8
// message plus 26 bytes, and spans at most 24 hours; an event older than
// 14 days is rejected.
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1048576
	eventOverhead  = 26
	maxBatchSpan   = 24 * time.Hour
	maxEventAge    = 14 * 24 * time.Hour
	// MaxEventBytes bounds one message. The API takes more (1 MB), but an
	// error event is read by people: 16 KiB holds any error and the start
	// of its query.
	MaxEventBytes = 16 << 10
)

// LogEvent is one event for CloudWatch Logs.
type LogEvent struct {
	Time    time.Time
	Message string
}

// Logs writes events to one stream of a CloudWatch Logs group.
type Logs struct {
	c             *cloudwatchlogs.Client
	group, stream string
	// now is the clock the age limit is measured by.
	now func() time.Time
}

// NewLogs returns a writer to a group's stream over the same options as
// New (endpoint key logs). It does not call AWS.
func NewLogs(ctx context.Context, o Options, group, stream string) (*Logs, error) {
	cfg, err := loadConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	c := cloudwatchlogs.NewFromConfig(cfg, func(lo *cloudwatchlogs.Options) {
		if ep := o.Endpoints["logs"]; ep != "" {
			lo.BaseEndpoint = awssdk.String(ep)
		}
	})
	return &Logs{c: c, group: group, stream: stream, now: time.Now}, nil
}

// Group is the log group written to.
func (l *Logs) Group() string { return l.group }

// Put writes events oldest first, in as many calls as the API's limits
// ask. It creates the stream the first time the group says it is missing
// (the group itself is the module's). Events older than the API accepts
// are left out and counted in dropped.
func (l *Logs) Put(ctx context.Context, events []LogEvent) (dropped int, err error) {
	evs := make([]LogEvent, 0, len(events))
	oldest := l.now().Add(-maxEventAge + time.Hour) // an hour's margin for clock skew
	for _, e := range events {
		if e.Time.Before(oldest) {
			dropped++
			continue
		}
		if len(e.Message) > MaxEventBytes {
			e.Message = truncateUTF8(e.Message, MaxEventBytes)
		}
		evs = append(evs, e)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	for len(evs) > 0 {
		n := batchLen(evs)
		rejected, err := l.put(ctx, evs[:n])
		dropped += rejected
		if err != nil {
			return dropped, err
		}
		evs = evs[n:]
	}
	return dropped, nil
}

// batchLen is how many of evs (in time order) fit one call.
func batchLen(evs []LogEvent) int {
	size := 0
	for i, e := range evs {
		size += len(e.Message) + eventOverhead
		if i == maxBatchEvents || size > maxBatchBytes || e.Time.Sub(evs[0].Time) > maxBatchSpan {
			return i
		}
	}
	return len(evs)
}

// put sends one batch and returns how many of its events CloudWatch Logs
// rejected (too old, too new, or past the group's retention).
func (l *Logs) put(ctx context.Context, evs []LogEvent) (int, error) {
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: awssdk.String(l.group), LogStreamName: awssdk.String(l.stream)}
	for _, e := range evs {
		in.LogEvents = append(in.LogEvents, cwltypes.InputLogEvent{Timestamp: awssdk.Int64(e.Time.UnixMilli()), Message: awssdk.String(e.Message)})
	}
	out, err := l.c.PutLogEvents(ctx, in)
	var missing *cwltypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		// Most likely the stream: create it and try once more. If the
		// group is what is missing, CreateLogStream says so.
		_, cerr := l.c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: awssdk.String(l.group), LogStreamName: awssdk.String(l.stream)})
		var exists *cwltypes.ResourceAlreadyExistsException
		if cerr != nil && !errors.As(cerr, &exists) {
			return 0, fmt.Errorf("cloudwatch logs CreateLogStream %s in %s: %w", l.stream, l.group, cerr)
		}
		out, err = l.c.PutLogEvents(ctx, in)
	}
	if err != nil {
		return 0, fmt.Errorf("cloudwatch logs PutLogEvents to %s: %w", l.group, err)
	}
	return rejected(out.RejectedLogEventsInfo, len(evs)), nil
}

// rejected counts the events a batch's RejectedLogEventsInfo names:
// those before the too-old or expired end index (exclusive), and those
// from the too-new start index on.
func rejected(info *cwltypes.RejectedLogEventsInfo, n int) int {
	if info == nil {
		return 0
	}
	old := max(int(awssdk.ToInt32(info.TooOldLogEventEndIndex)), int(awssdk.ToInt32(info.ExpiredLogEventEndIndex)))
	newFrom := n
	if info.TooNewLogEventStartIndex != nil {
		newFrom = int(*info.TooNewLogEventStartIndex)
	}
	return min(n, old+max(0, n-max(newFrom, old)))
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	const mark = "…"
	n -= len(mark)
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + mark
}
