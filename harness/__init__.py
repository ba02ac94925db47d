"""What the tests and the benchmarks both use: a real browser on the running app (`browser`) and
synthetic canvas drawings of MNIST digits (`drawings`). Not part of the product."""
