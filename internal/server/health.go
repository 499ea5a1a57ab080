package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// running tracks the engines this replica owns: each is running from its
// start until it returns. An engine that returns before serve stops is
// dead, and serve is not ready while one is.
type running struct {
	mu      sync.Mutex
	stopped map[string]error
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
	if len(r.stopped) == 0 {
		return nil
	}
	names := make([]string, 0, len(r.stopped))
	for n, e := range r.stopped {
		names = append(names, n+" ("+e.Error()+")")
	}
	sort.Strings(names)
	return fmt.Errorf("engines stopped: %s", strings.Join(names, ", "))
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
