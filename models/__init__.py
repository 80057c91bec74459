"""The network side of Distillery: job hyperparameters, the student zoo, teacher and transfer-set formats,
export and the sandbox. Imports neither app nor worker, so both can use it."""
