"""The BiLSTM text student (Tang et al. 2019), in its own module because it needs torch at import and
``models.text.students`` (the specs) must not."""

import torch
from torch import nn


class BiLSTMClassifier(nn.Module):
    """ids ``[batch, seq_len]`` → embeddings → BiLSTM → max over the unpadded positions → linear → logits."""

    BATCHES_MEMBERS = False  # pack_padded_sequence reads lengths with .item(): vmap cannot batch members of it

    def __init__(self, vocab_size: int, num_labels: int, pad_token_id: int, *, embedding_dim: int = 128,
                 hidden_size: int = 256, layers: int = 1, dropout: float = 0.1):
        super().__init__()
        self.pad_token_id = int(pad_token_id)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=self.pad_token_id)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden_size, num_labels)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids.long()
        mask = ids != self.pad_token_id
        # packed, so the backward direction starts at each row's last token, not at its padding: the logits do not
        # depend on how much padding a batch has (collate_ids trims batches to different widths)
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                                   enforce_sorted=False)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True,
                                                     total_length=ids.shape[1])
        hidden = hidden.masked_fill(~mask.unsqueeze(-1), torch.finfo(hidden.dtype).min)
        pooled = hidden.amax(dim=1)
        pooled = torch.where(mask.any(dim=1, keepdim=True), pooled, torch.zeros_like(pooled))  # all-pad rows
        return self.head(self.dropout(pooled))
