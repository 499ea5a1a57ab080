package notifytest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// SNS is a local Amazon SNS endpoint for Publish over the awsQuery
// protocol that aws-sdk-go-v2's SNS client speaks: a form-encoded POST
// (Action=Publish, Version=2010-03-31) answered with XML.
type SNS struct {
	*Receiver

	mu        sync.Mutex
	published []Published
	fail      func(n int) (status int, code, message string)
}

// Published is one accepted Publish call.
type Published struct {
	TopicArn               string
	Subject                string
	Message                string
	Attributes             map[string]string
	MessageGroupID         string
	MessageDeduplicationID string
	// Signed is set when the request carried a SigV4 Authorization.
	Signed bool
}

// NewSNS starts the endpoint. fail, when not nil, may turn Publish call
// n (1-based) into an error answer: status, error code and message.
func NewSNS(t testing.TB, fail func(n int) (status int, code, message string)) *SNS {
	s := &SNS{fail: fail}
	s.Receiver = NewReceiver(t, s.answer)
	return s
}

func (s *SNS) answer(r Request, n int) Reply {
	form, err := url.ParseQuery(string(r.Body))
	if err != nil || r.Method != http.MethodPost || form.Get("Version") != "2010-03-31" {
		return queryError(http.StatusBadRequest, "MalformedQueryString", "not an SNS query request")
	}
	if form.Get("Action") != "Publish" {
		return queryError(http.StatusBadRequest, "InvalidAction", "only Publish is served here")
	}
	if s.fail != nil {
		if status, code, msg := s.fail(n); status != 0 {
			return queryError(status, code, msg)
		}
	}
	p := Published{
		TopicArn: form.Get("TopicArn"), Subject: form.Get("Subject"), Message: form.Get("Message"),
		Attributes: map[string]string{}, MessageGroupID: form.Get("MessageGroupId"),
		MessageDeduplicationID: form.Get("MessageDeduplicationId"),
		Signed:                 strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "),
	}
	if p.TopicArn == "" || p.Message == "" {
		return queryError(http.StatusBadRequest, "InvalidParameter", "TopicArn and Message are required")
	}
	for i := 1; ; i++ {
		name := form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i))
		if name == "" {
			break
		}
		p.Attributes[name] = form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Value.StringValue", i))
	}
	s.mu.Lock()
	s.published = append(s.published, p)
	id := len(s.published)
	s.mu.Unlock()
	return Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/xml"}, Body: fmt.Sprintf(
		`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>msg-%d</MessageId></PublishResult>`+
			`<ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></PublishResponse>`, id, id)}
}

func queryError(status int, code, msg string) Reply {
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	return Reply{Status: status, Header: map[string]string{"Content-Type": "text/xml"}, Body: fmt.Sprintf(
		`<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>`+
			`<RequestId>req-err</RequestId></ErrorResponse>`, kind, code, msg)}
}

// Published returns the accepted Publish calls so far.
func (s *SNS) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.published...)
}
