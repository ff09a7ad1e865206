//! Generators of large inputs for the benchmarks, shared by the bench targets.
