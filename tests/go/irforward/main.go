// Command irforward runs the forward-compatibility cases made from the IR (tests/forward_cases.py):
// it parses each document as the named type, says whether the value landed where the rule puts it,
// and writes it back. test_go.py writes types.go beside it, which maps every IR type name to its Go type.
//
//	irforward cases.json results.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
)

type testCase struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Type     string          `json:"type"`
	Document json.RawMessage `json:"document"`
	Extra    string          `json:"extra"`
	Fallback string          `json:"fallback"`
}

type result struct {
	Landed  bool            `json:"landed"`
	Written json.RawMessage `json:"written,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: irforward cases.json results.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cases []testCase
	if err := json.Unmarshal(data, &cases); err != nil {
		fmt.Fprintln(os.Stderr, "cases:", err)
		os.Exit(1)
	}
	results := make(map[string]result, len(cases))
	for _, c := range cases {
		results[c.ID] = run(c)
	}
	out, err := json.Marshal(results)
	if err == nil {
		err = os.WriteFile(os.Args[2], out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(c testCase) result {
	newValue, ok := types[c.Type]
	if !ok {
		return result{Error: fmt.Sprintf("no Go type for %s", c.Type)}
	}
	value := newValue()
	if err := json.Unmarshal(c.Document, value); err != nil {
		return result{Error: fmt.Sprintf("parse as %T: %v", value, err)}
	}
	written, err := json.Marshal(value)
	if err != nil {
		return result{Error: fmt.Sprintf("write %T: %v", value, err)}
	}
	landed, err := landedAside(c, value)
	if err != nil {
		return result{Error: err.Error()}
	}
	return result{Landed: landed, Written: written}
}

// landedAside reports whether the value is kept where the rule puts what this version does not know:
// a union's fallback field, an enum value that is not known, a struct's ExtraFields.
func landedAside(c testCase, value any) (bool, error) {
	v := reflect.ValueOf(value).Elem()
	switch c.Kind {
	case "union":
		field := v.FieldByName(c.Fallback)
		if !field.IsValid() {
			return false, fmt.Errorf("%T has no field %s", value, c.Fallback)
		}
		return !field.IsNil(), nil
	case "enum":
		known, ok := value.(interface{ IsKnown() bool })
		if !ok {
			return false, fmt.Errorf("%T has no IsKnown", value)
		}
		return !known.IsKnown(), nil
	default:
		extra := v.FieldByName("ExtraFields")
		if !extra.IsValid() {
			return false, nil
		}
		return extra.MapIndex(reflect.ValueOf(c.Extra)).IsValid(), nil
	}
}
