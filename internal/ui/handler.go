package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// files is the page's file system: index.html, app.js, style.css.
var files, _ = fs.Sub(static, "static")

// Handler serves the live page on /ui (and /ui/) and its assets on
// /ui/<file>; anything else under /ui/ is 404. Mount it on both "/ui" and
// "/ui/". The page loads nothing from another origin, and says so in its
// Content-Security-Policy.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := fileName(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, files, name)
	})
}

// fileName maps a request path to a file of the page.
func fileName(p string) (string, bool) {
	switch p {
	case "/ui", "/ui/":
		return "index.html", true
	}
	name, ok := strings.CutPrefix(p, "/ui/")
	if !ok || name == "index.html" || strings.Contains(name, "/") || path.Clean(name) != name {
		return "", false
	}
	if _, err := fs.Stat(files, name); err != nil {
		return "", false
	}
	return name, true
}
