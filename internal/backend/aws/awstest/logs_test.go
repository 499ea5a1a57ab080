package awstest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
)

const group = "/dpc/dpcops"

func logs(t *testing.T) (*awstest.Server, *cloudwatchlogs.Client) {
	t.Helper()
	srv := awstest.New()
	t.Cleanup(srv.Close)
	c := cloudwatchlogs.NewFromConfig(sdkConfig(), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return srv, c
}

// ev is an event at a time from now, so that the age rules, which the
// fake measures by its own clock, hold with hours of margin.
func ev(from time.Duration, msg string) types.InputLogEvent {
	return evAt(time.Now(), from, msg)
}

// evAt is an event at a time from base; events of one batch share a base,
// so that their order does not depend on the clock between them.
func evAt(base time.Time, from time.Duration, msg string) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: aws.Int64(base.Add(from).UnixMilli()), Message: aws.String(msg)}
}

func put(c *cloudwatchlogs.Client, stream string, evs ...types.InputLogEvent) (*cloudwatchlogs.PutLogEventsOutput, error) {
	return c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs,
		// Ignored since 2023; a stale token must not matter.
		SequenceToken: aws.String("49039859594049029480293409"),
	})
}

func createStream(c *cloudwatchlogs.Client, name string) error {
	_, err := c.CreateLogStream(context.Background(), &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(name)})
	return err
}

func TestLogsMissingGroupAndStream(t *testing.T) {
	srv, c := logs(t)
	var missing *types.ResourceNotFoundException
	var exists *types.ResourceAlreadyExistsException
	if _, err := put(c, "s", ev(0, "x")); !errors.As(err, &missing) {
		t.Errorf("put to a missing group: %v, want ResourceNotFoundException", err)
	}
	if err := createStream(c, "s"); !errors.As(err, &missing) {
		t.Errorf("stream in a missing group: %v, want ResourceNotFoundException", err)
	}
	srv.SetLogGroup(group)
	if _, err := put(c, "s", ev(0, "x")); !errors.As(err, &missing) {
		t.Errorf("put to a missing stream: %v, want ResourceNotFoundException", err)
	}
	if err := createStream(c, "s"); err != nil {
		t.Fatal(err)
	}
	if err := createStream(c, "s"); !errors.As(err, &exists) {
		t.Errorf("stream again: %v, want ResourceAlreadyExistsException", err)
	}
	if _, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); !errors.As(err, &exists) {
		t.Errorf("group again: %v, want ResourceAlreadyExistsException", err)
	}
	if _, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/dpc/other")}); err != nil {
		t.Errorf("new group: %v", err)
	}
	if got := srv.LogEvents(group); len(got) != 0 {
		t.Errorf("refused puts stored %+v", got)
	}
}

func TestLogEventsInArrivalOrder(t *testing.T) {
	srv, c := logs(t)
	srv.SetLogGroup(group)
	for _, s := range []string{"a", "b"} {
		if err := createStream(c, s); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	first := []types.InputLogEvent{
		{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String("one")},
		{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String("two, same time")},
	}
	if out, err := put(c, "b", first...); err != nil || out.RejectedLogEventsInfo != nil {
		t.Fatalf("put: %v, rejected %+v", err, out)
	}
	// An older event in a later batch is fine: order is per batch.
	if _, err := put(c, "a", ev(-2*time.Hour, "three")); err != nil {
		t.Fatal(err)
	}
	got := srv.LogEvents(group)
	if len(got) != 3 || got[0].Message != "one" || got[1].Message != "two, same time" || got[2].Message != "three" ||
		got[0].Stream != "b" || got[2].Stream != "a" || !got[0].Timestamp.Equal(at) {
		t.Errorf("events %+v", got)
	}
}

func TestPutLogEventsRules(t *testing.T) {
	const mb = 1048576
	now := time.Now()
	ev := func(from time.Duration, msg string) types.InputLogEvent { return evAt(now, from, msg) }
	many := func(n int) []types.InputLogEvent {
		evs := make([]types.InputLogEvent, n)
		for i := range evs {
			evs[i] = ev(0, "m")
		}
		return evs
	}
	day := 24 * time.Hour
	for _, tc := range []struct {
		name   string
		events []types.InputLogEvent
		// refused is a substring of the InvalidParameterException; empty
		// when the batch is taken.
		refused                string
		accepted               []string
		tooOldEnd, tooNewStart int32
	}{
		{name: "out of order", events: []types.InputLogEvent{ev(0, "b"), ev(-time.Minute, "a")}, refused: "chronological"},
		{name: "10,000 events", events: many(10000), accepted: make([]string, 10000)},
		{name: "10,001 events", events: many(10001), refused: "length"},
		{name: "exactly 1,048,576 bytes", events: []types.InputLogEvent{ev(0, strings.Repeat("a", mb/2-26)), ev(0, strings.Repeat("b", mb/2-26))}, accepted: []string{"a", "b"}},
		{name: "one byte more", events: []types.InputLogEvent{ev(0, strings.Repeat("a", mb/2-26)), ev(0, strings.Repeat("b", mb/2-25))}, refused: "Upload too large"},
		{name: "an event over 1 MB", events: []types.InputLogEvent{ev(0, strings.Repeat("a", mb-25))}, refused: "Log event too large"},
		{name: "spanning 25 hours", events: []types.InputLogEvent{ev(-25*time.Hour, "a"), ev(0, "b")}, refused: "24 hours"},
		{name: "spanning 23 hours", events: []types.InputLogEvent{ev(-23*time.Hour, "a"), ev(0, "b")}, accepted: []string{"a", "b"}},
		{
			name:     "too old and too new are left out",
			events:   []types.InputLogEvent{ev(-15*day, "old"), ev(-14*day-time.Hour, "old too"), ev(-time.Minute, "ok"), ev(3*time.Hour, "new")},
			accepted: []string{"ok"}, tooOldEnd: 2, tooNewStart: 3,
		},
		{
			// The span counts the valid events only.
			name:     "span after the too old",
			events:   []types.InputLogEvent{ev(-20*day, "old"), ev(-20*time.Hour, "a"), ev(0, "b")},
			accepted: []string{"a", "b"}, tooOldEnd: 1,
		},
		{name: "no events", events: []types.InputLogEvent{}, refused: "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := logs(t)
			srv.SetLogGroup(group)
			if err := createStream(c, "s"); err != nil {
				t.Fatal(err)
			}
			out, err := put(c, "s", tc.events...)
			got := srv.LogEvents(group)
			if tc.refused != "" {
				var invalid *types.InvalidParameterException
				if !errors.As(err, &invalid) || !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("got %v, want InvalidParameterException saying %q", err, tc.refused)
				}
				if len(got) != 0 {
					t.Errorf("a refused batch stored %d events", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.accepted) {
				t.Fatalf("%d events taken, want %d", len(got), len(tc.accepted))
			}
			for i, want := range tc.accepted {
				if want != "" && !strings.HasPrefix(got[i].Message, want) {
					t.Errorf("event %d = %.10q, want %q", i, got[i].Message, want)
				}
			}
			info := out.RejectedLogEventsInfo
			if tc.tooOldEnd == 0 && tc.tooNewStart == 0 {
				if info != nil {
					t.Errorf("rejected %+v, want none", info)
				}
				return
			}
			if info == nil || aws.ToInt32(info.TooOldLogEventEndIndex) != tc.tooOldEnd || aws.ToInt32(info.TooNewLogEventStartIndex) != tc.tooNewStart {
				t.Errorf("rejected %+v, want too old before %d, too new from %d", info, tc.tooOldEnd, tc.tooNewStart)
			}
		})
	}
}

func TestPutLogEventsThrottlingIsRetried(t *testing.T) {
	srv, c := logs(t)
	srv.SetLogGroup(group)
	if err := createStream(c, "s"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("PutLogEvents", awstest.Failure{Status: 400, Type: "ThrottlingException"})
	if _, err := put(c, "s", ev(0, "once")); err != nil {
		t.Fatalf("after throttling: %v", err)
	}
	if got := srv.LogEvents(group); len(got) != 1 {
		t.Errorf("events %+v, want the one, once", got)
	}
}
