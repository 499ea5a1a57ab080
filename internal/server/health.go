package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// running tracks the engines this replica owns: each is running from its
// start until it returns. An engine that returns before serve stops is
// dead, and serve is not ready while one is.
type running struct {
	mu      sync.Mutex
	stopped map[string]error
	// watched are the engines whose rounds are watched for progress.
	watched []progress
}

// progress is an engine that reports its last good round: one still
// running whose last good round is older than within (or, before its
// first, whose start is) is stuck, as a stopped one is dead.
type progress struct {
	name   string
	last   func() time.Time
	within time.Duration
	since  time.Time // when watching began
}

// watch starts watching engines' progress from now.
func (r *running) watch(ps ...progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for _, p := range ps {
		p.since = now
		r.watched = append(r.watched, p)
	}
}

// stop records that an engine stopped with err.
func (r *running) stop(name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped == nil {
		r.stopped = map[string]error{}
	}
	r.stopped[name] = err
}

// err says which engines stopped, nil when none did.
func (r *running) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var problems []string
	if len(r.stopped) > 0 {
		names := make([]string, 0, len(r.stopped))
		for n, e := range r.stopped {
			names = append(names, n+" ("+e.Error()+")")
		}
		sort.Strings(names)
		problems = append(problems, "engines stopped: "+strings.Join(names, ", "))
	}
	for _, p := range r.watched {
		if _, dead := r.stopped[p.name]; dead {
			continue
		}
		last := p.last()
		if last.Before(p.since) {
			last = p.since
		}
		if idle := time.Since(last); idle > p.within {
			problems = append(problems, fmt.Sprintf("%s has made no progress for %s", p.name, idle.Round(time.Second)))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// wellFunc says whether dpcops is well: its store answers and takes
// writes, and every engine it owns runs. It backs /readyz and the
// heartbeat.
func wellFunc(ping func(context.Context) error, writable func() error, r *running) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := ping(ctx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return errors.Join(writable(), r.err())
	}
}
