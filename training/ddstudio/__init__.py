"""Defect Diffusion Studio training pipeline: data, network, diffusion math, export."""
