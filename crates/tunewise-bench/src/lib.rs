//! Test functions and the benchmark harness of tunewise.
