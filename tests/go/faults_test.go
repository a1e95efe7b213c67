// The client against a misbehaving server (tests/fault_server.py, at FAULT_URL): the timeout is one
// deadline for the whole attempt, the answer's size is bounded, and every failure is one of the
// package's error types. A test that hangs fails at the suite's -test.timeout.
package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

// defaultLimit is the documented default of option.WithMaxResponseBytes.
const defaultLimit = 32 * 1024 * 1024

// The fault server's valid validate answer around its padded grader name (fault_server.ANSWER_HEAD/TAIL).
const (
	answerHead = `{"grader":{"input":"input","name":"`
	answerTail = `","operation":"eq","reference":"reference","type":"string_check"}}`
)

func faultURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("FAULT_URL")
	if url == "" {
		t.Fatal("FAULT_URL is not set: run this suite through tests/test_go.py")
	}
	return url
}

// faultClient is a client of one scenario: a 10 s timeout and no retries unless opts say otherwise.
func faultClient(t *testing.T, base string, opts ...option.RequestOption) openai.Client {
	t.Helper()
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(faultURL(t) + base),
		option.WithAPIKey("sk-test"),
		option.WithRequestTimeout(10 * time.Second),
		option.WithMaxRetries(0),
	}, opts...)...)
}

// faultHits is how many requests the fault server got for a base path.
func faultHits(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(faultURL(t) + "/__fault/hits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hits map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&hits); err != nil {
		t.Fatal(err)
	}
	return hits[base]
}

// uniqueBase keeps the hit counts of repeated runs apart.
func uniqueBase(scenario string, t *testing.T) string {
	return scenario + "/" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func asConnectionError(t *testing.T, err error) *openai.ConnectionError {
	t.Helper()
	var connErr *openai.ConnectionError
	if !errors.As(err, &connErr) {
		t.Fatalf("err = %v (%T), want an *openai.ConnectionError", err, err)
	}
	return connErr
}

func TestANeverAnsweringServerTimesOut(t *testing.T) {
	_, err := validate(faultClient(t, "/never-answers", option.WithRequestTimeout(time.Second)))
	if connErr := asConnectionError(t, err); !connErr.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestADrippedBodyTimesOut(t *testing.T) {
	// one byte every 100 ms: the whole body would take ~10 s
	base := uniqueBase("/slow-drip/100", t)
	_, err := validate(faultClient(t, base, option.WithRequestTimeout(time.Second), option.WithMaxRetries(1)))
	if connErr := asConnectionError(t, err); !connErr.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if hits := faultHits(t, base); hits != 2 {
		t.Fatalf("the server saw %d attempts, want 2: each attempt has its own deadline", hits)
	}
}

func TestADripThatEndsInTimeSucceeds(t *testing.T) {
	response, err := validate(faultClient(t, "/slow-drip/5", option.WithRequestTimeout(20*time.Second)))
	if err != nil || response.Grader.OfStringCheckGrader == nil {
		t.Fatalf("response %+v, err %v", response, err)
	}
}

func TestAResetMidBodyIsAConnectionError(t *testing.T) {
	base := uniqueBase("/reset-mid-body", t)
	_, err := validate(faultClient(t, base, option.WithMaxRetries(1)))
	if connErr := asConnectionError(t, err); connErr.Timeout() {
		t.Fatalf("err = %v, want a broken connection, not a timeout", err)
	}
	if hits := faultHits(t, base); hits != 2 {
		t.Fatalf("the server saw %d attempts, want 2", hits)
	}
}

func TestInvalidJSONIsAnInvalidResponseError(t *testing.T) {
	base := uniqueBase("/invalid-json", t)
	_, err := validate(faultClient(t, base, option.WithMaxRetries(2)))
	var invalid *openai.InvalidResponseError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v (%T), want an *openai.InvalidResponseError", err, err)
	}
	if invalid.StatusCode != 200 || string(invalid.Body) != `{"grader": {"type": "string_check", "name": ` {
		t.Fatalf("error %+v", invalid)
	}
	if hits := faultHits(t, base); hits != 1 {
		t.Fatalf("the server saw %d attempts, want 1: a bad answer is not retried", hits)
	}
}

func TestTheWrongShapeIsAnInvalidResponseError(t *testing.T) {
	_, err := validate(faultClient(t, "/wrong-shape"))
	var invalid *openai.InvalidResponseError
	if !errors.As(err, &invalid) || string(invalid.Body) != "[1, 2, 3]" {
		t.Fatalf("err = %v (%T), want an *openai.InvalidResponseError with the body", err, err)
	}
}

func TestAnOversizedBodyIsRefusedAtTheDefaultLimit(t *testing.T) {
	for _, scenario := range []string{"/oversized", "/oversized-declared"} {
		t.Run(scenario, func(t *testing.T) {
			base := uniqueBase(scenario, t)
			_, err := validate(faultClient(t, base, option.WithRequestTimeout(30*time.Second), option.WithMaxRetries(2)))
			var tooLarge *openai.ResponseTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("err = %v (%T), want an *openai.ResponseTooLargeError", err, err)
			}
			if tooLarge.Limit != defaultLimit || tooLarge.StatusCode != 200 || !strings.HasSuffix(tooLarge.URL, "/validate") {
				t.Fatalf("error %+v", tooLarge)
			}
			if hits := faultHits(t, base); hits != 1 {
				t.Fatalf("the server saw %d attempts, want 1", hits)
			}
		})
	}
}

func TestTheLimitIsConfigurableAndInclusive(t *testing.T) {
	const size = 4096
	base := "/json-of-size/" + strconv.Itoa(size)
	if _, err := validate(faultClient(t, base, option.WithMaxResponseBytes(size))); err != nil {
		t.Fatalf("an answer of exactly the limit: %v", err)
	}
	_, err := validate(faultClient(t, base, option.WithMaxResponseBytes(size-1)))
	var tooLarge *openai.ResponseTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Limit != size-1 {
		t.Fatalf("err = %v (%T), want an *openai.ResponseTooLargeError", err, err)
	}
	if _, err := validate(faultClient(t, base, option.WithMaxResponseBytes(0))); err == nil {
		t.Fatal("a limit of 0 bytes was accepted")
	}
}

func TestAStringOf25MBParses(t *testing.T) {
	const size = 25_000_000
	response, err := validate(faultClient(t, "/json-of-size/"+strconv.Itoa(size), option.WithRequestTimeout(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	name := response.Grader.OfStringCheckGrader.Name
	if want := size - len(answerHead) - len(answerTail); len(name) != want || strings.Trim(name, "x") != "" {
		t.Fatalf("the name has %d characters, want %d", len(name), want)
	}
}

func TestAHugeRetryAfterIsCapped(t *testing.T) {
	// Retry-After: 99999 is past the one-minute cap, so the client waits its usual backoff and tries again
	base := uniqueBase("/retry-after-huge", t)
	if _, err := validate(faultClient(t, base, option.WithMaxRetries(1))); err != nil {
		t.Fatal(err)
	}
	if hits := faultHits(t, base); hits != 2 {
		t.Fatalf("the server saw %d attempts, want 2", hits)
	}

	base = uniqueBase("/retry-after-huge", t)
	_, err := validate(faultClient(t, base))
	if apiErr := asAPIError(t, err); apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("error %+v", apiErr)
	}
}

func TestARetryAfterDateIsWaitedFor(t *testing.T) {
	// 3 s ahead in whole seconds: the wait is over 2 s, where the first backoff is at most 0.5 s
	base := uniqueBase("/retry-after-date/3", t)
	began := time.Now()
	if _, err := validate(faultClient(t, base, option.WithMaxRetries(1))); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(began)
	if hits := faultHits(t, base); hits != 2 {
		t.Fatalf("the server saw %d attempts, want 2", hits)
	}
	if waited < 1900*time.Millisecond || waited >= 10*time.Second {
		t.Fatalf("waited %v, want the 2-3 s the date asks for", waited)
	}
}

func TestAnHTMLErrorPageIsABadRequest(t *testing.T) {
	_, err := validate(faultClient(t, "/html-400"))
	apiErr := asAPIError(t, err)
	if apiErr.StatusCode != 400 || !strings.HasPrefix(string(apiErr.Body), "<html>") || apiErr.Code != "" {
		t.Fatalf("error %+v", apiErr)
	}
}

func TestAGzipBodyThatDoesNotDecodeIsAConnectionError(t *testing.T) {
	base := uniqueBase("/corrupt-gzip", t)
	_, err := validate(faultClient(t, base, option.WithMaxRetries(1)))
	if connErr := asConnectionError(t, err); connErr.Timeout() || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("err = %v, want a gzip body that does not decode, not a timeout", err)
	}
	if hits := faultHits(t, base); hits != 2 {
		t.Fatalf("the server saw %d attempts, want 2: retried like a broken connection", hits)
	}
}

func TestAnAnswerNested500DeepParses(t *testing.T) {
	response, err := validate(faultClient(t, "/deep-json/500"))
	if err != nil || response.Grader.OfStringCheckGrader == nil {
		t.Fatalf("response %+v, err %v", response, err)
	}
	deep := string(response.Grader.OfStringCheckGrader.ExtraFields["deep"])
	if want := strings.Repeat("[", 500) + strings.Repeat("]", 500); deep != want {
		t.Fatalf("deep = %.40q..., want 500 nested empty arrays", deep)
	}
}
