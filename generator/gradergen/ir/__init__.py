"""Spec → IR: the decisions every language shares."""
