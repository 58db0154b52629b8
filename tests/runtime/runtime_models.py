"""Small real torch models shaped like the ones people fine-tune, and the usual ways to group them."""

from __future__ import annotations

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads=2, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """Patch embedding, class token, transformer blocks, a classification head."""

    def __init__(self, dim: int = 8, depth: int = 3, classes: int = 5):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=4, stride=4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))


class TinyGPT(nn.Module):
    """A language model whose output projection is tied to the token embedding."""

    def __init__(self, vocab: int = 32, dim: int = 8, depth: int = 2):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, tokens):
        x = self.wte(tokens)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class Classifier(nn.Module):
    """A convolutional backbone, a ReLU kept as an attribute, and a linear head."""

    def __init__(self, classes: int = 4):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.act = nn.ReLU()
        self.head = nn.Linear(8, classes)

    def forward(self, images):
        return self.head(self.act(self.backbone(images)))


def decay_groups(model: nn.Module, weight_decay: float = 0.05) -> list[dict]:
    """The nanoGPT/timm split: matrices decay, biases, norms and tokens do not. One LR for both."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def differential_groups(model: TinyViT | Classifier, backbone_lr: float = 1e-5, head_lr: float = 1e-3) -> list[dict]:
    """Fine-tuning: a small LR for the pretrained body, a large one for the new head."""
    head = list(model.head.parameters())
    body = [p for p in model.parameters() if all(p is not h for h in head)]
    return [{"params": body, "lr": backbone_lr}, {"params": head, "lr": head_lr}]
