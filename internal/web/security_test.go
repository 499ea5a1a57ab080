package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// request sends one request with optional Host and headers, and answers
// the status, body and headers.
func (f *fixture) request(method, path, host string, body io.Reader, hdr ...string) (int, string, http.Header) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func rerunOK(context.Context) (string, error) { return "exec-1", nil }

// TestHostsDpcopsAnswersFor: a page that rebinds its DNS name to
// 127.0.0.1 still sends its own name, and gets nothing, neither the
// dashboard nor an action.
func TestHostsDpcopsAnswersFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{token: testToken, rerun: rerunOK, allowedHosts: []string{"dpcops.example.org"},
		externalURL: "https://ops.example.org/dpcops"})
	port := f.srv.URL[strings.LastIndex(f.srv.URL, ":")+1:]
	for _, host := range []string{"rebind.attacker.example", "rebind.attacker.example:" + port, "127.0.0.1.attacker.example",
		"localhost.attacker.example", "dpcops.example.org.attacker.example", strings.Repeat("x", 5000)} {
		for _, path := range []string{"/", "/api/v1/alarms", "/api/v1/datapoints?metric=ComputeCapacity", "/static/app.js"} {
			code, body, _ := f.request("GET", path, host, nil)
			if code != http.StatusMisdirectedRequest || strings.Contains(body, "Alert-") || len(body) > 300 {
				t.Errorf("GET %s with Host %.40s: %d %.200s", path, host, code, body)
			}
		}
		if code, _, _ := f.request("POST", "/api/v1/pipeline/rerun", host, nil, "Authorization", "Bearer "+testToken); code != http.StatusMisdirectedRequest {
			t.Errorf("POST rerun with Host %.40s: %d", host, code)
		}
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST.", "[::1]:" + port, "10.1.2.3",
		"dpcops.example.org", "DPCOPS.example.org:443", "ops.example.org"} {
		if code, body, _ := f.request("GET", "/api/v1/alarms", host, nil); code != 200 {
			t.Errorf("GET with Host %s: %d %s", host, code, body)
		}
	}
}

// TestActionsAlwaysNeedTheToken: no action without the token, on any
// listener; the scheme word is read case-insensitively.
func TestActionsAlwaysNeedTheToken(t *testing.T) {
	t.Parallel()
	off := newFixture(t, options{rerun: rerunOK})
	if code, body, _ := off.request("POST", "/api/v1/pipeline/rerun", "", nil); code != 403 || !strings.Contains(body, "no token") {
		t.Errorf("without a configured token: %d %s", code, body)
	}
	f := newFixture(t, options{token: testToken, rerun: rerunOK})
	for _, auth := range []string{"", "Bearer nope", "Basic " + testToken, "Bearer", testToken, "Bearer " + testToken + "x"} {
		code, body, hdr := f.request("POST", "/api/v1/pipeline/rerun", "", nil, "Authorization", auth)
		if code != 401 || hdr.Get("WWW-Authenticate") == "" || strings.Contains(body, testToken) {
			t.Errorf("Authorization %q: %d %s", auth, code, body)
		}
	}
	for _, auth := range []string{"Bearer " + testToken, "bearer " + testToken, "BEARER  " + testToken} {
		if code, body, _ := f.request("POST", "/api/v1/pipeline/rerun", "", nil, "Authorization", auth); code != 200 || !strings.Contains(body, "exec-1") {
			t.Errorf("Authorization %q: %d %s", auth, code, body)
		}
	}
	// A cross-site form post is refused even with the token.
	if code, _, _ := f.request("POST", "/api/v1/pipeline/rerun", "", nil, "Authorization", "Bearer "+testToken, "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-site post: %d", code)
	}
	if code, body, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Authorization", "Bearer "+testToken); code != 404 || !strings.Contains(body, "delivery 777") {
		t.Errorf("retry of an unknown delivery: %d %s", code, body)
	}
	if code, _, _ := f.request("POST", "/api/v1/queries/7/cancel", "", nil, "Authorization", "Bearer "+testToken); code != 501 {
		t.Errorf("an action not wired: %d", code)
	}
	if code, _, _ := f.request("POST", "/api/v1/deliveries/x/retry", "", nil, "Authorization", "Bearer "+testToken); code != 400 {
		t.Errorf("bad id: %d", code)
	}
}

// countingReader is an endless body that counts what was taken of it.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBodiesAreNotReadBeforeTheToken: a large body without the token is
// refused before it is read, whatever its type, and a form is read only
// up to a few kilobytes.
func TestBodiesAreNotReadBeforeTheToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{token: testToken, rerun: rerunOK})
	const size = 64 << 20
	for _, tc := range []struct{ path, ctype string }{
		{"/api/v1/pipeline/rerun", "multipart/form-data; boundary=x"},
		{"/api/v1/pipeline/rerun", "application/x-www-form-urlencoded"},
		{"/notifications/1/retry", "multipart/form-data; boundary=x"},
		{"/notifications/1/retry", "application/x-www-form-urlencoded"},
		{"/login", "application/x-www-form-urlencoded"},
		{"/api/v1/alarms", "application/json"},
	} {
		body := &countingReader{}
		req, _ := http.NewRequest("POST", f.srv.URL+tc.path, io.LimitReader(body, size))
		req.ContentLength = size
		req.Header.Set("Content-Type", tc.ctype)
		resp, err := noRedirects.Do(req)
		if err == nil {
			if resp.StatusCode < 400 {
				t.Errorf("POST %s (%s) without the token: %d", tc.path, tc.ctype, resp.StatusCode)
			}
			resp.Body.Close()
		}
		// What the client could write is what the server read plus what
		// the kernel's buffers took: far below the body.
		if n := body.n.Load(); n > 8<<20 {
			t.Errorf("POST %s (%s): the client wrote %d MB of %d MB", tc.path, tc.ctype, n>>20, size>>20)
		}
	}
}

// TestFormsAreReadOnlyWhenSmall: a url-encoded form is read for its
// token only up to a few kilobytes.
func TestFormsAreReadOnlyWhenSmall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{token: testToken, rerun: rerunOK})
	ct := "application/x-www-form-urlencoded"
	small := "token=" + testToken
	if code, _, _ := f.request("POST", "/api/v1/pipeline/rerun", "", strings.NewReader(small), "Content-Type", ct); code != 200 {
		t.Errorf("a small form with the token: %d", code)
	}
	padded := "pad=" + strings.Repeat("x", 8<<10) + "&" + small
	if code, _, _ := f.request("POST", "/api/v1/pipeline/rerun", "", strings.NewReader(padded), "Content-Type", ct); code != 401 {
		t.Errorf("an 8 KB form with the token at its end: %d", code)
	}
	if code, _, _ := f.request("POST", "/api/v1/pipeline/rerun", "", strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n"+testToken+"\r\n--x--\r\n"),
		"Content-Type", "multipart/form-data; boundary=x"); code != 401 {
		t.Errorf("a multipart form with the token: %d", code)
	}
}

// TestSignInThenActFromTheWebUI: the browser trades the token for a
// session cookie, and the forms act with it.
func TestSignInThenActFromTheWebUI(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(now.UnixMilli())
	f := newFixture(t, options{token: testToken, clock: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if code, body, _ := f.request("GET", "/login?next=/notifications", "", nil); code != 200 || !strings.Contains(body, `name="token"`) || !strings.Contains(body, `value="/notifications"`) {
		t.Fatalf("login page: %d", code)
	}
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	ct := "application/x-www-form-urlencoded"
	if code, body, hdr := f.request("POST", "/login", "", form(url.Values{"token": {"wrong"}}), "Content-Type", ct); code != 401 || hdr.Get("Set-Cookie") != "" || strings.Contains(body, testToken) {
		t.Errorf("wrong token: %d %s", code, hdr.Get("Set-Cookie"))
	}
	if code, _, _ := f.request("POST", "/login", "", form(url.Values{"token": {testToken}}), "Content-Type", ct, "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("a cross-site sign-in: %d", code)
	}
	code, _, hdr := f.request("POST", "/login", "", form(url.Values{"token": {testToken}, "next": {"//evil.example/x"}}), "Content-Type", ct)
	cookie := hdr.Get("Set-Cookie")
	if code != 303 || hdr.Get("Location") != "/" {
		t.Fatalf("sign-in: %d, Location %q", code, hdr.Get("Location"))
	}
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || !strings.Contains(cookie, "Max-Age=43200") || strings.Contains(cookie, testToken) {
		t.Errorf("session cookie: %s", cookie)
	}
	session := strings.Split(cookie, ";")[0]
	signIn := func() string {
		t.Helper()
		_, _, hdr := f.request("POST", "/login", "", form(url.Values{"token": {testToken}}), "Content-Type", ct)
		return strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	}
	if other := signIn(); other == session || !strings.HasPrefix(other, "dpcops_session=") {
		t.Errorf("two sign-ins share a session: %s", other)
	}
	if _, body, _ := f.request("GET", "/notifications", "", nil, "Cookie", session); strings.Contains(body, `name="token"`) || !strings.Contains(body, `action="/logout"`) {
		t.Errorf("signed in, the page still asks for the token or offers no sign-out")
	}
	if _, body, _ := f.request("GET", "/notifications", "", nil); !strings.Contains(body, `href="/login?next=%2fnotifications"`) {
		t.Errorf("signed out, the page offers no sign-in")
	}
	if code, _, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Cookie", session); code != 404 {
		t.Errorf("an action with the session: %d", code)
	}
	if code, _, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Cookie", "dpcops_session="+testToken); code != 401 {
		t.Errorf("the token itself is not a session: %d", code)
	}
	if code, _, hdr := f.request("POST", "/logout", "", nil, "Cookie", session); code != 303 || !strings.Contains(hdr.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign-out: %d %s", code, hdr.Get("Set-Cookie"))
	}
	// A copy of the cookie is worth nothing after sign-out.
	if code, _, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Cookie", session); code != 401 {
		t.Errorf("an action with the ended session: %d", code)
	}
	// A session expires after 12 hours.
	later := signIn()
	clock.Add((12*time.Hour - time.Second).Milliseconds())
	if code, _, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Cookie", later); code != 404 {
		t.Errorf("an action just before expiry: %d", code)
	}
	clock.Add(time.Second.Milliseconds())
	if code, _, _ := f.request("POST", "/api/v1/deliveries/777/retry", "", nil, "Cookie", later); code != 401 {
		t.Errorf("an action with an expired session: %d", code)
	}
}

// TestSignInGoesBackOnlyToThisServer: after sign-in the browser goes to a
// path of this server, never to another origin however it is spelt.
func TestSignInGoesBackOnlyToThisServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{token: testToken})
	for next, want := range map[string]string{
		"/notifications?state=failed": "/notifications?state=failed",
		"/alarms/Alert-ELT-Delay":     "/alarms/Alert-ELT-Delay",
		"//evil.example/x":            "/",
		"/\\evil.example":             "/",
		"/\t/evil.example":            "/",
		"/\n/evil.example":            "/",
		"/%09/evil.example":           "/%09/evil.example",
		"https://evil.example/":       "/",
		"javascript:alert(1)":         "/",
		"evil.example":                "/",
		"":                            "/",
	} {
		body := url.Values{"token": {testToken}, "next": {next}}.Encode()
		code, _, hdr := f.request("POST", "/login", "", strings.NewReader(body), "Content-Type", "application/x-www-form-urlencoded")
		if code != 303 || hdr.Get("Location") != want {
			t.Errorf("next %q: %d, Location %q, want %q", next, code, hdr.Get("Location"), want)
		}
	}
	// The sign-in page carries only a local next.
	if _, body, _ := f.request("GET", "/login?next=%2F%09%2Fevil.example", "", nil); !strings.Contains(body, `name="next" value="/"`) {
		t.Errorf("sign-in page: %s", body)
	}
}

// TestStaticServesOnlyTheAssets: no template, no listing, whatever the
// escapes.
func TestStaticServesOnlyTheAssets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{})
	for path, want := range map[string]string{"/static/style.css": "text/css", "/static/app.js": "javascript", "/static/favicon.svg": "image/svg"} {
		if code, _, hdr := f.request("GET", path, "", nil); code != 200 || !strings.Contains(hdr.Get("Content-Type"), want) {
			t.Errorf("%s: %d %s", path, code, hdr.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/", "/static", "/static/%2e%2e/templates/layout.html", "/static/..%2ftemplates%2flayout.html",
		"/static/%2e%2e%2ftemplates%2flayout.html", "/static/../templates/layout.html", "/static/.", "/static/%2e", "/templates/layout.html",
		"/static/style.css/", "/static/STYLE.CSS"} {
		code, body, hdr := f.request("GET", path, "", nil)
		// The mux answers a path with dot segments by redirecting to its
		// clean form; that must lead nowhere either.
		if code == 301 || code == 307 {
			loc := hdr.Get("Location")
			code, body, _ = f.request("GET", loc, "", nil)
			path += " → " + loc
		}
		if code != 404 || strings.Contains(body, "{{") || strings.Contains(body, "app.js") {
			t.Errorf("%s: %d %.120s", path, code, body)
		}
	}
}

// TestSecurityHeaders: nothing is sniffed, no page can be framed.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{token: testToken})
	for _, path := range []string{"/", "/notifications", "/login", "/api/v1/alarms", "/static/app.js", "/nowhere", "/metrics", "/healthz"} {
		_, _, hdr := f.request("GET", path, "", nil)
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Content-Type-Options %q, X-Frame-Options %q", path, hdr.Get("X-Content-Type-Options"), hdr.Get("X-Frame-Options"))
		}
		if strings.HasPrefix(hdr.Get("Content-Type"), "text/html") && path != "/nowhere" &&
			!strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, hdr.Get("Content-Security-Policy"))
		}
	}
}

// TestDatapointsRefusesBadInput: every bad parameter is a 400 with a
// message, never a panic, a 500 or a wrong answer.
func TestDatapointsRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, options{})
	base := "/api/v1/datapoints?metric=ComputeCapacity&dimensions=Workgroup%3Ddpc-learning"
	for q, want := range map[string]string{
		"&period=36028797018963968":               "period must be",
		"&period=9223372037":                      "period must be",
		"&period=9223372036854775807":             "period must be",
		"&period=99999999999999999999":            "period must be",
		"&period=0":                               "period must be",
		"&period=-60":                             "period must be",
		"&period=1.5":                             "period must be",
		"&period=1&range=1w":                      "more than 100000 periods",
		"&stat=pNaN":                              "stat must be",
		"&stat=p0x1p-2":                           "stat must be",
		"&stat=p1e1":                              "stat must be",
		"&stat=pInf":                              "stat must be",
		"&stat=p100":                              "stat must be",
		"&stat=" + strings.Repeat("p", 100000):    "stat must be",
		"&range=custom&from=0000-01-01T00:00:00Z": "at most",
		"&from=2026-11-27T03:00:00Z&to=2026-11-27T02:00:00Z": "must be before",
		"&range=" + strings.Repeat("z", 100000):              "range must be",
	} {
		code, body, _ := f.request("GET", base+q, "", nil)
		var e struct{ Error string }
		if code != 400 || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, want) || len(e.Error) > 300 {
			t.Errorf("%.60s: %d %.300s", q, code, body)
		}
	}
	code, body, _ := f.request("GET", "/api/v1/datapoints?metric="+strings.Repeat("M", 100000), "", nil)
	if code != 404 || len(body) > 300 {
		t.Errorf("a long unknown metric: %d, %d bytes", code, len(body))
	}
	if code, body, _ := f.request("GET", base+"&stat=p99.5&period=300", "", nil); code != 200 || !strings.Contains(body, `"statistic":"p99.5"`) {
		t.Errorf("a good query: %d %.200s", code, body)
	}
}

func FuzzAPIQuery(f *testing.F) {
	for _, seed := range []string{
		"/api/v1/datapoints?metric=ComputeCapacity&period=36028797018963968",
		"/api/v1/datapoints?metric=ComputeCapacity&stat=pNaN&range=custom&from=2026-11-27T00:00:00Z",
		"/api/v1/dashboard?range=1w",
		"/api/v1/logs?limit=1001",
		"/api/v1/deliveries?state=failed",
		"/api/v1/capacity?month=2026-13",
		"/api/v1/alarms/Alert-ELT-Delay",
		"/api/v1/incidents/1",
		"/api/v1/maintenance",
		"/?range=custom&from=2026-11-27T00:00:00%2B09:00&to=2026-11-27T01:00:00Z",
	} {
		f.Add(seed)
	}
	fx := newFixture(f, options{})
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.Parse(target)
		if err != nil || !strings.HasPrefix(u.Path, "/") || u.Host != "" || u.Scheme != "" {
			return
		}
		req, err := http.NewRequest("GET", fx.srv.URL+u.RequestURI(), nil)
		if err != nil {
			return
		}
		// net/http recovers a handler's panic by dropping the connection:
		// a transport error is how a panic shows here.
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v (did the handler panic?)", target, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %.300s", target, resp.StatusCode, body)
		}
		if strings.HasPrefix(u.Path, "/api/") && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !json.Valid(body) {
			t.Fatalf("%s: invalid JSON %.300s", target, body)
		}
	})
}

// TestSilencesAPI: adding and expiring a silence needs the token; bad
// bodies are 400 with the reason; the list shows what was added.
func TestSilencesAPI(t *testing.T) {
	f := newFixture(t, options{token: testToken})
	auth := []string{"Authorization", "Bearer " + testToken, "Content-Type", "application/json"}
	body := `{"alarm": "Alert-RPU-Spike", "duration": "2h", "comment": "monthly dbt run"}`
	if code, _, _ := f.request("POST", "/api/v1/silences", "", strings.NewReader(body), "Content-Type", "application/json"); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	for bad, want := range map[string]string{
		`{"alarm": "Alert-RPU-Spike", "comment": "x"}`:                           "needs an end",
		`{"alarm": "Alert-RPU-Spike", "duration": "-1h", "comment": "x"}`:        "positive",
		`{"alarm": "Alert-RPU-Spike", "duration": "2h"}`:                         "needs --comment",
		`{"alarm": "Alert-RPU-Spike", "duration": "2h", "comment": "x", "x": 1}`: "unknown field",
	} {
		if code, resp, _ := f.request("POST", "/api/v1/silences", "", strings.NewReader(bad), auth...); code != 400 || !strings.Contains(resp, want) {
			t.Errorf("%s: %d %s, want 400 with %q", bad, code, resp, want)
		}
	}
	code, resp, _ := f.request("POST", "/api/v1/silences", "", strings.NewReader(body), auth...)
	if code != 200 || !strings.Contains(resp, `"id":1`) {
		t.Fatalf("add: %d %s", code, resp)
	}
	if _, list, _ := f.get("/api/v1/silences", "Authorization", "Bearer "+testToken); !strings.Contains(list, `"value":"Alert-RPU-Spike"`) || !strings.Contains(list, `"comment":"monthly dbt run"`) {
		t.Errorf("list: %s", list)
	}
	if code, _, _ := f.request("POST", "/api/v1/silences/1/expire", "", nil, auth...); code != 200 {
		t.Errorf("expire: %d", code)
	}
	if code, resp, _ := f.request("POST", "/api/v1/silences/1/expire", "", nil, auth...); code != 409 || !strings.Contains(resp, "ended already") {
		t.Errorf("expire twice: %d %s", code, resp)
	}
	if code, _, _ := f.request("POST", "/api/v1/silences/9/expire", "", nil, auth...); code != 404 {
		t.Errorf("expire an unknown silence: %d", code)
	}
}

// TestSilencesPageForms: the silences page adds and expires silences
// with the token, refuses bad input with the reason, and lists them.
func TestSilencesPageForms(t *testing.T) {
	f := newFixture(t, options{token: testToken})
	form := func(path, body string, auth bool) (int, string) {
		t.Helper()
		hdr := []string{"Content-Type", "application/x-www-form-urlencoded"}
		if auth {
			hdr = append(hdr, "Authorization", "Bearer "+testToken)
		}
		code, resp, _ := f.request("POST", path, "", strings.NewReader(body), hdr...)
		return code, resp
	}
	if code, _ := form("/silences", "alarm=Alert-ELT-Delay&for=2h&comment=dbt", false); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	if code, resp := form("/silences", "alarm=Alert-ELT-Delay&for=2h", true); code != 400 || !strings.Contains(resp, "needs --comment") {
		t.Errorf("without a comment: %d %s", code, resp)
	}
	if code, resp := form("/silences", "alarm=Alert-ELT-Delay&for=soon&comment=x", true); code != 400 || !strings.Contains(resp, "duration") {
		t.Errorf("a bad duration: %d %s", code, resp)
	}
	if code, _ := form("/silences", "alarm=Alert-ELT-Delay&for=2h&comment=monthly+dbt+run", true); code != 303 {
		t.Fatalf("add: %d", code)
	}
	if _, body, _ := f.get("/silences?lang=en", "Authorization", "Bearer "+testToken); !strings.Contains(body, "alarm=Alert-ELT-Delay") || !strings.Contains(body, "monthly dbt run") {
		t.Errorf("the page does not list it: %s", between(body, "<table", "</table>"))
	}
	if code, _ := form("/silences/1/expire", "", true); code != 303 {
		t.Errorf("expire: %d", code)
	}
	if code, resp := form("/silences/1/expire", "", true); code != 409 || !strings.Contains(resp, "ended already") {
		t.Errorf("expire twice: %d %s", code, resp)
	}
}
