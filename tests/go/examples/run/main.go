// The run call, written like the documented validate example of 003 (no document shows one in Go).
package main

import (
	"context"
	"fmt"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

func main() {
	client := openai.NewClient(
		option.WithAPIKey("My API Key"),
	)
	response, err := client.FineTuning.Alpha.Graders.Run(context.TODO(), openai.FineTuningAlphaGraderRunParams{
		Grader: openai.FineTuningAlphaGraderRunParamsGraderUnion{
			OfStringCheckGrader: &openai.StringCheckGraderParam{
				Input:     "input",
				Name:      "name",
				Operation: openai.StringCheckGraderOperationEq,
				Reference: "reference",
			},
		},
		ModelSample: "model_sample",
	})
	if err != nil {
		panic(err.Error())
	}
	fmt.Printf("%+v\n", response.Reward)
}
