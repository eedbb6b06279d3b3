"""Datasets: the HDF5 format, readers of measured files, preprocessing and simulated data."""
