package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) notifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Test channels, list deliveries, retry a failed one",
		Long: `Notifications owed by alarm transitions are written to the outbox in the
same transaction as the transition, then delivered by 'dpcops serve' with
retries. These commands test a channel now, show the outbox, and put a
failed or expired delivery back in the queue.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.notifyTestCommand(), a.notifyListCommand(), a.notifyRetryCommand())
	return cmd
}

func (a *app) notifyTestCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "test CHANNEL",
		Short: "Send a clearly marked test message through one channel now",
		Long: `Send a test message through CHANNEL right away, outside the outbox, and
print the receiver's answer. The message says it is a test and needs no
action. On PagerDuty and OpsGenie the test incident is resolved (closed)
at once by a second request. Exit status 1 if the receiver did not accept
it. An inbox channel writes to the store in --data.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			return a.notifyTest(cmd.Context(), s, args[0], data)
		},
	}
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state (used by inbox channels)")
	return cmd
}

func (a *app) notifyTest(ctx context.Context, s *spec.Spec, name, data string) error {
	ch, ok := s.Channel(name)
	if !ok {
		names := make([]string, len(s.Channels))
		for i, c := range s.Channels {
			names[i] = c.Name
		}
		return &exitError{code: exitFail, err: fmt.Errorf("no channel %q in the spec (channels: %s)", name, strings.Join(names, ", "))}
	}
	if !ch.Enabled.On() {
		return &exitError{code: exitFail, err: fmt.Errorf("channel %s is off (%s)", name, ch.Enabled.Reason())}
	}
	opts := channels.Options{Spec: s}
	if ch.Type == spec.ChannelInbox {
		st, err := a.openStore(ctx, data, store.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store = st
	}
	n, err := channels.New(ctx, opts, ch)
	if err != nil {
		return err
	}
	now := time.Now()
	key := fmt.Sprintf("dpcops:test:%s:%s:%d", s.Platform, name, now.UnixNano())
	kinds := []notify.Kind{notify.KindTest}
	if notify.CanResolve(ch.Type) {
		kinds = append(kinds, notify.KindResolve)
	}
	for _, kind := range kinds {
		d := &notify.Delivery{Channel: name, Kind: kind, DedupKey: key, Message: notify.TestMessage(s, name, now), Attempt: 1}
		d.Message.Kind = kind
		tctx, cancel := context.WithTimeout(ctx, ch.Timeout.D())
		retry, err := n.Notify(tctx, d)
		cancel()
		what := "test message"
		if kind == notify.KindResolve {
			what = "resolve of the test message"
		}
		if err != nil {
			fmt.Fprintf(a.io.Stdout, "%s (%s): %s NOT delivered: %s\n", name, ch.Type, what, d.Answer)
			hint := "the receiver refused it; a retry would not help"
			if retry {
				hint = "a later attempt may succeed"
			}
			return &exitError{code: exitFail, err: fmt.Errorf("%w (%s)", notify.Scrub(err, notify.ChannelSecrets(ch)...), hint)}
		}
		fmt.Fprintf(a.io.Stdout, "%s (%s): %s delivered: %s\n", name, ch.Type, what, d.Answer)
	}
	return nil
}

func (a *app) notifyListCommand() *cobra.Command {
	var data, state, channel, alarmName string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List outbox deliveries, newest first",
		Long: `List the deliveries of the outbox in --data, newest first: id, state
(pending, sending, sent, failed, expired; silenced or inhibited for a
notification a silence or an inhibit rule held back, with what held it
and what became of it at its end),
channel, kind (trigger, resolve, repeat, notice), alarm, attempts, resends
after a crash, the receiver's last status and the last error. Rows stay
listed until pruned (store.retention.notifications); a failed or expired
one can be sent again with 'dpcops notify retry ID'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "" && !slices.Contains(notify.DeliveryStates, state) {
				return usageError("--state: want one of %s, got %q", strings.Join(notify.DeliveryStates, ", "), state)
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			recs, err := notify.List(cmd.Context(), st.Reader(), notify.Query{State: state, Channel: channel, Alarm: alarmName, Limit: limit})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.io.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tCHANNEL\tKIND\tALARM\tATTEMPTS\tRESENDS\tSTATUS\tCREATED\tLAST ERROR")
			for _, r := range recs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", r.ID, r.State, r.Channel, r.Kind, r.Alarm,
					r.Attempts, r.Resends, r.Status, r.Created.Format(time.RFC3339), notify.Truncate(oneLine(r.LastError), 120))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	f.StringVar(&state, "state", "", "only deliveries in this state: pending, sending, sent, failed, expired, silenced or inhibited")
	f.StringVar(&channel, "channel", "", "only deliveries to this channel")
	f.StringVar(&alarmName, "alarm", "", "only deliveries of this alarm")
	f.IntVar(&limit, "limit", 100, "at most this many deliveries")
	return cmd
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (a *app) notifyRetryCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Put a failed or expired delivery back to pending",
		Long: `Put the failed or expired delivery ID (see 'dpcops notify list') back to
pending, due now and with a fresh notify.max_age. A running 'dpcops serve'
on the same --data sends it within its poll interval (one second). A
delivery that is pending, in flight or sent cannot be retried.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageError("ID must be a delivery number, got %q", args[0])
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			if err := notify.Retry(cmd.Context(), st, id, time.Now()); err != nil {
				if errors.Is(err, notify.ErrNoDelivery) || errors.Is(err, notify.ErrNotRetryable) {
					return &exitError{code: exitFail, err: err}
				}
				return err
			}
			fmt.Fprintf(a.io.Stdout, "delivery %d is pending again\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}
