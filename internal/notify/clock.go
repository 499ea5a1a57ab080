package notify

import "github.com/dpc-learning/dpcops/internal/alarm"

// Clock tells the time and waits, as the alarm engine's does. Tests pass a
// fake one; nil in options means the system clock.
type Clock = alarm.Clock
