package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

// Against `gradergen serve` (SERVER_URL, SERVER_API_KEY, set by tests/test_go.py): a run and a validate
// of every grader type in fixtures/server/every_grader_type.json, and the error of an invalid grader.

type serverCase struct {
	Name                  string             `json:"name"`
	Body                  json.RawMessage    `json:"body"`
	Reward                float64            `json:"reward"`
	Flags                 []string           `json:"flags"`
	SubRewards            map[string]float64 `json:"sub_rewards"`
	SampledModelName      string             `json:"sampled_model_name"`
	RuntimeDetailsContain string             `json:"runtime_details_contain"`
}

type invalidCase struct {
	Body            json.RawMessage `json:"body"`
	Status          int             `json:"status"`
	Code            string          `json:"code"`
	Param           string          `json:"param"`
	MessageContains string          `json:"message_contains"`
}

type serverCases struct {
	Cases          []serverCase `json:"cases"`
	Invalid        invalidCase  `json:"invalid"`
	InvalidFormula invalidCase  `json:"invalid_formula"`
}

func serverClient(t *testing.T) openai.Client {
	t.Helper()
	url, key := os.Getenv("SERVER_URL"), os.Getenv("SERVER_API_KEY")
	if url == "" || key == "" {
		t.Fatal("SERVER_URL and SERVER_API_KEY are not set: run this suite through tests/test_go.py")
	}
	return openai.NewClient(option.WithBaseURL(url), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func TestServerRunsAndValidatesEveryGraderType(t *testing.T) {
	client := serverClient(t)
	var cases serverCases
	mustUnmarshal(t, string(readFixture(t, "server/every_grader_type.json")), &cases)
	for _, c := range cases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var params openai.FineTuningAlphaGraderRunParams
			mustUnmarshal(t, string(c.Body), &params)
			res, err := client.FineTuning.Alpha.Graders.Run(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.Reward-c.Reward) > 1e-12 {
				t.Fatalf("reward %v, want %v", res.Reward, c.Reward)
			}
			var got struct {
				Metadata struct {
					Errors           map[string]any `json:"errors"`
					SampledModelName *string        `json:"sampled_model_name"`
				} `json:"metadata"`
				SubRewards map[string]float64 `json:"sub_rewards"`
			}
			mustUnmarshal(t, string(mustMarshal(t, res)), &got)
			flags := []string{}
			for name, value := range got.Metadata.Errors {
				if value == true {
					flags = append(flags, name)
				}
			}
			sort.Strings(flags)
			if strings.Join(flags, ",") != strings.Join(c.Flags, ",") {
				t.Fatalf("flags %v, want %v", flags, c.Flags)
			}
			if len(got.SubRewards) != len(c.SubRewards) {
				t.Fatalf("sub_rewards %v, want %v", got.SubRewards, c.SubRewards)
			}
			for key, want := range c.SubRewards {
				if math.Abs(got.SubRewards[key]-want) > 1e-12 {
					t.Fatalf("sub_rewards %v, want %v", got.SubRewards, c.SubRewards)
				}
			}
			if c.SampledModelName != "" && (got.Metadata.SampledModelName == nil || *got.Metadata.SampledModelName != c.SampledModelName) {
				t.Fatalf("sampled_model_name %v, want %q", got.Metadata.SampledModelName, c.SampledModelName)
			}
			if c.RuntimeDetailsContain != "" {
				details, _ := got.Metadata.Errors["python_grader_runtime_error_details"].(string)
				if !strings.Contains(details, c.RuntimeDetailsContain) {
					t.Fatalf("runtime details %q lack %q", details, c.RuntimeDetailsContain)
				}
			}

			var body struct {
				Grader json.RawMessage `json:"grader"`
			}
			mustUnmarshal(t, string(c.Body), &body)
			var validate openai.FineTuningAlphaGraderValidateParams
			mustUnmarshal(t, `{"grader": `+string(body.Grader)+`}`, &validate)
			checked, err := client.FineTuning.Alpha.Graders.Validate(context.Background(), validate)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, mustMarshal(t, checked.Grader), string(body.Grader))
		})
	}
}

func TestServerRefusesAnInvalidGrader(t *testing.T) {
	client := serverClient(t)
	var cases serverCases
	mustUnmarshal(t, string(readFixture(t, "server/every_grader_type.json")), &cases)
	// The Go module sends an operation outside the enum as it is: the server refuses both.
	for name, want := range map[string]invalidCase{"enum": cases.Invalid, "formula": cases.InvalidFormula} {
		t.Run(name, func(t *testing.T) {
			var params openai.FineTuningAlphaGraderValidateParams
			mustUnmarshal(t, string(want.Body), &params)
			_, err := client.FineTuning.Alpha.Graders.Validate(context.Background(), params)
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err %v is not an *openai.Error", err)
			}
			if apiErr.StatusCode != want.Status || apiErr.Code != want.Code || apiErr.Param != want.Param {
				t.Fatalf("got %d %q %q, want %d %q %q", apiErr.StatusCode, apiErr.Code, apiErr.Param, want.Status, want.Code, want.Param)
			}
			if !strings.Contains(apiErr.Message, want.MessageContains) || apiErr.Type != "invalid_request_error" {
				t.Fatalf("message %q, type %q", apiErr.Message, apiErr.Type)
			}
		})
	}
}
