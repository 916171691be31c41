//! Deterministic synthetic provider files for demos, tests and benchmarks.

pub mod rng;
