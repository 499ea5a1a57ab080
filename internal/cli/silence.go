package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) silenceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "silence",
		Short: "Say \"not now\": hold back the notifications of chosen alarms for a while",
		Long: `A silence holds back the notifications of the alarms its matchers select,
from now until its end. The transitions are still recorded, and the held
notifications show on the alarm's incident and in 'dpcops notify list' as
silenced by #ID. When the silence ends (or is expired), a notification
whose alarm is still in ALARM in the same episode goes out then, once; the
others are dropped. Pages sent before the silence still get their resolve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.silenceAddCommand(), a.silenceListCommand(), a.silenceExpireCommand())
	return cmd
}

func (a *app) silenceAddCommand() *cobra.Command {
	var data, comment, until, alarmName string
	var matches []string
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "add (--alarm NAME | --match label=value...) (--for DURATION | --until TIME) --comment TEXT",
		Short: "Add a silence",
		Long: `Add a silence. --alarm NAME is --match alarm=NAME; the labels are alarm and
severity, and every matcher must hold. A silence needs an end (--for 2h,
or --until an RFC 3339 time or "2006-01-02 15:04" in the spec's time
zone), at most 30 days away, and a comment that says why. A silence that
matches no alarm of the spec is added with a warning naming the alarms.
It prints the silence's id.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			si := notify.Silence{Starts: now, Created: now, Comment: strings.TrimSpace(comment), CreatedBy: a.getenv("USER")}
			if alarmName != "" {
				si.Matchers = append(si.Matchers, notify.Matcher{Label: "alarm", Value: alarmName})
			}
			for _, m := range matches {
				mt, err := notify.ParseMatcher(m)
				if err != nil {
					return usageError("--match: %v", err)
				}
				si.Matchers = append(si.Matchers, mt)
			}
			switch {
			case d != 0 && until != "":
				return usageError("give --for or --until, not both")
			case d < 0:
				return usageError("--for must be positive, got %s", d)
			case d > 0:
				si.Ends = now.Add(d)
			case until != "":
				t, err := parseUntil(until, s.Location())
				if err != nil {
					return usageError("--until: %v", err)
				}
				si.Ends = t.UTC()
			}
			warnings, err := notify.CheckSilence(s, si)
			if err != nil {
				return usageError("%v", err)
			}
			for _, w := range warnings {
				fmt.Fprintln(a.io.Stderr, "warning:", w)
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := notify.AddSilence(cmd.Context(), st, si)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Stdout, "silence %d until %s\n", id, si.Ends.In(s.Location()).Format("2006-01-02 15:04 MST"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	f.StringVar(&alarmName, "alarm", "", "silence this alarm (--match alarm=NAME)")
	f.StringArrayVar(&matches, "match", nil, "label=value that must hold (labels: alarm, severity); repeatable")
	f.DurationVar(&d, "for", 0, "how long the silence lasts, from now (e.g. 2h)")
	f.StringVar(&until, "until", "", "when the silence ends (RFC 3339, or 2006-01-02 15:04 in the spec's zone)")
	f.StringVar(&comment, "comment", "", "why: for whoever finds the silence")
	return cmd
}

// parseUntil reads an RFC 3339 time or a local "2006-01-02 15:04".
func parseUntil(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor 2006-01-02 15:04", s)
	}
	return t, nil
}

func (a *app) silenceListCommand() *cobra.Command {
	var data string
	var all bool
	cmd := &cobra.Command{
		Use:   "list [--all]",
		Short: "List the silences that have not ended (--all: every one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			now := time.Now().UTC()
			ss, err := notify.Silences(cmd.Context(), st.Reader(), now, !all)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.io.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tMATCHERS\tSTARTS\tENDS\tBY\tCOMMENT")
			for _, si := range ss {
				state := "active"
				switch {
				case !si.Active(now) && now.Before(si.Starts):
					state = "pending"
				case !si.Active(now):
					state = "ended"
				}
				var ms []string
				for _, m := range si.Matchers {
					ms = append(ms, m.Label+"="+m.Value)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", si.ID, state, strings.Join(ms, ","),
					si.Starts.In(s.Location()).Format("2006-01-02 15:04"), si.End().In(s.Location()).Format("2006-01-02 15:04"),
					si.CreatedBy, oneLine(si.Comment))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	cmd.Flags().BoolVar(&all, "all", false, "list ended silences too")
	return cmd
}

func (a *app) silenceExpireCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now; what it held goes out if its alarm is still in ALARM",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageError("ID must be a silence number, got %q", args[0])
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			if err := notify.ExpireSilence(cmd.Context(), st, id, time.Now().UTC()); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintf(a.io.Stdout, "silence %d expired\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}
