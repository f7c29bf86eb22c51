"""Attention flow's cost by model size: python bench/flow_cost.py

Captures one image's attention from random-init timm ViTs of several sizes and times
the max-flow map (one SciPy Dinic solve per patch), beside one bare forward.
Random-init attention is near uniform: the densest graph, so these are upper bounds.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image

import explorer
from explorer.analyses import attention_flow
from explorer.analyses.attention_flow import flow_graph

MODELS = [("vit_tiny_patch16_224", {}), ("vit_small_patch16_224", {}), ("vit_base_patch16_224", {}),
          ("vit_base_patch32_224", {}), ("vit_large_patch16_224", {}), ("vit_base_patch16_384", {})]


def main() -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (384, 384, 3), dtype=np.uint8))
    print("| model | blocks x tokens | graph edges | one forward (s) | flow map (s) | per patch (ms) | x forward |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, kwargs in MODELS:
        model = explorer.load(name, pretrained=False, device="cpu", **kwargs)
        trace = model.run(image)
        x = model.input_tensor(trace.input_image)
        model.predict(x)
        start = time.perf_counter()
        model.predict(x)
        forward = time.perf_counter() - start
        graph, _ = flow_graph(trace.attentions, trace.num_prefix_tokens)
        start = time.perf_counter()
        attention_flow(trace.attentions, trace.grid, trace.num_prefix_tokens)
        flow = time.perf_counter() - start
        patches = trace.grid[0] * trace.grid[1]
        print(f"| {name} | {trace.num_blocks} x {trace.attentions.shape[-1]} | {graph.nnz:,} | {forward:.3f} | "
              f"{flow:.1f} | {1000 * flow / patches:.1f} | {flow / forward:.0f} |", flush=True)
        del model, trace
        torch.cuda.empty_cache() if torch.cuda.is_available() else None


if __name__ == "__main__":
    main()
