package awstest

import (
	"fmt"
	"strconv"
	"strings"
)

// SQLParameter is a named Data API parameter; the SQL refers to it as
// :name and the value is always text, which the server converts.
type SQLParameter struct {
	Name, Value string
}

// bindParams turns the Data API's :name parameters into PostgreSQL's $n
// and lists their values in that order. It leaves alone what only looks
// like a parameter: the :: of a cast, and colons inside quoted literals,
// quoted identifiers, dollar-quoted bodies and comments. As the Data API
// does, it refuses a parameter that is given but not used, used but not
// given, or given twice.
func bindParams(sql string, params []SQLParameter) (string, [][]byte, error) {
	given := map[string]string{}
	for _, p := range params {
		if !validParamName(p.Name) {
			return "", nil, fmt.Errorf("parameter name %q must match ^[0-9a-zA-Z_]+$", p.Name)
		}
		if p.Value == "" {
			return "", nil, fmt.Errorf("parameter %s: value must have length greater than or equal to 1", p.Name)
		}
		if _, dup := given[p.Name]; dup {
			return "", nil, fmt.Errorf("parameter %s is given more than once", p.Name)
		}
		given[p.Name] = p.Value
	}
	position := map[string]int{}
	var values [][]byte
	var out strings.Builder
	for i := 0; i < len(sql); {
		if n := skipQuoted(sql, i); n > i {
			out.WriteString(sql[i:n])
			i = n
			continue
		}
		c := sql[i]
		if c == ':' && i+1 < len(sql) && sql[i+1] == ':' {
			out.WriteString("::")
			i += 2
			continue
		}
		if c != ':' || i+1 >= len(sql) || !isNameByte(sql[i+1]) {
			out.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(sql) && isNameByte(sql[j]) {
			j++
		}
		name := sql[i+1 : j]
		v, ok := given[name]
		if !ok {
			return "", nil, fmt.Errorf("the SQL uses parameter :%s, which is not given", name)
		}
		n, seen := position[name]
		if !seen {
			values = append(values, []byte(v))
			n = len(values)
			position[name] = n
		}
		out.WriteString("$" + strconv.Itoa(n))
		i = j
	}
	for _, p := range params {
		if _, used := position[p.Name]; !used {
			return "", nil, fmt.Errorf("parameter %s is given but the SQL does not use it", p.Name)
		}
	}
	return out.String(), values, nil
}

// skipQuoted returns where the quoted literal, quoted identifier, dollar
// quote or comment starting at i ends, or i when none starts there. An
// unterminated one runs to the end: the server will refuse the SQL anyway.
func skipQuoted(sql string, i int) int {
	rest := sql[i:]
	switch {
	case rest[0] == '\'':
		// E'...' strings escape with a backslash; standard strings only
		// by doubling the quote.
		backslash := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i == 1 || !isNameByte(sql[i-2]))
		return endQuote(sql, i, '\'', backslash)
	case rest[0] == '"':
		return endQuote(sql, i, '"', false)
	case strings.HasPrefix(rest, "--"):
		if k := strings.IndexByte(rest, '\n'); k >= 0 {
			return i + k + 1
		}
		return len(sql)
	case strings.HasPrefix(rest, "/*"):
		// PostgreSQL's block comments nest.
		depth := 0
		for k := i; k+1 < len(sql); k++ {
			switch sql[k : k+2] {
			case "/*":
				depth++
				k++
			case "*/":
				depth--
				k++
				if depth == 0 {
					return k + 1
				}
			}
		}
		return len(sql)
	case rest[0] == '$' && (i == 0 || !isNameByte(sql[i-1])):
		// $tag$ ... $tag$, where a tag is empty or an identifier; $1 is a
		// positional parameter, and a $ inside an identifier (a$b) is
		// part of it, not a quote.
		k := 1
		for k < len(rest) && (isNameByte(rest[k]) && !(k == 1 && rest[k] >= '0' && rest[k] <= '9')) {
			k++
		}
		if k >= len(rest) || rest[k] != '$' {
			return i
		}
		tag := rest[:k+1]
		if end := strings.Index(rest[len(tag):], tag); end >= 0 {
			return i + len(tag) + end + len(tag)
		}
		return len(sql)
	}
	return i
}

// endQuote finds the end of a literal opened by q at i, where a doubled q
// (or, with backslash, an escaped one) stays inside.
func endQuote(sql string, i int, q byte, backslash bool) int {
	for k := i + 1; k < len(sql); k++ {
		switch {
		case backslash && sql[k] == '\\':
			k++
		case sql[k] == q && k+1 < len(sql) && sql[k+1] == q:
			k++
		case sql[k] == q:
			return k + 1
		}
	}
	return len(sql)
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}
