"""Generated inputs, for the demo, the tests and the benchmarks; the pipeline never imports them.

- `demo`: the demo estate (`costledger demo`), three months of every input with the truth a
  correct pipeline must reproduce;
- `formats`: the demo's billing rendered as each provider's export format;
- `scale`: one month at benchmark scale (`costledger generate`, benchmarks/scale.py)."""
