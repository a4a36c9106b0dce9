"""Statistics on frames: cross-tab counts, exact tests, logistic models, separation, out-of-sample checks, reliability, comparison with published numbers. Frames in, frames out; no file I/O."""
