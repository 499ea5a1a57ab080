package awstest

import (
	"encoding/json"
	"net/http"
)

// WorkgroupState is a fake Redshift Serverless workgroup.
type WorkgroupState struct {
	Base, Max int
	// Modifying answers ConflictException to this many updates, as a
	// workgroup that is MODIFYING does.
	Modifying int
}

// Update records an UpdateWorkgroup call that the fake accepted.
type Update struct {
	Workgroup   string
	MaxCapacity int
}

// SetWorkgroup sets a fake workgroup.
func (s *Server) SetWorkgroup(name string, w WorkgroupState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[name] = &w
}

// Workgroup returns a fake workgroup's state.
func (s *Server) Workgroup(name string) WorkgroupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[name]; g != nil {
		return *g
	}
	return WorkgroupState{}
}

// Updates returns the accepted UpdateWorkgroup calls.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

// serveWorkgroup answers GetWorkgroup and UpdateWorkgroup (awsJson1.1).
func (s *Server) serveWorkgroup(w http.ResponseWriter, op string, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(status int, typ, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		fail(400, "ValidationException", err.Error())
		return
	}
	if f, ok := s.failure(op); ok {
		fail(f.Status, f.Type, "injected "+f.Type)
		return
	}
	s.record(Call{Operation: op, Body: req})
	name := str2(req["workgroupName"])
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		fail(400, "ResourceNotFoundException", "workgroup "+name+" not found")
		return
	}
	status := "AVAILABLE"
	switch op {
	case "GetWorkgroup":
		if g.Modifying > 0 {
			status = "MODIFYING"
		}
	case "UpdateWorkgroup":
		if g.Modifying > 0 {
			g.Modifying--
			fail(400, "ConflictException", "The workgroup is being modified")
			return
		}
		if v, ok := req["maxCapacity"].(float64); ok {
			g.Max = int(v)
			s.updates = append(s.updates, Update{Workgroup: name, MaxCapacity: int(v)})
		}
	default:
		fail(400, "UnknownOperationException", op)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"workgroup": map[string]any{
		"workgroupName": name, "status": status, "baseCapacity": g.Base, "maxCapacity": g.Max}})
}
