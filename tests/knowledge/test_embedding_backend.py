"""The default embedder runs the int8 ONNX path, and its vectors agree with the torch model's."""

import numpy as np

from knowledge.search.embedding import Embedder


def test_default_embedder_uses_onnx_int8_and_matches_torch():
    texts = ["pottery class for beginners", "free English lessons on weekends", "图书馆自习室"]
    onnx = Embedder()
    assert onnx.backend == "onnx-int8", "onnxruntime missing? search would run 3-5x slower"
    torch = Embedder(backend="torch")
    agreement = np.sum(onnx.encode(texts) * torch.encode(texts), axis=1)
    # int8 quantisation drifts a little (most on text the English model barely knows).
    assert agreement.min() > 0.85, agreement
    assert agreement.mean() > 0.9, agreement
