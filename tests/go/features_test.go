package openai_test

// The client's features beside the calls (issue 14), asserted on what reached the mock API:
// option.WithJSONSet, option.WithQuery, option.WithResponseInto, per-call options, User-Agent, one
// Idempotency-Key for every attempt of a call, and the request id of an answer and of an error.

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

func TestUserAgentNamesTheModuleVersionAndGo(t *testing.T) {
	m := startMock(t)
	if _, err := validate(m.client()); err != nil {
		t.Fatal(err)
	}
	want := "openai-go/1.0.0 go/" + strings.TrimPrefix(runtime.Version(), "go")
	if got := m.expectRequests(t, 1)[0].Headers["user-agent"]; got != want {
		t.Fatalf("User-Agent %q, want %q", got, want)
	}
}

func TestOneIdempotencyKeyForEveryAttemptOfACall(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 500, "headers": fast}, scripted{"status": 429, "headers": fast})
	c := m.client()
	for range 2 {
		if _, err := validate(c); err != nil {
			t.Fatal(err)
		}
	}
	reqs := m.expectRequests(t, 4)
	keys := make([]string, len(reqs))
	for i, r := range reqs {
		keys[i] = r.Headers["idempotency-key"]
		if !regexp.MustCompile(`^gradergen-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(keys[i]) {
			t.Fatalf("idempotency key %q", keys[i])
		}
	}
	if keys[0] != keys[1] || keys[1] != keys[2] || keys[2] == keys[3] {
		t.Fatalf("keys %v: want one per call, kept across its retries", keys)
	}
}

func TestAKeyOfTheCallersOwnIsSent(t *testing.T) {
	m := startMock(t)
	if _, err := validate(m.client(), option.WithHeader("Idempotency-Key", "mine"), option.WithHeader("X-Trace", "t-1")); err != nil {
		t.Fatal(err)
	}
	req := m.expectRequests(t, 1)[0]
	if req.Headers["idempotency-key"] != "mine" || req.Headers["x-trace"] != "t-1" {
		t.Fatalf("headers %v", req.Headers)
	}
}

func TestWithJSONSetOverridesAndAddsBodyProperties(t *testing.T) {
	m := startMock(t)
	_, err := m.client().FineTuning.Alpha.Graders.Run(context.Background(),
		openai.FineTuningAlphaGraderRunParams{
			Grader:      openai.FineTuningAlphaGraderRunParamsGraderUnion{OfStringCheckGrader: stringCheck().OfStringCheckGrader},
			ModelSample: "s",
		},
		option.WithJSONSet("model_sample", "overridden"),
		option.WithJSONSet("metadata.team", "evals"),
		option.WithJSONSet("metadata.tags", []string{"a", "<b>"}),
		option.WithQuery("dry_run", "1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	req := m.expectRequests(t, 1)[0]
	if req.Path != "/v1/fine_tuning/alpha/graders/run?dry_run=1" {
		t.Fatalf("path %q", req.Path)
	}
	assertJSON(t, []byte(req.Body), `{"grader": {"input": "input", "name": "name", "operation": "eq",
		"reference": "reference", "type": "string_check"}, "model_sample": "overridden",
		"metadata": {"team": "evals", "tags": ["a", "<b>"]}}`)
}

func TestWithJSONSetRefusesAnEmptyKey(t *testing.T) {
	m := startMock(t)
	_, err := validate(m.client(), option.WithJSONSet("metadata..team", 1))
	if err == nil || !strings.Contains(err.Error(), `WithJSONSet("metadata..team")`) {
		t.Fatalf("err = %v", err)
	}
	m.expectRequests(t, 0)
}

func TestWithResponseIntoGivesTheRawAnswer(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 503, "headers": fast})
	var raw *http.Response
	res, err := validate(m.client(), option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if raw == nil || raw.StatusCode != 200 || raw.Header.Get("X-Request-Id") != "req_mock_2" {
		t.Fatalf("raw answer %+v", raw)
	}
	body, err := io.ReadAll(raw.Body)
	if err != nil || !strings.Contains(string(body), `"string_check"`) || res.Grader.OfStringCheckGrader == nil {
		t.Fatalf("raw body %q (%v)", body, err)
	}
}

func TestAnErrorCarriesTheRequestIDAndTheRawAnswer(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 400})
	var raw *http.Response
	_, err := validate(m.client(), option.WithResponseInto(&raw))
	apiErr := asAPIError(t, err)
	if apiErr.RequestID() != "req_mock_1" || raw == nil || raw.StatusCode != 400 {
		t.Fatalf("request id %q, raw %+v", apiErr.RequestID(), raw)
	}
}

func TestPerCallOptionsApplyToThatCallOnly(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 200, "delay": 1.0})
	c := m.client()
	started := time.Now()
	_, err := validate(c, option.WithRequestTimeout(200*time.Millisecond), option.WithMaxRetries(0))
	if err == nil || time.Since(started) > 900*time.Millisecond {
		t.Fatalf("err = %v after %v, want a timeout after 200 ms", err, time.Since(started))
	}
	m.enqueue(t, scripted{"status": 500, "headers": fast})
	if _, err := validate(c); err != nil { // the client's own retries again
		t.Fatal(err)
	}
	m.expectRequests(t, 3)
}
