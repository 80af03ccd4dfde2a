"""keiko's bridge to experiment trackers (W&B, MLflow, TensorBoard), fed JSON lines on stdin."""
