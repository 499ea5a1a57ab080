package store

import "testing"

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                                    "SELECT 1",
		"SELECT * FROM t WHERE a = ? AND b = ?":       "SELECT * FROM t WHERE a = $1 AND b = $2",
		"UPDATE t SET a = ?1 WHERE b = ?2 AND c = ?1": "UPDATE t SET a = $1 WHERE b = $2 AND c = $1",
		"SELECT ?2, ?":                                "SELECT $2, $3",
		"SELECT '?' || ? FROM t":                      "SELECT '?' || $1 FROM t",
		"SELECT 'it''s ?', ?":                         "SELECT 'it''s ?', $1",
		`SELECT "we?ird" FROM t WHERE a = ?`:          `SELECT "we?ird" FROM t WHERE a = $1`,
		"SELECT ? -- what?\n, ?":                      "SELECT $1 -- what?\n, $2",
		"SELECT /* ? */ ?":                            "SELECT /* ? */ $1",
		"SELECT $$ ? $$, ?":                           "SELECT $$ ? $$, $1",
		"SELECT $q$ ?$ $q$, ?":                        "SELECT $q$ ?$ $q$, $1",
		"SELECT 'unterminated ?":                      "SELECT 'unterminated ?",
		"VALUES (?, ?, ?),(?, ?, ?)":                  "VALUES ($1, $2, $3),($4, $5, $6)",
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	f.Add("SELECT ?1, '?', ? -- ?\n/* ? */ $$?$$")
	f.Fuzz(func(t *testing.T, q string) {
		out := rebind(q)
		if len(out) < len(q)-countQ(q) {
			t.Fatalf("rebind lost text: %q → %q", q, out)
		}
	})
}

func countQ(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
		}
	}
	return n
}
