package cli

import (
	"context"

	"github.com/dpc-learning/dpcops/internal/store"
)

// openStore opens the state store: the spec's store.dsn (PostgreSQL) when
// it sets one, else the SQLite file in data. Every command reads the same
// store as the serve it works beside.
func (a *app) openStore(ctx context.Context, data string, o store.Options) (*store.Store, error) {
	s, _, err := a.loadSpec(false)
	if err != nil {
		return nil, err
	}
	o.DSN = s.Store.DSN.Reveal()
	return store.Open(ctx, data, o)
}
