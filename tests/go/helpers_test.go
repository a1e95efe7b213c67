// Shared helpers of the Go suite: JSON comparison, fixtures, and the mock server's control API.
// Run through tests/test_go.py, which builds this package against freshly generated code and sets
// MOCK_URL and GRADERGEN_FIXTURES.
package openai_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

// jsonEqual compares two JSON documents as the Python harness does: numbers by value (1 == 1.0),
// true is not 1, null is not absent, key order does not matter.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	return valueEqual(decodeJSON(t, a), decodeJSON(t, b))
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return v
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, _, errX := big.ParseFloat(x.String(), 10, 200, big.ToNearestEven)
		fy, _, errY := big.ParseFloat(y.String(), 10, 200, big.ToNearestEven)
		return errX == nil && errY == nil && fx.Cmp(fy) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, present := y[k]
			if !present || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b // strings, booleans and nil; a bool never equals a json.Number
	}
}

// assertJSON fails unless got and want are equal JSON documents.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	if !jsonEqual(t, got, []byte(want)) {
		t.Fatalf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

func mustUnmarshal(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("unmarshal into %T: %v", v, err)
	}
}

// fixturesDir is tests/fixtures.
func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GRADERGEN_FIXTURES")
	if dir == "" {
		t.Fatal("GRADERGEN_FIXTURES is not set: run this suite through tests/test_go.py")
	}
	return dir
}

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mockServer drives tests/mock_server.py over its control API.
type mockServer struct {
	api  string // the API's base URL, .../v1
	root string // where /__mock/ lives
}

type recordedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// scripted is one queued answer: {"status", "body", "delay", "headers", "disconnect"}.
type scripted map[string]any

func startMock(t *testing.T) mockServer {
	t.Helper()
	api := os.Getenv("MOCK_URL")
	if api == "" {
		t.Fatal("MOCK_URL is not set: run this suite through tests/test_go.py")
	}
	m := mockServer{api: api, root: strings.TrimSuffix(api, "/v1")}
	m.control(t, "POST", "/__mock/reset", nil, nil)
	t.Cleanup(func() { m.control(t, "POST", "/__mock/reset", nil, nil) })
	return m
}

func (m mockServer) control(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var payload []byte
	if body != nil {
		payload = mustMarshal(t, body)
	}
	req, err := http.NewRequest(method, m.root+path, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mock control %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mock control %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

func (m mockServer) enqueue(t *testing.T, answers ...scripted) {
	t.Helper()
	for _, a := range answers {
		m.control(t, "POST", "/__mock/enqueue", a, nil)
	}
}

func (m mockServer) requests(t *testing.T) []recordedRequest {
	t.Helper()
	var out []recordedRequest
	m.control(t, "GET", "/__mock/requests", nil, &out)
	return out
}

// client is a client of the mock with a fixed key, fast to give up unless opts say otherwise.
func (m mockServer) client(opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(m.api),
		option.WithAPIKey("sk-test"),
	}, opts...)...)
}

func (m mockServer) expectRequests(t *testing.T, n int) []recordedRequest {
	t.Helper()
	got := m.requests(t)
	if len(got) != n {
		t.Fatalf("the mock recorded %d requests, want %d", len(got), n)
	}
	return got
}

// stringCheck is the grader of the documented examples.
func stringCheck() openai.FineTuningAlphaGraderValidateParamsGraderUnion {
	return openai.FineTuningAlphaGraderValidateParamsGraderUnion{
		OfStringCheckGrader: &openai.StringCheckGraderParam{
			Input:     "input",
			Name:      "name",
			Operation: openai.StringCheckGraderOperationEq,
			Reference: "reference",
		},
	}
}
