package demo

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed schema.sql
var schemaSQL string

// Options configure the demo.
type Options struct {
	// DSN is the demo warehouse (its ops schema must exist: dpcops
	// warehouse init).
	DSN    string
	Logger *slog.Logger
	// Pipeline names the pipeline in ops.pipeline_runs.
	Pipeline string
	// Every is the pipeline's schedule (default 30s).
	Every time.Duration
	// Seed makes the generated data repeatable.
	Seed uint64
}

// Demo is a running demo workload.
type Demo struct {
	o     Options
	log   *slog.Logger
	pool  *pgxpool.Pool
	pipe  *pipeline
	gen   *generator
	mu    sync.Mutex // serialises pipeline runs
	stall atomic.Bool
	bad   atomic.Int32
}

// Setup creates the warehouse's schemas and tables and loads two good
// batches, so that the dashboard has data from the first minute.
func Setup(ctx context.Context, o Options) (*Demo, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Pipeline == "" {
		o.Pipeline = "dpc-elt"
	}
	if o.Every == 0 {
		o.Every = 30 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.MaxConns = 16
	cfg.ConnConfig.RuntimeParams["application_name"] = "dpc-analyst"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if _, err := pool.Exec(ctx, schemaSQL); err != nil {
		pool.Close()
		return nil, fmt.Errorf("demo schema: %w", err)
	}
	pcfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		pool.Close()
		return nil, err
	}
	pcfg.RuntimeParams["application_name"] = "dpc-elt"
	conn, err := pgx.ConnectConfig(ctx, pcfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	d := &Demo{o: o, log: o.Logger, pool: pool, gen: newGenerator(o.Seed + 1)}
	d.pipe = &pipeline{conn: conn, name: o.Pipeline, gen: newGenerator(o.Seed)}
	for i := 0; i < 2; i++ {
		if _, err := d.RunPipeline(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close releases the demo's connections.
func (d *Demo) Close() {
	d.pipe.conn.Close(context.Background())
	d.pool.Close()
}

// RunPipeline runs the pipeline once now; it is also what the
// rerun-pipeline action calls in the demo. A run, once started, finishes
// even if its caller goes away (an HTTP request, Ctrl-C): a run left
// 'running' in ops.pipeline_runs would hold maintenance back for good.
func (d *Demo) RunPipeline(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runTimeout)
	defer cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	bad := int(d.bad.Swap(0))
	res, err := d.pipe.run(ctx, 40, bad)
	if err != nil {
		return "", fmt.Errorf("pipeline run: %w", err)
	}
	d.log.Info("pipeline run", "run", res.id, "ok", res.ok, "rows", res.loaded, "rejected", res.rejected)
	return fmt.Sprintf("run %d", res.id), nil
}

// runTimeout bounds one demo pipeline run (a few seconds normally).
const runTimeout = 2 * time.Minute

// Run plays the workload until ctx ends: the pipeline on its schedule,
// analysts querying the marts, table churn, and the scenario.
func (d *Demo) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { d.every(ctx, d.o.Every, d.scheduledRun) })
	wg.Go(func() { d.every(ctx, 3*time.Second, d.analyst) })
	wg.Go(func() { d.every(ctx, time.Minute, d.churn) })
	wg.Go(func() { d.scenario(ctx, time.Now()) })
	wg.Wait()
}

func (d *Demo) every(ctx context.Context, period time.Duration, do func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			do(ctx)
		}
	}
}

func (d *Demo) scheduledRun(ctx context.Context) {
	if d.stall.Load() {
		return
	}
	if _, err := d.RunPipeline(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("pipeline", "err", err)
	}
}
