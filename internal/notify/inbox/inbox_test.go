package inbox_test

import (
	"context"
	"database/sql"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st := storetest.Open(t)
	return st
}

// outboxRow makes the outbox row a delivery belongs to.
func outboxRow(t *testing.T, st *store.Store, id int64) {
	t.Helper()
	err := st.WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO outbox (id, channel, kind, dedup_key, payload, next_attempt_at, created_at) VALUES (?, 'inbox', 'trigger', 'k', '{}', 0, 0)`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoresOnceAndLists(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	outboxRow(t, st, 42)
	n := inbox.New("inbox", st)
	d := notifytest.Sample(notify.KindTrigger)
	for i, want := range []string{"stored", "already stored"} {
		retry, err := n.Notify(ctx, d)
		if err != nil || retry || d.Answer.Body != want {
			t.Fatalf("delivery %d: retry=%v err=%v answer=%+v", i+1, retry, err, d.Answer)
		}
	}
	items, err := inbox.List(ctx, st.Reader(), inbox.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("a resend of the same delivery must not add a message: %d items", len(items))
	}
	it := items[0]
	if it.Channel != "inbox" || it.Kind != "trigger" || it.Alarm != "Alert-COPY-Error" || it.Severity != "critical" || it.State != "ALARM" ||
		it.Episode != 3 || it.Title != "[ALARM] Alert-COPY-Error (critical) dpc-learning/prod" ||
		!it.At.Equal(time.Date(2026, 11, 27, 3, 5, 0, 0, time.UTC)) || it.Message.Value == nil || *it.Message.Value != 2 || !it.Read.IsZero() {
		t.Errorf("item %+v", it)
	}
	if u, _ := inbox.Unread(ctx, st.Reader()); u != 1 {
		t.Errorf("unread %d", u)
	}
	if k, err := inbox.MarkRead(ctx, st, time.Now()); err != nil || k != 1 {
		t.Fatalf("mark read: %d %v", k, err)
	}
	if items, _ := inbox.List(ctx, st.Reader(), inbox.Query{Unread: true}); len(items) != 0 {
		t.Errorf("unread after marking: %+v", items)
	}
}

func TestTestMessagesNeedNoOutboxRow(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	n := inbox.New("inbox", st)
	for range 2 {
		d := notifytest.Sample(notify.KindTest)
		d.ID = 0
		if _, err := n.Notify(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	items, err := inbox.List(ctx, st.Reader(), inbox.Query{Alarm: "Alert-COPY-Error"})
	if err != nil || len(items) != 2 {
		t.Fatalf("two test messages are two messages: %d %v", len(items), err)
	}
}
