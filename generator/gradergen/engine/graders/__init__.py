"""One evaluator per kind of grader."""
