"""Running the suite: a run's life, the embedded platform, preflight, parallel and sharded runs, re-runs, JUnit, mutants, the doctor, fuzzing, clause coverage."""
