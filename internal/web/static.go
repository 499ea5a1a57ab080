package web

import (
	"io/fs"
	"net/http"
)

// staticFiles serves the embedded assets by name: exactly the files of
// static/, no directory listing, nothing outside it whatever the path's
// escapes say.
func staticFiles() http.Handler {
	dir, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	names := map[string]bool{}
	entries, _ := fs.ReadDir(dir, ".")
	for _, e := range entries {
		if e.Type().IsRegular() {
			names[e.Name()] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if !names[name] {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, dir, name)
	})
}
