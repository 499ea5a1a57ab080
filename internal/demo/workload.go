package demo

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// analystQueries are what the platform's analysts ask of the marts.
var analystQueries = []string{
	`SELECT dpc_code, sum(cases), round(avg(avg_los), 1) FROM mart.los_by_dpc GROUP BY 1 ORDER BY 3 DESC`,
	`SELECT facility_code, sum(yen) FROM mart.cost_per_episode GROUP BY 1 ORDER BY 2 DESC LIMIT 5`,
	`SELECT month, sum(discharges) FROM mart.monthly_volume GROUP BY 1 ORDER BY 1`,
	`SELECT e.mdc6, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY e.los_days) FROM staging.episodes e GROUP BY 1`,
	`SELECT data_category, count(*), sum(points) FROM staging.ef_lines GROUP BY 1`,
}

// failingQueries are analysts' mistakes.
var failingQueries = []string{
	`SELECT * FROM mart.los_by_dpc_v2`,
	`SELECT sum(points) / 0 FROM staging.ef_lines`,
	`SELECT facility_code, avg(los) FROM staging.episodes GROUP BY 1`,
}

func (d *Demo) analyst(ctx context.Context) {
	q := analystQueries[d.gen.r.IntN(len(analystQueries))]
	if _, err := d.pool.Exec(ctx, q); err != nil && ctx.Err() == nil {
		d.log.Debug("analyst query", "err", err)
	}
}

// churn rewrites and deletes staging rows, as re-loads and corrections do,
// leaving dead tuples for maintenance to find; raw keeps only recent
// batches.
func (d *Demo) churn(ctx context.Context) {
	for _, q := range []string{
		`UPDATE staging.ef_lines SET quantity = quantity WHERE random() < 0.3`,
		`DELETE FROM staging.ef_lines WHERE random() < 0.05`,
		`DELETE FROM raw.ef_lines WHERE batch_id < (SELECT max(batch_id) - 6 FROM raw.ef_lines)`,
		`DELETE FROM raw.form1 WHERE batch_id < (SELECT max(batch_id) - 6 FROM raw.form1)`,
	} {
		if _, err := d.pool.Exec(ctx, q); err != nil && ctx.Err() == nil {
			d.log.Debug("churn", "err", err)
		}
	}
}

// step is one event of the scenario, at an offset from the cycle's start.
type step struct {
	at   time.Duration
	name string
	do   func(ctx context.Context)
}

// cycleLength is the scenario's period: every seed alert fires and
// resolves within it.
const cycleLength = 15 * time.Minute

// steps is the scenario. With examples/demo.yaml's thresholds:
// Alert-COPY-Error fires at ~1:30 and resolves with the next good load;
// Alert-Query-Failure fires during the ramp (3:00-5:00) and resolves
// after; Alert-RPU-Spike fires during the burst (5:30-7:00); the storage
// load (8:00) fires Alert-Storage-High until the offload (10:00);
// Alert-ELT-Delay fires once the stalled pipeline (7:00) is 3 minutes
// late, and resolves when it runs again (11:30, or earlier through
// dpcops' rerun-pipeline action); a long query at 12:30 trips the QMR rule.
func (d *Demo) steps() []step {
	return []step{
		{90 * time.Second, "a hospital file with malformed rows", func(context.Context) { d.bad.Store(3) }},
		{3 * time.Minute, "failing queries, more each period", func(ctx context.Context) { d.failureRamp(ctx, 5, 30*time.Second) }},
		{5*time.Minute + 30*time.Second, "a burst of heavy queries", func(ctx context.Context) { d.burst(ctx, 6, 80*time.Second) }},
		{7 * time.Minute, "the pipeline stalls", func(context.Context) { d.stall.Store(true) }},
		{8 * time.Minute, "a large load fills the storage quota", d.fillStorage},
		{10 * time.Minute, "old data is offloaded", d.offload},
		{11*time.Minute + 30*time.Second, "the pipeline resumes", func(context.Context) { d.stall.Store(false) }},
		{12*time.Minute + 30*time.Second, "an analyst's runaway query", func(ctx context.Context) { d.burst(ctx, 1, 45*time.Second) }},
	}
}

// scenario plays the steps, cycle after cycle, from start, and returns
// when ctx ends and the steps under way have stopped.
func (d *Demo) scenario(ctx context.Context, start time.Time) {
	var steps sync.WaitGroup
	defer steps.Wait()
	for cycle := 0; ; cycle++ {
		base := start.Add(time.Duration(cycle) * cycleLength)
		for _, s := range d.steps() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(base.Add(s.at))):
			}
			d.log.Info("demo scenario", "step", s.name, "cycle", cycle+1)
			steps.Go(func() { s.do(ctx) })
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(base.Add(cycleLength))):
		}
	}
}

// failureRamp runs 2, 4, 6 ... failing queries in successive periods,
// each burst just after a period boundary, so that the failed count rises
// period after period. The statistics of a session reach
// pg_stat_database only when it flushes them, up to seconds later; the
// ramp forces the flush after each burst so that each lands in its own
// period.
func (d *Demo) failureRamp(ctx context.Context, periods int, period time.Duration) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return
	}
	defer conn.Release()
	for k := 1; k <= periods; k++ {
		next := time.Now().Truncate(period).Add(period + 2*time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		for i := 0; i < 2*k; i++ {
			conn.Exec(ctx, failingQueries[i%len(failingQueries)])
		}
		conn.Exec(ctx, "SELECT pg_stat_force_next_flush()")
	}
}

// burst runs n heavy queries at once for about dur.
func (d *Demo) burst(ctx context.Context, n int, dur time.Duration) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			sql := fmt.Sprintf(`SELECT count(*), pg_sleep(%d) FROM mart.los_by_dpc -- heavy LOS analysis %d`, int(dur.Seconds()), i)
			if _, err := d.pool.Exec(ctx, sql); err != nil && ctx.Err() == nil {
				d.log.Info("heavy query ended", "err", err)
			}
		})
	}
	wg.Wait()
}

// fillStorage loads about 110 MB of old EF lines into the archive table.
func (d *Demo) fillStorage(ctx context.Context) {
	_, err := d.pool.Exec(ctx, `INSERT INTO raw.ef_lines_archive
		SELECT 0, '131234561', 'P' || lpad(g::text, 8, '0'), date '2019-04-01' + (g % 365), '21', g, 1,
		       '620000030', 'アムロジピン錠5mg ' || repeat('x', 40), 1, '錠', 1, date '2019-04-01' + (g % 365), 'W1', '内科'
		  FROM generate_series(1, 700000) g`)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("storage load", "err", err)
	}
}

// offload is the storage runbook: the archived lines were unloaded to S3;
// they leave the warehouse.
func (d *Demo) offload(ctx context.Context) {
	if _, err := d.pool.Exec(ctx, `TRUNCATE raw.ef_lines_archive`); err != nil && ctx.Err() == nil {
		d.log.Warn("offload", "err", err)
	}
}
