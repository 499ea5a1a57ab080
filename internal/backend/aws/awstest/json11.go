package awstest

import (
	"encoding/json"
	"net/http"
)

// reply11 is one awsJson1.1 exchange: the Data API and CloudWatch Logs
// speak the same protocol, and an error is a 400 whose body names the
// error shape in __type, which the SDK turns into its typed error.
type reply11 struct {
	w http.ResponseWriter
}

func newReply11(w http.ResponseWriter) reply11 {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	return reply11{w: w}
}

func (r reply11) fail(status int, typ, msg string) {
	r.w.WriteHeader(status)
	json.NewEncoder(r.w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (r reply11) ok(v any) {
	json.NewEncoder(r.w).Encode(v)
}

// decode11 reads a request into its typed form and into a map for Calls;
// a body that is not JSON is the caller's fault, as AWS says with
// SerializationException.
func decode11(r reply11, body []byte, into any) (map[string]any, bool) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		r.fail(http.StatusBadRequest, "SerializationException", err.Error())
		return nil, false
	}
	if err := json.Unmarshal(body, into); err != nil {
		r.fail(http.StatusBadRequest, "SerializationException", err.Error())
		return nil, false
	}
	return m, true
}
