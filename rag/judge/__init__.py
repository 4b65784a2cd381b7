"""The reading judge: a cross-encoder trained on labelled pairs over papers paperchat never
answers about, shipped as int8 ONNX, and what it reads for each pair."""
