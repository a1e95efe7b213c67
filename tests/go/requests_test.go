package openai_test

import (
	"context"
	"testing"

	"github.com/openai/openai-go"
)

// The three run requests of the 002 curl examples, written with the Go types: the mock must record the
// documented bodies.

func runAndCompare(t *testing.T, params openai.FineTuningAlphaGraderRunParams, fixture string) {
	t.Helper()
	m := startMock(t)
	res, err := m.client().FineTuning.Alpha.Graders.Run(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata.Name == "" {
		t.Fatalf("answer %+v", res)
	}
	req := m.expectRequests(t, 1)[0]
	if req.Path != "/v1/fine_tuning/alpha/graders/run" {
		t.Fatalf("path %s", req.Path)
	}
	assertJSON(t, []byte(req.Body), string(readFixture(t, fixture)))
}

func userMessage(parts ...openai.GraderInputItemUnion) openai.EvalItem {
	return openai.EvalItem{
		Role:    openai.EvalItemRoleUser,
		Content: openai.EvalItemContentUnion{OfGraderInputs: parts},
	}
}

func inputText(text string) openai.GraderInputItemUnion {
	return openai.GraderInputItemUnion{OfResponseInputText: &openai.ResponseInputTextParam{Text: text}}
}

func TestRunScoreModelText(t *testing.T) {
	runAndCompare(t, openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{OfScoreModelGrader: &openai.ScoreModelGraderParam{
			Name: "Example score model grader",
			Input: []openai.EvalItem{userMessage(inputText("Score how close the reference answer is to the model answer " +
				"on a 0-1 scale. Return only the score.\n\nReference answer: {{item.reference_answer}}\n\n" +
				"Model answer: {{sample.output_text}}"))},
			Model: "gpt-5-mini",
			SamplingParams: &openai.SamplingParams{
				Temperature: openai.Value(1.0),
				TopP:        openai.Value(1.0),
				Seed:        openai.Value[int64](42),
			},
		}},
		Item:        map[string]any{"reference_answer": "fuzzy wuzzy was a bear"},
		ModelSample: "fuzzy wuzzy was a bear",
	}, "requests/run/002_curl_score_model_text.json")
}

func TestRunScoreModelImage(t *testing.T) {
	runAndCompare(t, openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{OfScoreModelGrader: &openai.ScoreModelGraderParam{
			Name: "Image caption grader",
			Input: []openai.EvalItem{userMessage(
				inputText("Score how well the provided caption matches the image on a 0-1 scale. Only return the "+
					"score.\n\nCaption: {{sample.output_text}}"),
				openai.GraderInputItemUnion{OfInputImage: &openai.InputImageParam{
					ImageURL: "https://example.com/dog-catching-ball.png",
					FileID:   openai.Null[string](),
					Detail:   openai.String("high"),
				}},
			)},
			Model:          "gpt-5-mini",
			SamplingParams: &openai.SamplingParams{Temperature: openai.Value(0.2)},
		}},
		Item:        map[string]any{"expected_caption": "A golden retriever jumps to catch a tennis ball"},
		ModelSample: "A dog leaps to grab a tennis ball mid-air",
	}, "requests/run/002_curl_score_model_image.json")
}

func TestRunScoreModelAudio(t *testing.T) {
	runAndCompare(t, openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{OfScoreModelGrader: &openai.ScoreModelGraderParam{
			Name: "Audio clarity grader",
			Input: []openai.EvalItem{userMessage(
				inputText("Listen to the clip and return a confidence score from 0 to 1 that the speaker said: "+
					"{{item.target_phrase}}"),
				openai.GraderInputItemUnion{OfResponseInputAudio: &openai.ResponseInputAudioParam{
					InputAudio: openai.ResponseInputAudioInputAudio{
						Data:   "{{item.audio_clip_b64}}",
						Format: openai.ResponseInputAudioInputAudioFormatMP3,
					},
				}},
			)},
			Model: "gpt-audio",
			SamplingParams: &openai.SamplingParams{
				Temperature: openai.Value(0.2),
				TopP:        openai.Value(1.0),
				Seed:        openai.Value[int64](123),
			},
		}},
		Item: map[string]any{
			"target_phrase":  "Please deliver the package on Tuesday",
			"audio_clip_b64": "<base64-encoded mp3>",
		},
		ModelSample: "Please deliver the package on Tuesday",
	}, "requests/run/002_curl_score_model_audio.json")
}
