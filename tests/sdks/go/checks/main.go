// Command checks calls the graders server with the official Go SDK and prints, one JSON object per
// line, what the SDK made of each answer. tests/test_official_sdks.py runs it and judges the lines;
// nothing here decides what is right.
//
// Environment: GRADERS_BASE_URL (the server's base URL, ending in /v1) and OPENAI_API_KEY.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
)

// report is one check's outcome: what the SDK parsed, or the error it gave.
type report struct {
	Check  string         `json:"check"`
	Error  string         `json:"error,omitempty"`
	Values map[string]any `json:"values,omitempty"`
}

func emit(r report) {
	line, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "checks: cannot encode the report of %s: %v\n", r.Check, err)
		os.Exit(2)
	}
	fmt.Println(string(line))
}

func main() {
	baseURL := os.Getenv("GRADERS_BASE_URL")
	if baseURL == "" {
		fmt.Fprintln(os.Stderr, "checks: set GRADERS_BASE_URL to the server's base URL (…/v1)")
		os.Exit(2)
	}
	client := openai.NewClient(option.WithBaseURL(baseURL), option.WithMaxRetries(0))
	ctx := context.Background()
	emit(runStringCheck(ctx, client))
	emit(validateMultiMap(ctx, client))
	emit(runMultiMap(ctx, client))
	emit(runScoreModel(ctx, client))
}

func stringCheck(name string) *openai.StringCheckGraderParam {
	return &openai.StringCheckGraderParam{
		Input:     "{{sample.output_text}}",
		Name:      name,
		Operation: openai.StringCheckGraderOperationEq,
		Reference: "{{item.label}}",
	}
}

func runStringCheck(ctx context.Context, client openai.Client) report {
	r := report{Check: "run_string_check"}
	response, err := client.FineTuning.Alpha.Graders.Run(ctx, openai.FineTuningAlphaGraderRunParams{
		Grader:      openai.FineTuningAlphaGraderRunParamsGraderUnion{OfStringCheck: stringCheck("exact label")},
		ModelSample: "Paris",
		Item:        map[string]any{"label": "Paris"},
	})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Values = map[string]any{
		"reward":                    response.Reward,
		"name":                      response.Metadata.Name,
		"type":                      response.Metadata.Type,
		"token_usage":               response.Metadata.TokenUsage,
		"token_usage_raw":           response.Metadata.JSON.TokenUsage.Raw(),
		"sampled_model_name":        response.Metadata.SampledModelName,
		"sampled_model_name_raw":    response.Metadata.JSON.SampledModelName.Raw(),
		"runtime_error_details":     response.Metadata.Errors.PythonGraderRuntimeErrorDetails,
		"runtime_error_details_raw": response.Metadata.Errors.JSON.PythonGraderRuntimeErrorDetails.Raw(),
	}
	return r
}

// multiGrader is a multi grader whose graders are a map, as the service takes them. The SDK types
// MultiGraderParam.Graders as one grader, so the map goes in through param.Override.
func multiGrader() *openai.MultiGraderParam {
	graders := map[string]any{
		"exact": stringCheck("exact label"),
		"close": openai.TextSimilarityGraderParam{
			EvaluationMetric: openai.TextSimilarityGraderEvaluationMetricFuzzyMatch,
			Input:            "{{sample.output_text}}",
			Name:             "close label",
			Reference:        "{{item.label}}",
		},
	}
	return &openai.MultiGraderParam{
		CalculateOutput: "0.5 * exact + 0.5 * close",
		Graders:         param.Override[openai.MultiGraderGradersUnionParam](graders),
		Name:            "label",
	}
}

func validateMultiMap(ctx context.Context, client openai.Client) report {
	r := report{Check: "validate_multi_map"}
	response, err := client.FineTuning.Alpha.Graders.Validate(ctx, openai.FineTuningAlphaGraderValidateParams{
		Grader: openai.FineTuningAlphaGraderValidateParamsGraderUnion{OfMultiGrader: multiGrader()},
	})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	multi := response.Grader.AsMultiGrader()
	r.Values = map[string]any{
		"type":                   response.Grader.Type,
		"calculate_output":       multi.CalculateOutput,
		"graders_type":           multi.Graders.Type,
		"graders_name":           multi.Graders.Name,
		"graders_input":          multi.Graders.Input.OfString,
		"graders_raw":            multi.Graders.RawJSON(),
		"graders_as_string_name": multi.Graders.AsStringCheckGrader().Name,
	}
	return r
}

func runMultiMap(ctx context.Context, client openai.Client) report {
	r := report{Check: "run_multi_map"}
	response, err := client.FineTuning.Alpha.Graders.Run(ctx, openai.FineTuningAlphaGraderRunParams{
		Grader:      openai.FineTuningAlphaGraderRunParamsGraderUnion{OfMulti: multiGrader()},
		ModelSample: "Paris",
		Item:        map[string]any{"label": "Paris"},
	})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Values = map[string]any{
		"reward":      response.Reward,
		"type":        response.Metadata.Type,
		"sub_rewards": response.SubRewards,
	}
	return r
}

// runScoreModel asks for a score_model grade; the server answers in the live shape, with token usage
// as an object.
func runScoreModel(ctx context.Context, client openai.Client) report {
	r := report{Check: "run_score_model"}
	response, err := client.FineTuning.Alpha.Graders.Run(ctx, openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{OfScoreModel: &openai.ScoreModelGraderParam{
			Input: []openai.ScoreModelGraderInputParam{{
				Role: "user",
				Content: openai.ScoreModelGraderInputContentUnionParam{
					OfString: param.NewOpt("Score how close the answer {{sample.output_text}} is to {{item.label}}."),
				},
			}},
			Model: "gpt-4o-2024-08-06",
			Name:  "judge",
		}},
		ModelSample: "Paris",
		Item:        map[string]any{"label": "Paris"},
	})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Values = map[string]any{
		"reward":                     response.Reward,
		"token_usage":                response.Metadata.TokenUsage,
		"token_usage_raw":            response.Metadata.JSON.TokenUsage.Raw(),
		"token_usage_valid":          response.Metadata.JSON.TokenUsage.Valid(),
		"sampled_model_name":         response.Metadata.SampledModelName,
		"usage_per_model":            response.ModelGraderTokenUsagePerModel,
		"model_server_error_details": response.Metadata.Errors.ModelGraderServerErrorDetails,
	}
	return r
}
