// Package cli is dpcops' command line: one cobra command per verb, each a
// thin layer that loads the spec, calls the package that does the work, and
// turns its result into output and an exit code.
package cli
