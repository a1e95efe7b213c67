package openai_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go"
)

// noErrors is a run response's metadata.errors when nothing went wrong, as the live 002 response has it.
const noErrors = `{"formula_parse_error": false, "invalid_variable_error": false, "model_grader_parse_error": false,
	"model_grader_refusal_error": false, "model_grader_server_error": false, "model_grader_server_error_details": null,
	"other_error": false, "python_grader_runtime_error": false, "python_grader_runtime_error_details": null,
	"python_grader_server_error": false, "python_grader_server_error_type": null, "sample_parse_error": false,
	"truncated_observation_error": false, "unresponsive_reward_error": false}`

// roundTrip parses data into a new T, writes it back, and fails unless the JSON is unchanged.
func roundTrip[T any](t *testing.T, data string) *T {
	t.Helper()
	v := new(T)
	mustUnmarshal(t, data, v)
	assertJSON(t, mustMarshal(t, v), data)
	return v
}

func TestUnknownGraderTypeIsKeptAndWrittenBack(t *testing.T) {
	const body = `{"grader": {"type": "regex_check", "name": "future", "pattern": "^a+$", "flags": ["i"]}}`
	res := roundTrip[openai.FineTuningAlphaGraderValidateResponse](t, body)
	if got := graderType(res.Grader); got != "unknown" {
		t.Fatalf("an unknown grader type went to member %q", got)
	}
	assertJSON(t, res.Grader.Unknown, `{"type": "regex_check", "name": "future", "pattern": "^a+$", "flags": ["i"]}`)

	// the same inside a multi grader's map, beside a known sub-grader
	const multi = `{"grader": {"type": "multi", "name": "m", "calculate_output": "a + b", "graders": {
		"a": {"type": "label_model", "name": "l", "model": "gpt-4o", "input": [{"role": "user", "content": "hi"}],
		      "labels": ["x", "y"], "passing_labels": ["x"]},
		"b": {"type": "embedding_check", "name": "e", "threshold": 0.5}}}}`
	res = roundTrip[openai.FineTuningAlphaGraderValidateResponse](t, multi)
	graders := res.Grader.OfMultiGrader.Graders
	if graders["a"].OfLabelModelGrader == nil || graders["b"].Unknown == nil {
		t.Fatalf("sub-graders parsed as %v and %v", graders["a"], graders["b"])
	}
}

func TestUnknownEnumValueIsKeptAndWrittenBack(t *testing.T) {
	const body = `{"grader": {"type": "string_check", "name": "n", "input": "i", "reference": "r", "operation": "regex"}}`
	res := roundTrip[openai.FineTuningAlphaGraderValidateResponse](t, body)
	op := res.Grader.OfStringCheckGrader.Operation
	if op != "regex" || op.IsKnown() {
		t.Fatalf("operation = %q (known: %v), want the raw unknown value", op, op.IsKnown())
	}
	if !openai.StringCheckGraderOperationIlike.IsKnown() {
		t.Fatal("a listed value is not known")
	}

	const effort = `{"grader": {"type": "score_model", "name": "s", "model": "m", "input": [{"role": "critic", "content": "x"}],
		"sampling_params": {"reasoning_effort": "ultra"}}}`
	res = roundTrip[openai.FineTuningAlphaGraderValidateResponse](t, effort)
	grader := res.Grader.OfScoreModelGrader
	if value, _ := grader.SamplingParams.ReasoningEffort.Get(); value != "ultra" || value.IsKnown() {
		t.Fatalf("reasoning_effort = %q", value)
	}
	if grader.Input[0].Role != "critic" || grader.Input[0].Role.IsKnown() {
		t.Fatalf("role = %q", grader.Input[0].Role)
	}
}

func TestUnknownPropertiesAreKeptAndWrittenBack(t *testing.T) {
	body := `{
		"reward": 0.5, "sub_rewards": {}, "model_grader_token_usage_per_model": {}, "request_cost": {"usd": 0.01},
		"metadata": {"name": "n", "type": "text_similarity", "execution_time": 0.1, "scores": {}, "region": "eu",
			"errors": ` + strings.TrimSuffix(noErrors, "}") + `, "quota_error": true}}}`
	res := roundTrip[openai.FineTuningAlphaGraderRunResponse](t, body)
	assertJSON(t, res.ExtraFields["request_cost"], `{"usd": 0.01}`)
	assertJSON(t, res.Metadata.ExtraFields["region"], `"eu"`)
	assertJSON(t, res.Metadata.Errors.ExtraFields["quota_error"], `true`)

	// pass_threshold is what real text_similarity configurations carry; "Input" is not "input"
	const grader = `{"grader": {"type": "text_similarity", "name": "t", "input": "a", "Input": "b", "reference": "r",
		"evaluation_metric": "bleu", "pass_threshold": 0.8}}`
	params := roundTrip[openai.FineTuningAlphaGraderValidateParams](t, grader)
	similarity := params.Grader.OfTextSimilarityGrader
	if similarity.Input != "a" {
		t.Fatalf("input = %q: a property matched by case only overwrote it", similarity.Input)
	}
	assertJSON(t, similarity.ExtraFields["pass_threshold"], `0.8`)
	assertJSON(t, similarity.ExtraFields["Input"], `"b"`)
}

func TestUnknownContentIsKeptAndWrittenBack(t *testing.T) {
	const body = `{"grader": {"type": "score_model", "name": "s", "model": "m", "input": [
		{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}, "text", {"type": "input_text", "text": "t"}]},
		{"role": "user", "content": 42, "type": "message"},
		{"role": "system", "content": {"type": "output_text", "text": "o", "annotations": []}}]}}`
	res := roundTrip[openai.FineTuningAlphaGraderValidateResponse](t, body)
	input := res.Grader.OfScoreModelGrader.Input
	parts := input[0].Content.OfGraderInputs
	if len(parts) != 3 || parts[0].Unknown == nil || parts[1].OfString == nil || parts[2].OfResponseInputText == nil {
		t.Fatalf("content parts parsed as %v", input[0].Content)
	}
	if input[1].Content.Unknown == nil || input[1].Type == nil || *input[1].Type != openai.EvalItemTypeMessage {
		t.Fatalf("a number content parsed as %v", input[1].Content)
	}
	out := input[2].Content.OfOutputText
	if out == nil || out.Text != "o" {
		t.Fatalf("output_text parsed as %v", input[2].Content)
	}
	assertJSON(t, out.ExtraFields["annotations"], `[]`)
}

func TestTokenUsageShapes(t *testing.T) {
	const head = `{"name": "n", "type": "score_model", "execution_time": 1, "scores": {}, "errors": ` + noErrors
	cases := map[string]struct {
		json  string
		check func(openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool
	}{
		"integer": {`, "token_usage": 324}`, func(u openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool {
			return u.OfInt != nil && *u.OfInt == 324
		}},
		"object": {`, "token_usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}`, func(u openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool {
			return u.OfModelTokenUsage != nil && u.OfModelTokenUsage.TotalTokens == 3 && u.OfModelTokenUsage.CachedTokens == nil
		}},
		"null": {`, "token_usage": null}`, func(u openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool {
			return u.Null && u.OfInt == nil && u.OfModelTokenUsage == nil
		}},
		"absent": {`}`, func(u openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool {
			return u.IsZero()
		}},
		"fraction": {`, "token_usage": 12.5}`, func(u openai.FineTuningAlphaGraderRunResponseMetadataTokenUsageUnion) bool {
			return string(u.Unknown) == "12.5"
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			metadata := roundTrip[openai.FineTuningAlphaGraderRunResponseMetadata](t, head+c.json)
			if !c.check(metadata.TokenUsage) {
				t.Fatalf("token_usage parsed as %v", metadata.TokenUsage)
			}
		})
	}
}

func TestNullAbsentAndValueStayApart(t *testing.T) {
	for _, body := range []string{
		`{"type": "input_image", "image_url": "u"}`,
		`{"type": "input_image", "image_url": "u", "file_id": null}`,
		`{"type": "input_image", "image_url": "u", "file_id": "file-1", "detail": "low"}`,
	} {
		roundTrip[openai.InputImage](t, body)
	}
	for _, body := range []string{
		`{}`,
		`{"seed": null, "top_p": null, "temperature": null, "max_completions_tokens": null, "reasoning_effort": null}`,
		`{"seed": 7, "top_p": 1, "temperature": 0, "max_completions_tokens": 0, "reasoning_effort": "low"}`,
	} {
		roundTrip[openai.SamplingParams](t, body)
	}
	const grader = `"grader": {"type": "python", "name": "p", "source": "def grade(s, i): return 1.0"}`
	for _, body := range []string{
		`{` + grader + `, "model_sample": "s"}`,
		`{` + grader + `, "model_sample": "s", "item": null}`,
		`{` + grader + `, "model_sample": "s", "item": {"label": null, "n": [1, 2.5]}}`,
	} {
		roundTrip[openai.FineTuningAlphaGraderRunParams](t, body)
	}
	var image openai.InputImage
	mustUnmarshal(t, `{"type": "input_image", "image_url": "u", "file_id": null}`, &image)
	if !image.FileID.IsNull() || image.FileID.IsZero() {
		t.Fatal("file_id: null is not an explicit null")
	}
	var params openai.SamplingParams
	mustUnmarshal(t, `{"seed": 0}`, &params)
	if seed, ok := params.Seed.Get(); !ok || seed != 0 || !params.TopP.IsZero() {
		t.Fatalf("seed %v, %v; top_p absent: %v", seed, ok, params.TopP.IsZero())
	}
}

func TestTypeTagIsWrittenForTheCaller(t *testing.T) {
	params := openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{
			OfPythonGrader: &openai.PythonGraderParam{Name: "p", Source: "def grade(sample, item): return 1.0"},
		},
		ModelSample: "sample",
	}
	assertJSON(t, mustMarshal(t, params), `{"grader": {"type": "python", "name": "p",
		"source": "def grade(sample, item): return 1.0"}, "model_sample": "sample"}`)

	content := openai.EvalItemContentUnion{OfGraderInputs: openai.GraderInputs{
		{OfString: openai.String("plain")},
		{OfResponseInputAudio: &openai.ResponseInputAudioParam{InputAudio: openai.ResponseInputAudioInputAudio{
			Data: "AAAA", Format: openai.ResponseInputAudioInputAudioFormatWAV,
		}}},
	}}
	assertJSON(t, mustMarshal(t, content), `["plain", {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]`)
}

func TestUnionNeedsExactlyOneMember(t *testing.T) {
	_, err := json.Marshal(openai.FineTuningAlphaGraderValidateParams{})
	if err == nil || !strings.Contains(err.Error(), "no member is set") {
		t.Fatalf("an empty union marshalled: %v", err)
	}
	two := openai.GraderUnion{
		OfStringCheckGrader: &openai.StringCheckGraderParam{},
		OfPythonGrader:      &openai.PythonGraderParam{},
	}
	if _, err := json.Marshal(two); err == nil || !strings.Contains(err.Error(), "2 members are set") {
		t.Fatalf("a union with two members marshalled: %v", err)
	}
	var syntax *json.SyntaxError
	if err := json.Unmarshal([]byte(`{"grader": {"type": "python", "name": 5}}`), new(openai.FineTuningAlphaGraderValidateParams)); err == nil || errors.As(err, &syntax) {
		t.Fatalf("a known member with a wrongly typed property parsed: %v", err)
	}
}

func TestUnionsPrintAsJSON(t *testing.T) {
	got := stringCheck().String()
	assertJSON(t, []byte(got), `{"input": "input", "name": "name", "operation": "eq", "reference": "reference", "type": "string_check"}`)
}
