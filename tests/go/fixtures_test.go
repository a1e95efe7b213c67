package openai_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/openai/openai-go"
)

type fixtureEntry struct {
	File string `json:"file"`
	Kind string `json:"kind"`
}

// fixtureEntries lists tests/fixtures/index.json and, as kind "error", tests/fixtures/errors/index.json;
// FIXTURE and FIXTURE_KIND narrow it to one.
func fixtureEntries(t *testing.T) []fixtureEntry {
	t.Helper()
	if file := os.Getenv("FIXTURE"); file != "" {
		return []fixtureEntry{{File: file, Kind: os.Getenv("FIXTURE_KIND")}}
	}
	var entries, errorEntries []fixtureEntry
	if err := json.Unmarshal(readFixture(t, "index.json"), &entries); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readFixture(t, "errors/index.json"), &errorEntries); err != nil {
		t.Fatal(err)
	}
	for _, e := range errorEntries {
		entries = append(entries, fixtureEntry{File: e.File, Kind: "error"})
	}
	return entries
}

// newOfKind is the type a fixture of this kind parses into.
func newOfKind(t *testing.T, kind string) any {
	t.Helper()
	switch kind {
	case "run_request":
		return new(openai.FineTuningAlphaGraderRunParams)
	case "validate_request":
		return new(openai.FineTuningAlphaGraderValidateParams)
	case "run_response":
		return new(openai.FineTuningAlphaGraderRunResponse)
	case "validate_response":
		return new(openai.FineTuningAlphaGraderValidateResponse)
	case "error":
		return new(openai.ErrorResponse)
	}
	t.Fatalf("unknown fixture kind %q", kind)
	return nil
}

// TestFixtureRoundTrip parses every documented example into its type, checks that every part of it
// landed in a typed field, and writes it back: the JSON must be the same. With ROUNDTRIP_OUT set, the
// written JSON also goes to that file, for the Python side to compare.
func TestFixtureRoundTrip(t *testing.T) {
	for _, entry := range fixtureEntries(t) {
		t.Run(filepath.Base(entry.File), func(t *testing.T) {
			original := readFixture(t, entry.File)
			value := newOfKind(t, entry.Kind)
			if err := json.Unmarshal(original, value); err != nil {
				t.Fatalf("parse %s as %T: %v", entry.File, value, err)
			}
			assertFullyTyped(t, reflect.ValueOf(value), reflect.TypeOf(value).Elem().Name())
			checkGraderMember(t, original, value)
			written := mustMarshal(t, value)
			if out := os.Getenv("ROUNDTRIP_OUT"); out != "" {
				if err := os.WriteFile(out, written, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !jsonEqual(t, written, original) {
				t.Fatalf("%s changed on a round trip through %T\n got: %s\nwant: %s", entry.File, value, written, original)
			}
		})
	}
}

// assertFullyTyped fails on any value the generated types did not recognise: a non-empty ExtraFields,
// a union's Unknown, or an enum value outside the spec's list. Documented examples have none.
func assertFullyTyped(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if isKnown := v.MethodByName("IsKnown"); isKnown.IsValid() && v.Kind() == reflect.String {
		if !isKnown.Call(nil)[0].Bool() {
			t.Errorf("%s: enum value %q is not one the spec lists", path, v.String())
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			assertFullyTyped(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			field, name := v.Field(i), v.Type().Field(i).Name
			if !v.Type().Field(i).IsExported() {
				continue
			}
			switch {
			case name == "ExtraFields" && field.Len() > 0:
				t.Errorf("%s: properties outside the spec: %v", path, field.MapKeys())
			case name == "Unknown" && !field.IsNil():
				t.Errorf("%s: no union member matched %s", path, field.Bytes())
			default:
				assertFullyTyped(t, field, path+"."+name)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			assertFullyTyped(t, v.Index(i), path)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			assertFullyTyped(t, iter.Value(), path+"["+iter.Key().String()+"]")
		}
	}
}

// checkGraderMember checks that a grader went to the member its "type" names.
func checkGraderMember(t *testing.T, original []byte, value any) {
	t.Helper()
	var grader openai.GraderUnion
	switch v := value.(type) {
	case *openai.FineTuningAlphaGraderRunParams:
		grader = v.Grader
	case *openai.FineTuningAlphaGraderValidateParams:
		grader = v.Grader
	case *openai.FineTuningAlphaGraderValidateResponse:
		grader = v.Grader
	default:
		return
	}
	var raw struct {
		Grader struct {
			Type string `json:"type"`
		} `json:"grader"`
	}
	if err := json.Unmarshal(original, &raw); err != nil {
		t.Fatal(err)
	}
	if got := graderType(grader); got != raw.Grader.Type {
		t.Fatalf("a %q grader parsed as member %q", raw.Grader.Type, got)
	}
}

// graderType names the member that is set by the tag it stands for.
func graderType(u openai.GraderUnion) string {
	switch {
	case u.OfStringCheckGrader != nil:
		return "string_check"
	case u.OfTextSimilarityGrader != nil:
		return "text_similarity"
	case u.OfPythonGrader != nil:
		return "python"
	case u.OfScoreModelGrader != nil:
		return "score_model"
	case u.OfMultiGrader != nil:
		return "multi"
	case u.Unknown != nil:
		return "unknown"
	}
	return "none"
}

// TestLiveResponseShapes: the live run response of 002 has a token_usage object and null error details.
func TestLiveResponseShapes(t *testing.T) {
	var res openai.FineTuningAlphaGraderRunResponse
	if err := json.Unmarshal(readFixture(t, "responses/run/002_score_model_live.json"), &res); err != nil {
		t.Fatal(err)
	}
	usage := res.Metadata.TokenUsage.OfModelTokenUsage
	if usage == nil || usage.PromptTokens != 190 || usage.CompletionTokens != 134 || usage.TotalTokens != 324 {
		t.Fatalf("token_usage = %v, want the usage object", res.Metadata.TokenUsage)
	}
	if usage.CachedTokens == nil || *usage.CachedTokens != 0 {
		t.Fatalf("cached_tokens = %v, want a present 0", usage.CachedTokens)
	}
	errs := res.Metadata.Errors
	if errs.PythonGraderServerErrorType != nil || errs.PythonGraderRuntimeErrorDetails != nil || errs.ModelGraderServerErrorDetails != nil {
		t.Fatal("null error details did not parse as nil")
	}
	if name, ok := res.Metadata.SampledModelName.Get(); !ok || name != "gpt-4o-2024-08-06" {
		t.Fatalf("sampled_model_name = %q, %v", name, ok)
	}
	if res.Reward != 1 || res.Metadata.ExecutionTime != 4.365238428115845 {
		t.Fatalf("reward %v, execution_time %v", res.Reward, res.Metadata.ExecutionTime)
	}
	written := mustMarshal(t, res.Metadata.Errors)
	var back map[string]json.RawMessage
	if err := json.Unmarshal(written, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"python_grader_server_error_type", "python_grader_runtime_error_details", "model_grader_server_error_details"} {
		if value, present := back[key]; !present || string(value) != "null" {
			t.Errorf("%s written as %s, want null", key, value)
		}
	}
}

// TestImageRequestKeepsNullFileID: the 002 image request's "file_id": null parses as an explicit null.
func TestImageRequestKeepsNullFileID(t *testing.T) {
	var params openai.FineTuningAlphaGraderRunParams
	if err := json.Unmarshal(readFixture(t, "requests/run/002_curl_score_model_image.json"), &params); err != nil {
		t.Fatal(err)
	}
	grader := params.Grader.OfScoreModelGrader
	if grader == nil || len(grader.Input) != 1 {
		t.Fatalf("grader = %v", params.Grader)
	}
	parts := grader.Input[0].Content.OfGraderInputs
	if len(parts) != 2 || parts[0].OfResponseInputText == nil || parts[1].OfInputImage == nil {
		t.Fatalf("content = %v", grader.Input[0].Content)
	}
	image := parts[1].OfInputImage
	if !image.FileID.IsNull() {
		t.Fatal("file_id: null did not parse as null")
	}
	if image.Detail == nil || *image.Detail != "high" {
		t.Fatalf("detail = %v", image.Detail)
	}
	if temperature, ok := grader.SamplingParams.Temperature.Get(); !ok || temperature != 0.2 {
		t.Fatalf("temperature = %v, %v", temperature, ok)
	}
	if !grader.SamplingParams.Seed.IsZero() {
		t.Fatal("an absent seed parsed as present")
	}
}
