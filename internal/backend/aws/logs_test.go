package aws_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
)

// TestLogsPutKeepsWithinTheAPIsRules: events go oldest first, split so
// that no call holds more than 10,000 events or spans more than 24 hours;
// the stream is created on first use; an event too old for CloudWatch Logs
// is left out and one it rejects as too new is counted as dropped; a
// message past MaxEventBytes is cut on a character boundary.
func TestLogsPutKeepsWithinTheAPIsRules(t *testing.T) {
	srv := awstest.New()
	t.Cleanup(srv.Close)
	srv.SetLogGroup("/dpcops/p/errors")
	l, err := aws.NewLogs(context.Background(), aws.Options{Region: "ap-northeast-1", Endpoints: map[string]string{"logs": srv.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-test", "")}, "/dpcops/p/errors", "serve")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	base := now.Add(-30 * time.Hour)
	var evs []aws.LogEvent
	for i := 10000; i >= 0; i-- { // newest first: Put sorts
		evs = append(evs, aws.LogEvent{Time: base.Add(time.Duration(i) * 300 * time.Millisecond), Message: fmt.Sprintf(`{"n":%d}`, i)})
	}
	long := strings.Repeat("あ", aws.MaxEventBytes) // three bytes each
	evs = append(evs,
		aws.LogEvent{Time: now.Add(-time.Hour), Message: long},            // 29 hours after base: another batch
		aws.LogEvent{Time: now.Add(-15 * 24 * time.Hour), Message: "old"}, // left out
		aws.LogEvent{Time: now.Add(3 * time.Hour), Message: "ahead"},      // rejected by CloudWatch Logs
	)
	dropped, err := l.Put(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 2 {
		t.Errorf("dropped %d, want the old and the ahead one", dropped)
	}
	got := srv.LogEvents("/dpcops/p/errors")
	if len(got) != 10002 {
		t.Fatalf("%d events accepted, want 10002", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp.Before(got[i-1].Timestamp) {
			t.Fatalf("event %d out of order", i)
		}
	}
	last := got[len(got)-1].Message
	if len(last) > aws.MaxEventBytes || !utf8.ValidString(last) || !strings.HasSuffix(last, "…") {
		t.Errorf("long message: %d bytes, valid %v", len(last), utf8.ValidString(last))
	}
	puts := 0
	for _, c := range srv.Calls() {
		if c.Operation == "PutLogEvents" {
			puts++
		}
	}
	// One refused for the missing stream, then 10,000 events, the
	// 10,001st, and the batch a day later with the one ahead.
	if puts != 4 {
		t.Errorf("%d PutLogEvents calls, want 4", puts)
	}
}
