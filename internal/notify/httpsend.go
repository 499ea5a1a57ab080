package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxReadBody bounds how much of an answer is read; the rest is dropped.
const maxReadBody = 64 << 10

// NewHTTPClient returns the client of one HTTP channel: every request is
// bounded by timeout, and redirects are not followed, because a receiver
// that redirects a webhook is misconfigured and following it would turn
// the POST into a GET that reports a false success. tlsConfig may be nil.
func NewHTTPClient(timeout time.Duration, tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		// Each transport gets its own copy: HTTP/2 set-up writes to it.
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Post sends one request of an HTTP integration and classifies the
// answer: 2xx delivered; 408, 425, 429 and 5xx retry (429 with its
// Retry-After); any other answer fails for good. Transport errors retry.
// The answer is recorded in d.Answer; errors and the answer's body have
// every one of secrets removed, and never show the request URL.
func Post(ctx context.Context, client *http.Client, req *http.Request, d *Delivery, secrets ...string) (retry bool, err error) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return true, transportError(d.Channel, req, err, secrets)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReadBody))
	// Drain what is left so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReadBody))
	d.Answer = Answer{
		Status: resp.StatusCode,
		// Scrubbed before it is cut: a cut through a secret would leave a
		// prefix the scrubber no longer knows.
		Body: Truncate(ScrubString(strings.TrimSpace(string(body)), secrets...), MaxAnswerBody),
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		d.Answer.RetryAfter = retryAfter(resp)
	}
	return RetryableStatus(resp.StatusCode), &ReceiverError{Channel: d.Channel, Status: resp.StatusCode, Body: d.Answer.Body}
}

// PostJSON posts a JSON body to url, as dpcops, with the extra headers,
// and answers as Post does. urlKey names the channel's URL key for the
// error a URL that cannot be parsed gives (the URL itself is a secret).
func PostJSON(ctx context.Context, client *http.Client, d *Delivery, channel, urlKey, url string, body []byte, header http.Header, secrets ...string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, errors.New(channel + ": " + urlKey + " is not a valid URL")
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "dpcops")
	return Post(ctx, client, req, d, secrets...)
}

// retryAfter reads Retry-After; a date is taken relative to the answer's
// own Date header when it has one, so that the two clocks need not agree.
func retryAfter(resp *http.Response) time.Duration {
	now := time.Now()
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = t
	}
	return ParseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// transportError describes a failed request without its URL: net/http
// errors quote the whole URL, and a Slack or webhook URL is a secret.
func transportError(channel string, req *http.Request, err error, secrets []string) error {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	target := req.URL.Scheme + "://" + req.URL.Host
	var msg string
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		msg = fmt.Sprintf("%s: %s %s: timed out", channel, req.Method, target)
	case errors.Is(err, context.Canceled):
		msg = fmt.Sprintf("%s: %s %s: canceled", channel, req.Method, target)
	default:
		msg = fmt.Sprintf("%s: %s %s: %v", channel, req.Method, target, cause)
	}
	return errors.New(ScrubString(msg, append(secrets, req.URL.String(), req.URL.Path, req.URL.RawQuery)...))
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
