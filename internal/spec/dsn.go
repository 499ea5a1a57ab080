package spec

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// checkDSN parses the warehouse DSN as dpcops will when it connects
// (pgconn.ParseConfig, URL or keyword/value form), without connecting,
// so that a DSN that cannot work fails validate at its own line. A DSN
// that a ${VAR} left empty was reported, or not, where it is expanded.
func (c *checker) checkDSN() {
	w := &c.s.Warehouse
	path := "warehouse.dsn"
	if w.DSNFile != "" {
		path = "warehouse.dsn_file"
	}
	if msg, ok := dsnProblem(w.DSN.Reveal()); w.DSN.IsSet() && !ok {
		c.errorf(path, "warehouse.dsn does not parse as a PostgreSQL connection string: %s", msg)
	}
	if st := &c.s.Store; st.DSN.IsSet() {
		path := "store.dsn"
		if st.DSNFile != "" {
			path = "store.dsn_file"
		}
		if msg, ok := dsnProblem(st.DSN.Reveal()); !ok {
			c.errorf(path, "store.dsn does not parse as a PostgreSQL connection string: %s", msg)
		}
	}
}

// dsnSafeCauses are the causes pgconn gives that quote nothing of the
// DSN. Any other cause is left out of the message: pgconn's own error
// quotes the connection string, redacting its password only as far as it
// can tell where the password is in a string that did not parse.
var dsnSafeCauses = []string{
	"forbidden NUL byte in connection string",
	"invalid keyword/value",
	"unterminated quoted string in connection info string",
	`end of string reached when looking for matching "]" in IPv6 host address in URI`,
	"IPv6 host address may not be empty in URI",
	"sslmode is invalid",
	`both "sslcert" and "sslkey" are required`,
	"outside range",
	"negative timeout",
}

// dsnProblem parses dsn and returns what is wrong with it and false, or
// "", true when it parses or fails only on something outside the DSN:
// a service file or a TLS certificate file, which dpcops reports when it
// connects.
func dsnProblem(dsn string) (string, bool) {
	_, err := pgconn.ParseConfig(dsn)
	if err == nil {
		return "", true
	}
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return "the connection string is not valid", false
	}
	// pgconn keeps its message unexported and prints it after the
	// connection string and before the cause: print a copy without the
	// string to recover it.
	bare := *pe
	bare.ConnString = ""
	msg := strings.TrimPrefix(bare.Error(), "cannot parse ``: ")
	var detail string
	if cause := pe.Unwrap(); cause != nil {
		detail = cause.Error()
		msg = strings.TrimSuffix(msg, " ("+detail+")")
	}
	safe, ok := safeCause(detail)
	switch {
	case msg == "failed to read service":
		return "", true
	case msg == "failed to configure TLS" && !ok:
		return "", true
	case ok:
		return msg + ": " + safe, false
	}
	return msg, false
}

// unexpectedAt is pgconn's cause for a stray character in a URL; only
// its position is kept, as the character can be one of the password's.
var unexpectedAt = regexp.MustCompile(`^unexpected character ".*" at position ([0-9]+) in URI`)

// safeCause returns the part of a pgconn cause that quotes nothing of the
// DSN, and whether there is one.
func safeCause(cause string) (string, bool) {
	if slices.Contains(dsnSafeCauses, cause) {
		return cause, true
	}
	if m := unexpectedAt.FindStringSubmatch(cause); m != nil {
		return "unexpected character at position " + m[1], true
	}
	for prefix, safe := range dsnCausePrefixes {
		if strings.HasPrefix(cause, prefix) {
			return safe, true
		}
	}
	return "", false
}

// dsnCausePrefixes rewrite causes that quote a keyword or parameter, which
// could be a password written where a keyword belongs.
var dsnCausePrefixes = map[string]string{
	`missing "=" after`:                      `a keyword without "="`,
	`missing key/value separator "=" in URI`: `a query parameter without "="`,
	`extra key/value separator "=" in URI`:   `a query parameter with more than one "="`,
}
