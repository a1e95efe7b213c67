"""The grader language: template strings and the multi grader's formula, read once, for the validator
and the engine alike."""
