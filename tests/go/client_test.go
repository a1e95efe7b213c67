package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

// fast asks the client to retry after 1 ms instead of its backoff.
var fast = map[string]string{"retry-after-ms": "1"}

func validate(c openai.Client, opts ...option.RequestOption) (*openai.FineTuningAlphaGraderValidateResponse, error) {
	return c.FineTuning.Alpha.Graders.Validate(context.Background(), openai.FineTuningAlphaGraderValidateParams{Grader: stringCheck()}, opts...)
}

func asAPIError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want an *openai.Error", err, err)
	}
	return apiErr
}

func TestRequestsCarryBearerAuthAndJSON(t *testing.T) {
	m := startMock(t)
	res, err := validate(m.client())
	if err != nil {
		t.Fatal(err)
	}
	if res.Grader.OfStringCheckGrader == nil || res.Grader.OfStringCheckGrader.Reference != "reference" {
		t.Fatalf("the echoed grader parsed as %v", res.Grader)
	}
	req := m.expectRequests(t, 1)[0]
	if req.Method != "POST" || req.Path != "/v1/fine_tuning/alpha/graders/validate" {
		t.Fatalf("sent %s %s", req.Method, req.Path)
	}
	if req.Headers["authorization"] != "Bearer sk-test" || req.Headers["content-type"] != "application/json" {
		t.Fatalf("headers %v", req.Headers)
	}
	assertJSON(t, []byte(req.Body), string(readFixture(t, "requests/validate/003_go.json")))
}

func TestEnvironmentConfiguresTheClient(t *testing.T) {
	m := startMock(t)
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_BASE_URL", m.api)
	if _, err := validate(openai.NewClient()); err != nil {
		t.Fatal(err)
	}
	if got := m.expectRequests(t, 1)[0].Headers["authorization"]; got != "Bearer sk-from-env" {
		t.Fatalf("authorization %q", got)
	}
	// options given to NewClient win over the environment, and a call's options over both
	client := openai.NewClient(option.WithAPIKey("sk-option"))
	if _, err := validate(client); err != nil {
		t.Fatal(err)
	}
	if _, err := validate(client, option.WithAPIKey("sk-call")); err != nil {
		t.Fatal(err)
	}
	sent := m.expectRequests(t, 3)
	if sent[1].Headers["authorization"] != "Bearer sk-option" || sent[2].Headers["authorization"] != "Bearer sk-call" {
		t.Fatalf("authorization %q then %q", sent[1].Headers["authorization"], sent[2].Headers["authorization"])
	}
}

func TestMissingAPIKeyFailsBeforeSending(t *testing.T) {
	m := startMock(t)
	t.Setenv("OPENAI_API_KEY", "")
	_, err := validate(openai.NewClient(option.WithBaseURL(m.api)))
	if err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Fatalf("err = %v, want one naming OPENAI_API_KEY", err)
	}
	m.expectRequests(t, 0)
}

func TestBadOptionsFailTheCall(t *testing.T) {
	m := startMock(t)
	for _, opt := range []option.RequestOption{
		option.WithBaseURL("not a url"),
		option.WithMaxRetries(-1),
		option.WithRequestTimeout(-time.Second),
		option.WithHTTPClient(nil),
	} {
		if _, err := validate(m.client(opt)); err == nil || !strings.HasPrefix(err.Error(), "option: ") {
			t.Fatalf("err = %v, want an option error", err)
		}
	}
	m.expectRequests(t, 0)
}

func TestEmptyUnionFailsBeforeSending(t *testing.T) {
	m := startMock(t)
	_, err := m.client().FineTuning.Alpha.Graders.Validate(context.Background(), openai.FineTuningAlphaGraderValidateParams{})
	if err == nil || !strings.Contains(err.Error(), "no member is set") {
		t.Fatalf("err = %v", err)
	}
	m.expectRequests(t, 0)
}

func TestRetryableStatusesAreRetried(t *testing.T) {
	for _, status := range []int{408, 409, 429, 500, 502, 503} {
		m := startMock(t)
		m.enqueue(t, scripted{"status": status, "headers": fast})
		if _, err := validate(m.client()); err != nil {
			t.Fatalf("after a %d: %v", status, err)
		}
		m.expectRequests(t, 2)
	}
}

func TestTwoRetriesThenTheError(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 500, "headers": fast}, scripted{"status": 503, "headers": fast})
	if _, err := validate(m.client()); err != nil {
		t.Fatalf("two failures then success: %v", err)
	}
	m.expectRequests(t, 3)

	m = startMock(t)
	for range 3 {
		m.enqueue(t, scripted{"status": 429, "headers": fast})
	}
	m.enqueue(t, scripted{"status": 200}) // never reached: the default is two retries
	_, err := validate(m.client())
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("error %+v", apiErr)
	}
	m.expectRequests(t, 3)
}

func TestMaxRetriesOption(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 500, "headers": fast}, scripted{"status": 500, "headers": fast})
	_, err := validate(m.client(option.WithMaxRetries(0)))
	if asAPIError(t, err).StatusCode != 500 {
		t.Fatal(err)
	}
	m.expectRequests(t, 1)
	// a call's option overrides the client's
	if _, err := validate(m.client(option.WithMaxRetries(0)), option.WithMaxRetries(1)); err != nil {
		t.Fatal(err)
	}
	m.expectRequests(t, 3)
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	m := startMock(t)
	body := readFixture(t, "errors/400_invalid_grader.json")
	m.enqueue(t, scripted{"status": 400, "body": json.RawMessage(body)})
	_, err := validate(m.client())
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 400 || apiErr.Code != "invalid_request_body" || apiErr.Param != "/grader/operation" ||
		apiErr.Type != "invalid_request_error" || !strings.HasPrefix(apiErr.Message, "Invalid request body at /grader/operation") {
		t.Fatalf("error %+v", apiErr)
	}
	if !jsonEqual(t, apiErr.Body, body) || apiErr.Header.Get("x-request-id") != "req_mock_1" {
		t.Fatalf("body %s, headers %v", apiErr.Body, apiErr.Header)
	}
	if !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "invalid_request_body") {
		t.Fatalf("message %q", err)
	}
	m.expectRequests(t, 1)
}

func TestErrorEnvelopes(t *testing.T) {
	var entries []struct {
		File   string `json:"file"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(readFixture(t, "errors/index.json"), &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.File, func(t *testing.T) {
			m := startMock(t)
			body := readFixture(t, e.File)
			var want struct {
				Error struct {
					Code    *string `json:"code"`
					Message string  `json:"message"`
					Param   *string `json:"param"`
					Type    string  `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatal(err)
			}
			m.enqueue(t, scripted{"status": e.Status, "body": json.RawMessage(body)})
			_, err := validate(m.client(option.WithMaxRetries(0)))
			apiErr := asAPIError(t, err)
			orEmpty := func(s *string) string {
				if s == nil {
					return ""
				}
				return *s
			}
			if apiErr.StatusCode != e.Status || apiErr.Code != orEmpty(want.Error.Code) || apiErr.Message != want.Error.Message ||
				apiErr.Param != orEmpty(want.Error.Param) || apiErr.Type != want.Error.Type {
				t.Fatalf("error %+v, want %+v", apiErr, want.Error)
			}
		})
	}
}

func TestTheMockRejectsAnInvalidGrader(t *testing.T) {
	m := startMock(t)
	grader := stringCheck()
	grader.OfStringCheckGrader.Operation = "gt"
	_, err := m.client().FineTuning.Alpha.Graders.Validate(context.Background(), openai.FineTuningAlphaGraderValidateParams{Grader: grader})
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 400 || apiErr.Param != "/grader/operation" {
		t.Fatalf("error %+v", apiErr)
	}
}

func TestAnswersWithoutAnEnvelope(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 404, "body": "<html>gone</html>", "headers": map[string]string{"content-type": "text/html"}})
	_, err := validate(m.client())
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 404 || string(apiErr.Body) != "<html>gone</html>" || apiErr.Code != "" {
		t.Fatalf("error %+v", apiErr)
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"disconnect": true})
	if _, err := validate(m.client()); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}
	m.expectRequests(t, 2)

	m = startMock(t)
	m.enqueue(t, scripted{"disconnect": true}, scripted{"disconnect": true})
	_, err := validate(m.client(option.WithMaxRetries(1)))
	var apiErr *openai.Error
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a connection error", err)
	}
	m.expectRequests(t, 2)
}

func TestRequestTimeout(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 200, "delay": 2})
	start := time.Now()
	_, err := validate(m.client(option.WithRequestTimeout(200*time.Millisecond), option.WithMaxRetries(0)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 1500*time.Millisecond {
		t.Fatalf("gave up after %v", elapsed)
	}

	// a timed-out attempt is retried
	m = startMock(t)
	m.enqueue(t, scripted{"status": 200, "delay": 2})
	if _, err := validate(m.client(option.WithRequestTimeout(300 * time.Millisecond))); err != nil {
		t.Fatalf("a retry after a timeout failed: %v", err)
	}
	m.expectRequests(t, 2)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 429, "headers": map[string]string{"retry-after-ms": "400"}})
	start := time.Now()
	if _, err := validate(m.client()); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Fatalf("retried after %v, before the 400 ms the API asked for", elapsed)
	}
}

func TestCancellingStopsRetrying(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 503, "headers": map[string]string{"retry-after": "30"}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.client().FineTuning.Alpha.Graders.Validate(ctx, openai.FineTuningAlphaGraderValidateParams{Grader: stringCheck()})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	m.expectRequests(t, 1)
}

func TestUnknownGraderInAnAnswer(t *testing.T) {
	m := startMock(t)
	future := `{"type": "regex_check", "name": "r", "pattern": "a+"}`
	m.enqueue(t, scripted{"status": 200, "body": json.RawMessage(`{"grader": ` + future + `, "warnings": []}`)})
	res, err := validate(m.client())
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, res.Grader.Unknown, future)
	assertJSON(t, res.ExtraFields["warnings"], `[]`)
}

func TestRunAnswerParses(t *testing.T) {
	m := startMock(t)
	m.enqueue(t, scripted{"status": 200, "body": json.RawMessage(readFixture(t, "responses/run/002_score_model_live.json"))})
	res, err := m.client().FineTuning.Alpha.Graders.Run(context.Background(), openai.FineTuningAlphaGraderRunParams{
		Grader:      openai.FineTuningAlphaGraderRunParamsGraderUnion(stringCheck()),
		ModelSample: "model_sample",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reward != 1 || res.Metadata.TokenUsage.OfModelTokenUsage == nil || res.Metadata.Errors.ModelGraderServerErrorDetails != nil {
		t.Fatalf("answer %+v", res)
	}
	assertJSON(t, mustMarshal(t, res), string(readFixture(t, "responses/run/002_score_model_live.json")))
}
