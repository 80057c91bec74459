"""The network side of Distillery: the student zoo, teacher formats, transfer-set formats, export."""
