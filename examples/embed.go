// Package examples holds the example specs shipped with dpcops. The first,
// dpc-learning.yaml, is also the built-in default spec.
package examples

import _ "embed"

// DPCLearning is examples/dpc-learning.yaml: the platform seed's design,
// mapped onto what AWS offers. Treat it as read-only.
//
//go:embed dpc-learning.yaml
var DPCLearning []byte

// LocalPostgres is examples/local-postgres.yaml: the same design on a local
// PostgreSQL warehouse. Treat it as read-only.
//
//go:embed local-postgres.yaml
var LocalPostgres []byte

// Demo is examples/demo.yaml: the spec of `dpcops demo`, with its clock
// sped up so that every seed alert fires within fifteen minutes.
//
//go:embed demo.yaml
var Demo []byte
