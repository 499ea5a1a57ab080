package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftserverless"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshiftserverless/types"
)

// Workgroup is what dpcops reads of a Redshift Serverless workgroup.
type Workgroup struct {
	Name         string
	Status       string
	BaseCapacity int
	MaxCapacity  int
}

// Workgroups reads and sets a workgroup's capacity.
type Workgroups struct {
	c *redshiftserverless.Client
	// Sleep waits between looks at a workgroup that is MODIFYING (default
	// a timer); tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewWorkgroups returns the Redshift Serverless client over the same
// options as New (endpoint key redshift_serverless).
func NewWorkgroups(ctx context.Context, o Options) (*Workgroups, error) {
	cfg, err := loadConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	c := redshiftserverless.NewFromConfig(cfg, func(ro *redshiftserverless.Options) {
		if ep := o.Endpoints["redshift_serverless"]; ep != "" {
			ro.BaseEndpoint = awssdk.String(ep)
		}
	})
	return &Workgroups{c: c, Sleep: sleep}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Get reads a workgroup.
func (w *Workgroups) Get(ctx context.Context, name string) (Workgroup, error) {
	out, err := w.c.GetWorkgroup(ctx, &redshiftserverless.GetWorkgroupInput{WorkgroupName: awssdk.String(name)})
	if err != nil {
		return Workgroup{}, fmt.Errorf("redshift-serverless GetWorkgroup: %w", err)
	}
	wg := out.Workgroup
	if wg == nil {
		return Workgroup{}, errors.New("redshift-serverless GetWorkgroup: no workgroup in the answer")
	}
	return Workgroup{Name: awssdk.ToString(wg.WorkgroupName), Status: string(wg.Status),
		BaseCapacity: int(awssdk.ToInt32(wg.BaseCapacity)), MaxCapacity: int(awssdk.ToInt32(wg.MaxCapacity))}, nil
}

// modifyingWait is how long SetMaxCapacity waits for a MODIFYING
// workgroup, in all; the SDK's retryer handles throttling on its own.
const modifyingWait = 10 * time.Minute

// SetMaxCapacity sets the workgroup's max capacity. A workgroup that is
// MODIFYING (ConflictException) is waited for and the change tried again,
// up to a bound; other refusals return at once.
func (w *Workgroups) SetMaxCapacity(ctx context.Context, name string, rpu int) (Workgroup, error) {
	deadline := time.Now().Add(modifyingWait)
	delay := 5 * time.Second
	for {
		out, err := w.c.UpdateWorkgroup(ctx, &redshiftserverless.UpdateWorkgroupInput{
			WorkgroupName: awssdk.String(name), MaxCapacity: awssdk.Int32(int32(rpu)),
		})
		var conflict *rstypes.ConflictException
		switch {
		case err == nil && out.Workgroup == nil:
			return Workgroup{}, errors.New("redshift-serverless UpdateWorkgroup: no workgroup in the answer")
		case err == nil:
			wg := out.Workgroup
			return Workgroup{Name: name, Status: string(wg.Status), BaseCapacity: int(awssdk.ToInt32(wg.BaseCapacity)),
				MaxCapacity: int(awssdk.ToInt32(wg.MaxCapacity))}, nil
		case errors.As(err, &conflict) && time.Now().Before(deadline):
			if err := w.Sleep(ctx, delay); err != nil {
				return Workgroup{}, err
			}
			delay = min(2*delay, time.Minute)
		default:
			return Workgroup{}, fmt.Errorf("redshift-serverless UpdateWorkgroup: %w", err)
		}
	}
}
