"""The pure types and the network side of Distillery: the job's spec, hyperparameters and statuses, the student
zoo, teacher and transfer-set formats, export and the sandbox. Imports neither app nor worker, so both use it."""
