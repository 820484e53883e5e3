"""vertebrobot tests."""
