package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// failoverSpec: two replicas on one PostgreSQL store watch a knob in the
// warehouse; its alarm pages a webhook.
const failoverSpec = `platform: failover
environment: test
warehouse: {engine: postgres, dsn: "${FO_WAREHOUSE}", connect_timeout: 1s, statement_timeout: 2s}
store: {dsn: "${FO_STORE}", leader_lease: 3s}
collect: {interval: 1s}
metrics:
  - {name: Knob, source: sql, sql: "SELECT value FROM knob"}
alarms:
  - {name: Knob-High, metric: Knob, statistic: Maximum, period: 10s, comparison: GreaterThanThreshold, threshold: 0, severity: critical, topics: [ops]}
topics:
  ops: {subscriptions: [hook]}
channels:
  hook: {type: webhook, url: "${FO_HOOK}"}
serve: {token: "failover-test-token-0123456789"}
`

// hookLog is a webhook receiver that counts the distinct deliveries each
// episode got, as a receiver that deduplicates by delivery id does: a
// delivery sent again after a crash (resend: true, same id) is one.
type hookLog struct {
	mu  sync.Mutex
	got map[string]map[int64]bool // "1 trigger" → delivery ids
	// posts counts every request; resends those marked resend: a
	// delivery a dead leader may have sent, sent again with its id.
	posts, resends int
	// unmarked counts a second request for a delivery id that does not
	// say it is a resend: a duplicate no receiver could tell.
	unmarked int
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b struct {
		ID       int64  `json:"id"`
		Kind     string `json:"kind"`
		DedupKey string `json:"dedup_key"`
		Resend   bool   `json:"resend"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := b.DedupKey[strings.LastIndex(b.DedupKey, ":")+1:] + " " + b.Kind
	if h.got[key] == nil {
		h.got[key] = map[int64]bool{}
	}
	h.posts++
	if b.Resend {
		h.resends++
	} else if h.got[key][b.ID] {
		h.unmarked++
	}
	h.got[key][b.ID] = true
}

func (h *hookLog) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got[key])
}

// replicaStatus reads /api/v1/health's replica part.
func replicaStatus(addr string) (leading bool, leader string) {
	resp, err := http.Get("http://" + addr + "/api/v1/health")
	if err != nil {
		return false, ""
	}
	defer resp.Body.Close()
	var s struct {
		Leading bool   `json:"leading"`
		Leader  string `json:"leader"`
	}
	json.NewDecoder(resp.Body).Decode(&s)
	return s.Leading, s.Leader
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, limit)
	return 0
}

// TestFailoverPagesOnce: two serves on one PostgreSQL store; the leader
// pages, and is SIGKILLed right after; the follower takes over within the
// lease; the receiver has one trigger for the episode, and the resolve
// and a new episode that happen after the kill arrive exactly once. With
// DPCOPS_FAILOVER_KILLS=N (bench/failover.sh) it kills N leaders in a row,
// starting a new follower after each, and reports the takeover times.
func TestFailoverPagesOnce(t *testing.T) {
	if os.Getenv("DPCOPS_FAILOVER_CHILD") != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		var out, errb strings.Builder
		code := mainWithEnv(ctx, []string{"serve", "--listen", os.Getenv("FO_ADDR"), "--data", os.Getenv("FO_DATA"), "-c", os.Getenv("FO_SPEC")},
			IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", os.LookupEnv)
		fmt.Fprint(os.Stderr, errb.String())
		os.Exit(code)
	}
	wh, st := pgtest.DB(t), pgtest.DB(t)
	db := pgtest.Connect(t, wh)
	if _, err := db.Exec(context.Background(), `CREATE TABLE knob (value int); INSERT INTO knob VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	knob := func(v int) {
		t.Helper()
		if _, err := db.Exec(context.Background(), `UPDATE knob SET value = $1`, v); err != nil {
			t.Fatal(err)
		}
	}
	hook := &hookLog{got: map[string]map[int64]bool{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	spec := writeFile(t, "failover.yaml", failoverSpec)
	start := func() (*exec.Cmd, string, chan error) {
		addr := freeAddr(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestFailoverPagesOnce$")
		cmd.Env = append(os.Environ(), "DPCOPS_FAILOVER_CHILD=1", "FO_ADDR="+addr, "FO_DATA="+t.TempDir(), "FO_SPEC="+spec,
			"FO_WAREHOUSE="+wh, "FO_STORE="+st, "FO_HOOK="+srv.URL)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited; exited <- nil })
		if up := <-serving(t, addr); !up {
			t.Fatal("a replica did not come up")
		}
		return cmd, addr, exited
	}
	kills := 1
	if n, err := strconv.Atoi(os.Getenv("DPCOPS_FAILOVER_KILLS")); err == nil && n > 0 {
		kills = n // bench/failover.sh: the soak
	}
	type replica struct {
		cmd    *exec.Cmd
		addr   string
		exited chan error
	}
	newReplica := func() replica { c, a, e := start(); return replica{c, a, e} }
	leading := newReplica()
	waitUntil(t, 30*time.Second, "the first replica leads", func() bool { l, _ := replicaStatus(leading.addr); return l })
	following := newReplica()
	time.Sleep(2 * time.Second)
	if l, leader := replicaStatus(following.addr); l || !strings.HasPrefix(leader, fmt.Sprintf("%s:%d/", hostname(), leading.cmd.Process.Pid)) {
		t.Fatalf("the second replica: leading %v, leader %q", l, leader)
	}
	var takeovers []time.Duration
	for episode := 1; episode <= kills; episode++ {
		knob(1)
		waitUntil(t, 40*time.Second, fmt.Sprintf("the page of episode %d", episode), func() bool { return hook.count(fmt.Sprintf("%d trigger", episode)) > 0 })
		// The leader dies right after it paged.
		if err := leading.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-leading.exited
		leading.exited <- nil
		took := waitUntil(t, 30*time.Second, "the follower takes over", func() bool { l, _ := replicaStatus(following.addr); return l })
		takeovers = append(takeovers, took)
		leading, following = following, newReplica()
		knob(0)
		waitUntil(t, 40*time.Second, fmt.Sprintf("the resolve of episode %d after the kill", episode), func() bool { return hook.count(fmt.Sprintf("%d resolve", episode)) > 0 })
	}
	knob(1)
	waitUntil(t, 40*time.Second, "a new episode after the kills", func() bool { return hook.count(fmt.Sprintf("%d trigger", kills+1)) > 0 })
	time.Sleep(3 * time.Second) // let any duplicate arrive
	for episode := 1; episode <= kills; episode++ {
		for _, kind := range []string{"trigger", "resolve"} {
			if n := hook.count(fmt.Sprintf("%d %s", episode, kind)); n != 1 {
				t.Errorf("episode %d %s: %d deliveries, want 1", episode, kind, n)
			}
		}
	}
	if n := hook.count(fmt.Sprintf("%d trigger", kills+1)); n != 1 {
		t.Errorf("episode %d trigger: %d deliveries, want 1", kills+1, n)
	}
	hook.mu.Lock()
	posts, resends, unmarked := hook.posts, hook.resends, hook.unmarked
	hook.mu.Unlock()
	if unmarked > 0 {
		t.Errorf("%d deliveries arrived twice without saying they were resent", unmarked)
	}
	slices.Sort(takeovers)
	p := func(q float64) time.Duration { return takeovers[int(q*float64(len(takeovers)-1)+0.5)] }
	t.Logf("kills %d, takeover after SIGKILL (lease 3s): p50 %s, p99 %s, max %s; %d requests, %d of them resends marked as such; lost 0 unless reported above",
		kills, p(0.5).Round(100*time.Millisecond), p(0.99).Round(100*time.Millisecond), takeovers[len(takeovers)-1].Round(100*time.Millisecond), posts, resends)
	if worst := takeovers[len(takeovers)-1]; worst > 15*time.Second {
		t.Errorf("a takeover took %s, over 15 s", worst)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
